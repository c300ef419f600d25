"""The daily UTC partitions and the arithmetic of the recent-search 7-day window.

A partition `YYYY-MM-DD` covers `[day 00:00, next day 00:00)` of `created_at`, in UTC. Recent search
only answers for the last 7 days and refuses an `end_time` closer than 10 s to now, so every fetch
window is intersected with what the API can still serve.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from dagster import BackfillPolicy, DailyPartitionsDefinition

PARTITIONS_START = "2026-11-01"

daily_partitions = DailyPartitionsDefinition(start_date=PARTITIONS_START, timezone="UTC")

# Every asset of a backfill materializes the whole partition range in one run.
single_run_backfill = BackfillPolicy.single_run()

RECENT_SEARCH_DAYS = 7
# The API checks `start_time` against its own clock a little after ours: keep a safety margin.
WINDOW_START_MARGIN = timedelta(minutes=2)
# The API refuses an end_time later than now - 10 s; stay a little further back.
END_TIME_LAG = timedelta(seconds=15)


class OutsideApiWindowError(ValueError):
    """The requested day cannot be fetched from recent search any more (or not yet)."""


@dataclass(frozen=True)
class FetchWindow:
    """The part of a partition's day that recent search can serve right now."""

    day: date
    start: datetime
    end: datetime

    @property
    def day_start(self) -> datetime:
        return day_bounds(self.day)[0]

    @property
    def day_end(self) -> datetime:
        return day_bounds(self.day)[1]

    @property
    def clamped(self) -> bool:
        """True when the window is narrower than the whole day."""
        return self.start > self.day_start or self.end < self.day_end


def parse_day(partition_key: str) -> date:
    return date.fromisoformat(partition_key)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=timezone.utc)
    return start, start + timedelta(days=1)


def api_window(now: datetime) -> tuple[datetime, datetime]:
    """The span recent search answers for at `now`, with safety margins on both ends."""
    return now - timedelta(days=RECENT_SEARCH_DAYS) + WINDOW_START_MARGIN, now - END_TIME_LAG


def fetch_window(day: date, now: datetime) -> FetchWindow:
    """Intersect a day with the API window; raise when nothing of the day can be fetched."""
    day_start, day_end = day_bounds(day)
    earliest, latest = api_window(now)
    if day_end <= earliest:
        raise OutsideApiWindowError(
            f"partition {day.isoformat()} ended before the recent-search window, which starts at "
            f"{format_api_time(earliest)} (the last {RECENT_SEARCH_DAYS} days): it can no longer be fetched"
        )
    if day_start >= latest:
        raise OutsideApiWindowError(f"partition {day.isoformat()} has not started yet (now is {format_api_time(now)})")
    return FetchWindow(day=day, start=max(day_start, earliest), end=min(day_end, latest))


def format_api_time(moment: datetime) -> str:
    """RFC 3339 in UTC with `Z`, second precision, as the X API expects."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
