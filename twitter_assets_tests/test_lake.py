import json
import multiprocessing
from datetime import date

import pytest

from twitter_assets.lake import Lake, LakeError

DAY = date(2026, 11, 20)
PAGES = [{"data": [{"id": "1", "text": "olá"}], "meta": {"result_count": 1}}, {"meta": {"result_count": 0}}]


def test_raw_day_round_trip_is_verbatim(tmp_path):
    lake = Lake(root=str(tmp_path))
    path = lake.write_raw_day("aluraonline", DAY, PAGES, {"query": "AluraOnline"})
    assert path == tmp_path / "raw" / "source=aluraonline" / "day=2026-11-20" / "pages.ndjson"
    assert [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] == PAGES
    landed = lake.read_raw_day("aluraonline", DAY)
    assert landed.pages == PAGES and landed.tweet_count == 1
    assert landed.manifest["query"] == "AluraOnline" and landed.manifest["page_count"] == 2
    assert not list(path.parent.glob("*.tmp"))


def test_nothing_landed_reads_as_none(tmp_path):
    assert Lake(root=str(tmp_path)).read_raw_day("aluraonline", DAY) is None


def test_torn_landing_is_detected(tmp_path):
    lake = Lake(root=str(tmp_path))
    lake.write_raw_day("aluraonline", DAY, PAGES, {})
    lake.raw_pages_path("aluraonline", DAY).write_text('{"meta": {"result_count": 0}}\n')
    with pytest.raises(LakeError, match="re-materialize the raw partition 2026-11-20"):
        lake.read_raw_day("aluraonline", DAY)


def test_source_names_are_validated_before_building_paths(tmp_path):
    with pytest.raises(ValueError, match="slug"):
        Lake(root=str(tmp_path)).raw_day_dir("../etc", DAY)


def _hold_lock(root: str, ready, release) -> None:
    with Lake(root=root).connect():
        ready.set()
        release.wait(30)


def test_connection_waits_for_another_process_and_times_out_clearly(tmp_path):
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_lock, args=(str(tmp_path), ready, release))
    holder.start()
    try:
        assert ready.wait(60)
        with pytest.raises(LakeError, match="another run holds the database"):
            with Lake(root=str(tmp_path), lock_timeout_seconds=0.2).connect():
                pass
    finally:
        release.set()
        holder.join(30)
    with Lake(root=str(tmp_path), lock_timeout_seconds=5).connect() as db:
        assert db.execute("SELECT 1").fetchone() == (1,)
