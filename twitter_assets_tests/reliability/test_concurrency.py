"""Concurrency: runs for different days, two runs for the same day, and a reader holding
`twitter.duckdb` (`duckdb.connect(path, read_only=True)`, like a notebook), all at once in separate
processes through the documented CLI on one Dagster instance. Every run ends well, no DuckDB lock
error reaches the user, and no row is lost or doubled. Also measures how long a writer waits
behind a reader (build/reliability-concurrency.json, quoted in the README)."""

from __future__ import annotations

import json
import multiprocessing
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from twitter_assets.simulator import SimulatorServer, SyntheticCorpus
from twitter_assets_tests.reliability.support import distinct_tweets_in_day, expected_pages
from twitter_assets_tests.reliability.test_crash import Cli

pytestmark = pytest.mark.reliability

TOKEN = "crash-test-token"
SELECT = "raw/aluraonline,silver/tweets,silver/users,gold/daily_interactions"
FIGURES = Path(__file__).resolve().parents[2] / "build" / "reliability-concurrency.json"
LOCK_WORDS = ("Could not set lock", "IOException", "IO Error", "Conflicting lock")


def _hold(path: str, ready, release) -> None:
    reader = duckdb.connect(path, read_only=True)
    reader.execute("SELECT count(*) FROM silver.tweets").fetchone()
    ready.set()
    release.wait(600)
    reader.close()


def test_concurrent_runs_and_a_reader_end_well_without_lost_or_doubled_rows(tmp_path, make_x_api):
    today = datetime.now(timezone.utc).date()
    days = [today - timedelta(days=n) for n in (4, 3, 2)]
    with SimulatorServer(SyntheticCorpus(), bearer_tokens={TOKEN}) as server:
        cli = Cli(tmp_path, server.base_url)
        cli.run("raw/aluraonline,silver/tweets", days[0], days[0])  # the database exists, gold not yet

        context = multiprocessing.get_context("spawn")
        ready, release = context.Event(), context.Event()
        holder = context.Process(target=_hold, args=(str(cli.lake.database_path), ready, release))
        holder.start()
        try:
            assert ready.wait(60)
            started = time.monotonic()
            runs = [cli.start(SELECT, day, day) for day in days] + [cli.start(SELECT, days[2], days[2])]
            outputs = [process.communicate(timeout=600)[0].decode() for process in runs]
            wall = time.monotonic() - started
            assert holder.is_alive(), "the reader let go before the runs ended: the test proves nothing"
        finally:
            release.set()
            holder.join(60)
        for process, output in zip(runs, outputs, strict=True):
            assert process.returncode == 0, output[-4000:]
            leaked = [word for word in LOCK_WORDS if word in output]
            assert not leaked, f"a DuckDB lock error reached the user: {leaked}\n{output[-3000:]}"

        calm = make_x_api(simulator=server, bearer_token=TOKEN)
        expected = 0
        for day in days:
            manifest = cli.lake.read_manifest("aluraonline", day)
            expected += len(distinct_tweets_in_day(expected_pages(calm, manifest), day))
    with cli.lake.connect() as db:
        assert db.execute("SELECT count(*), count(DISTINCT tweet_id) FROM silver.tweets").fetchone() == (
            expected,
            expected,
        )
        assert db.execute("SELECT count(*) FROM gold.daily_interactions").fetchone() == (3,)
    # the views were published once the reader let go, on the next write: a reader sees gold
    cli.lake.publish_catalog()
    with duckdb.connect(str(cli.lake.database_path), read_only=True) as reader:
        assert reader.execute("SELECT count(*) FROM gold.daily_interactions").fetchone() == (3,)

    FIGURES.parent.mkdir(exist_ok=True)
    FIGURES.write_text(
        json.dumps({"concurrent_runs": len(runs), "same_day_runs": 2, "wall_seconds": round(wall, 1)}, indent=2)
    )


def test_a_writer_waits_for_no_reader(tmp_path, pipeline):
    """How long the lake's writers wait behind a process holding `twitter.duckdb` read-only."""
    day = datetime.now(timezone.utc).date() - timedelta(days=1)
    assert pipeline.backfill(day, day).success
    lake = pipeline.lake
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold, args=(str(lake.database_path), ready, release))
    holder.start()
    try:
        assert ready.wait(60)
        with lake.connect() as db:
            rows = db.execute("SELECT * FROM silver.tweets").to_arrow_table()
        started = time.monotonic()
        lake.write_partition("silver.tweets", "aluraonline", day, rows)
        partition_wait = time.monotonic() - started
        started = time.monotonic()
        published = lake.publish_catalog()
        catalog_wait = time.monotonic() - started
        started = time.monotonic()
        with pytest.raises(duckdb.IOException):  # what a writer opening the file itself would meet
            duckdb.connect(str(lake.database_path))
        raw_duckdb_wait = time.monotonic() - started
    finally:
        release.set()
        holder.join(60)
    assert published is False  # skipped with a warning, not an error
    assert partition_wait < 5 and catalog_wait < 5
    figures = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    figures |= {
        "partition_write_seconds_while_reader_holds": round(partition_wait, 3),
        "catalog_publish_seconds_while_reader_holds": round(catalog_wait, 3),
        "raw_duckdb_open_fails_after_seconds": round(raw_duckdb_wait, 3),
    }
    FIGURES.parent.mkdir(exist_ok=True)
    FIGURES.write_text(json.dumps(figures, indent=2))
