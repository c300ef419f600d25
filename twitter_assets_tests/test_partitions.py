from datetime import date, datetime, timedelta, timezone

import pytest

from twitter_assets.partitions import OutsideApiWindowError, api_window, daily_partitions, fetch_window, format_api_time

NOW = datetime(2026, 11, 24, 10, 30, 5, tzinfo=timezone.utc)


def test_partition_keys_are_utc_days():
    keys = daily_partitions.get_partition_keys(current_time=NOW)
    assert keys[0] == "2026-11-01" and keys[-1] == "2026-11-23"  # today is not complete yet


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
    with pytest.raises(OutsideApiWindowError, match="can no longer be fetched"):
        fetch_window(day, NOW)


def test_future_day_is_refused():
    with pytest.raises(OutsideApiWindowError, match="has not started"):
        fetch_window(date(2026, 11, 25), NOW)


def test_api_time_format_has_z_and_seconds():
    assert format_api_time(datetime(2026, 11, 20, 1, 2, 3, 456, tzinfo=timezone.utc)) == "2026-11-20T01:02:03Z"
