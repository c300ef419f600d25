"""The daily UTC partitions and the arithmetic of the search windows.

A partition `YYYY-MM-DD` covers `[day 00:00, next day 00:00)` of `created_at`, in UTC. Recent search
(`endpoint: recent`, every plan) only answers for the last 7 days; full-archive search
(`endpoint: all`, Pro/Enterprise) answers back to 2006-03-21. Both refuse an `end_time` closer than
10 s to now, so every fetch window is intersected with what the source's endpoint can still serve.

The partitions end with today's (partial) day, so "today" can be refreshed while it runs. Where they
start is a setting (see `partitions_start`): by default the oldest day recent search still reaches
when the code location loads, or the oldest day already landed if that is older, so no partition
shows a day that was never fillable and no landed day disappears.
"""

from __future__ import annotations

import os
import threading
import warnings
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from dagster import BackfillPolicy, DailyPartitionsDefinition

PARTITIONS_START_ENV = "TWITTER_PARTITIONS_START"
RECENT_ENDPOINT, FULL_ARCHIVE_ENDPOINT = "recent", "all"
ENDPOINTS = (RECENT_ENDPOINT, FULL_ARCHIVE_ENDPOINT)
# Full-archive search answers from the first tweets on (its documented earliest start_time).
FULL_ARCHIVE_START = datetime(2006, 3, 21, tzinfo=timezone.utc)

# Every asset of a backfill materializes the whole partition range in one run.
single_run_backfill = BackfillPolicy.single_run()
# Except a full-archive source's raw history (years of days): runs of a month each, so one run is
# not hours long, and a run lost to a deploy or a dead worker costs a month of fetching, not all.
FULL_ARCHIVE_DAYS_PER_RUN = 31
full_archive_backfill = BackfillPolicy.multi_run(max_partitions_per_run=FULL_ARCHIVE_DAYS_PER_RUN)

RECENT_SEARCH_DAYS = 7
# The API checks `start_time` against its own clock a little after ours: keep a safety margin.
WINDOW_START_MARGIN = timedelta(minutes=2)
# The API refuses an end_time later than now - 10 s; stay a little further back.
END_TIME_LAG = timedelta(seconds=15)


def default_partitions_start(now: datetime) -> date:
    """The oldest day recent search still reaches at `now` (partly: it is fetched clamped)."""
    return api_window(now)[0].date()


def partitions_start(now: datetime | None = None, lake_root: str | None = None) -> date:
    """The first partition: $TWITTER_PARTITIONS_START, else the sources file's `start:`, else the
    oldest day inside the recent-search window at `now` (load time) or the oldest day the lake has
    landed, whichever is older.

    Why the lake: every Dagster process computes this at import. With the clock alone the start moves
    a day every midnight, so a code server loaded yesterday asks for days (a retry, a queued run, a
    backfill launched from its UI) that a run process started today refuses ("Partition key range
    start ... is before the partitions definition start"), and landed days vanish from the UI a week
    later. The oldest landed day does not move: every process agrees on every landed day."""
    from twitter_assets.sources import load_start  # sources imports nothing of ours; keep it lazy

    configured = os.environ.get(PARTITIONS_START_ENV, "").strip()
    if configured:
        try:
            return date.fromisoformat(configured)
        except ValueError:
            raise ValueError(f"{PARTITIONS_START_ENV}={configured!r} is not a date (YYYY-MM-DD)") from None
    from_file = load_start()
    if from_file:
        return from_file
    start = default_partitions_start(now or datetime.now(timezone.utc))
    landed = _oldest_landed_day(lake_root)
    return min(start, landed) if landed is not None else start


LIST_TIMEOUT_S = 10.0


def _oldest_landed_day(lake_root: str | None) -> date | None:
    """The oldest day the lake ($TWITTER_LAKE_DIR) has a raw landing of; None when it has none or
    cannot be read now (then the clock decides, with a warning: loading must not fail on it)."""
    from twitter_assets.lake import DEFAULT_LAKE_DIR, LAKE_DIR_ENV, Lake

    root = lake_root or os.environ.get(LAKE_DIR_ENV, DEFAULT_LAKE_DIR)
    found: list[date | None | BaseException] = []

    def look() -> None:
        try:
            found.append(Lake(root=root).oldest_landed_day())
        except Exception as exc:  # noqa: BLE001 - reported below
            found.append(exc)

    # An object store that does not answer must not hold up loading the code location (its client
    # retries for minutes): the listing gets LIST_TIMEOUT_S, in a thread left behind if it hangs.
    worker = threading.Thread(target=look, name="partitions-start", daemon=True)
    worker.start()
    worker.join(LIST_TIMEOUT_S)
    result = found[0] if found else TimeoutError(f"no answer in {LIST_TIMEOUT_S:.0f} s")
    if isinstance(result, BaseException):
        warnings.warn(
            f"partitions start: the lake {root} could not be listed ({type(result).__name__}): the clock decides",
            stacklevel=2,
        )
        return None
    return result


def build_daily_partitions(start: date) -> DailyPartitionsDefinition:
    """Daily UTC partitions from `start`, the last one being today's partial day (end_offset=1)."""
    return DailyPartitionsDefinition(start_date=start.isoformat(), timezone="UTC", end_offset=1)


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


def api_window(now: datetime, endpoint: str = RECENT_ENDPOINT) -> tuple[datetime, datetime]:
    """The span the endpoint answers for at `now`, with safety margins on both ends."""
    if endpoint == FULL_ARCHIVE_ENDPOINT:
        return FULL_ARCHIVE_START, now - END_TIME_LAG
    return now - timedelta(days=RECENT_SEARCH_DAYS) + WINDOW_START_MARGIN, now - END_TIME_LAG


def fetch_window(day: date, now: datetime, endpoint: str = RECENT_ENDPOINT) -> FetchWindow:
    """Intersect a day with the endpoint's window; raise when nothing of the day can be fetched."""
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown search endpoint {endpoint!r}; expected one of {', '.join(ENDPOINTS)}")
    day_start, day_end = day_bounds(day)
    earliest, latest = api_window(now, endpoint)
    if day_end <= earliest and endpoint == FULL_ARCHIVE_ENDPOINT:
        raise OutsideApiWindowError(
            f"partition {day.isoformat()} is older than full-archive search, which starts at "
            f"{format_api_time(earliest)}: it can never be fetched"
        )
    if day_end <= earliest:
        raise OutsideApiWindowError(
            f"partition {day.isoformat()} ended before the recent-search window, which starts at "
            f"{format_api_time(earliest)} (the last {RECENT_SEARCH_DAYS} days): it can no longer be fetched "
            "with recent search; a source on an X API plan with full-archive search (Pro/Enterprise) can "
            "fetch it with `endpoint: all` in the sources file"
        )
    if day_start >= latest:
        raise OutsideApiWindowError(f"partition {day.isoformat()} has not started yet (now is {format_api_time(now)})")
    return FetchWindow(day=day, start=max(day_start, earliest), end=min(day_end, latest))


def format_api_time(moment: datetime) -> str:
    """RFC 3339 in UTC with `Z`, second precision, as the X API expects."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


daily_partitions = build_daily_partitions(partitions_start())
