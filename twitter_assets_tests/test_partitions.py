from datetime import date, datetime, timedelta, timezone

import pytest

from twitter_assets.partitions import (
    PARTITIONS_START_ENV,
    OutsideApiWindowError,
    api_window,
    build_daily_partitions,
    default_partitions_start,
    fetch_window,
    format_api_time,
    partitions_start,
)
from twitter_assets.sources import SOURCES_FILE_ENV

NOW = datetime(2026, 11, 24, 10, 30, 5, tzinfo=timezone.utc)


def test_partition_keys_are_utc_days_up_to_today_partial_day():
    keys = build_daily_partitions(date(2026, 11, 1)).get_partition_keys(current_time=NOW)
    assert keys[0] == "2026-11-01" and keys[-1] == "2026-11-24"  # today's partial day is a partition


def test_default_start_is_the_oldest_day_recent_search_still_reaches():
    assert default_partitions_start(NOW) == date(2026, 11, 17)  # fetched clamped, from 10:32 on
    keys = build_daily_partitions(default_partitions_start(NOW)).get_partition_keys(current_time=NOW)
    assert keys == [f"2026-11-{day}" for day in range(17, 25)]  # no day that can never be filled


def test_start_setting_env_wins_over_the_sources_file(monkeypatch, tmp_path):
    sources = tmp_path / "sources.yaml"
    sources.write_text("start: 2026-10-01\nsources: [{name: a, query: a}]\n", encoding="utf-8")
    monkeypatch.setenv(SOURCES_FILE_ENV, str(sources))
    monkeypatch.setenv("TWITTER_LAKE_DIR", str(tmp_path / "lake"))  # nothing landed: the clock decides
    monkeypatch.delenv(PARTITIONS_START_ENV)
    assert partitions_start(NOW) == date(2026, 10, 1)
    monkeypatch.setenv(PARTITIONS_START_ENV, "2026-09-15")
    assert partitions_start(NOW) == date(2026, 9, 15)
    sources.write_text("sources: [{name: a, query: a}]\n", encoding="utf-8")
    monkeypatch.delenv(PARTITIONS_START_ENV)
    assert partitions_start(NOW) == date(2026, 11, 17)


def test_full_archive_endpoint_reaches_old_days_whole():
    window = fetch_window(date(2021, 12, 10), NOW, "all")
    assert not window.clamped and window.start == datetime(2021, 12, 10, tzinfo=timezone.utc)
    with pytest.raises(OutsideApiWindowError, match="older than full-archive search"):
        fetch_window(date(2006, 3, 20), NOW, "all")


def test_day_inside_window_is_the_whole_day():
    window = fetch_window(date(2026, 11, 20), NOW)
    assert (window.start, window.end) == (
        datetime(2026, 11, 20, tzinfo=timezone.utc),
        datetime(2026, 11, 21, tzinfo=timezone.utc),
    )
    assert not window.clamped


def test_day_partly_outside_is_clamped_to_the_window_start():
    window = fetch_window(date(2026, 11, 17), NOW)
    assert window.clamped
    assert window.start == api_window(NOW)[0] > datetime(2026, 11, 17, 10, 30, tzinfo=timezone.utc)
    assert window.end == datetime(2026, 11, 18, tzinfo=timezone.utc)


def test_today_ends_at_least_ten_seconds_before_now():
    window = fetch_window(date(2026, 11, 24), NOW)
    assert window.clamped and window.end <= NOW - timedelta(seconds=10)


@pytest.mark.parametrize("day", [date(2026, 11, 16), date(2021, 12, 10)])
def test_day_wholly_outside_the_window_is_refused(day):
    with pytest.raises(OutsideApiWindowError, match="can no longer be fetched.*`endpoint: all`"):
        fetch_window(day, NOW)


def test_future_day_is_refused():
    with pytest.raises(OutsideApiWindowError, match="has not started"):
        fetch_window(date(2026, 11, 25), NOW)


def test_api_time_format_has_z_and_seconds():
    assert format_api_time(datetime(2026, 11, 20, 1, 2, 3, 456, tzinfo=timezone.utc)) == "2026-11-20T01:02:03Z"


def test_default_start_reaches_back_to_the_oldest_landed_day(monkeypatch, tmp_path):
    """Every process computes the start at import: from the clock alone, a code server loaded yesterday
    asks for a day a run process started today refuses, and landed days drop out of the UI a week
    later. The oldest landed day is the same for every process."""
    from twitter_assets.lake import LAKE_DIR_ENV, Lake

    monkeypatch.delenv(PARTITIONS_START_ENV, raising=False)
    monkeypatch.setenv(LAKE_DIR_ENV, str(tmp_path))
    assert partitions_start(NOW) == date(2026, 11, 17)  # an empty lake: the window's oldest day
    (tmp_path / "raw" / "source=alura" / "day=2026-10-30").mkdir(parents=True)  # a killed landing: no manifest
    assert partitions_start(NOW) == date(2026, 11, 17)
    Lake(root=str(tmp_path)).write_raw_day("alura", date(2026, 11, 2), [{"meta": {"result_count": 0}}], {})
    assert partitions_start(NOW) == date(2026, 11, 2)
    later = NOW + timedelta(days=3)  # the same start three days later, in a fresh process
    assert partitions_start(later) == date(2026, 11, 2)


def test_a_full_archive_history_is_backfilled_a_month_per_run_and_recent_days_in_one():
    """Years of `endpoint: all` days in one run were one run of hours, retried whole; recent search's
    seven days stay one run (one range, one request budget)."""
    from dagster import BackfillPolicy

    from twitter_assets.assets.raw import build_raw_search_asset
    from twitter_assets.sources import Source

    history = build_raw_search_asset(Source(name="history", query="AluraOnline", endpoint="all"))
    recent = build_raw_search_asset(Source(name="recent", query="AluraOnline"))
    assert history.backfill_policy == BackfillPolicy.multi_run(max_partitions_per_run=31)
    assert recent.backfill_policy == BackfillPolicy.single_run()
