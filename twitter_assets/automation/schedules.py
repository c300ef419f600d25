"""The daily refresh: every asset and check for the day that just ended, once it has ended.

The schedule fires at 00:30 UTC and targets the previous day's partition, so the whole day is inside
the API window (which then still reaches six and a half more days back). It does not look back:
days missed while the scheduler was down need a backfill (or the planned gap-filling sensor).
"""

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    build_schedule_from_partitioned_job,
    define_asset_job,
)

daily_refresh_job = define_asset_job(
    name="daily_refresh",
    selection=AssetSelection.all(include_sources=False),
    description="Fetch, clean and summarise one UTC day, with every asset check.",
)


daily_refresh_schedule = build_schedule_from_partitioned_job(
    daily_refresh_job, hour_of_day=0, minute_of_hour=30, default_status=DefaultScheduleStatus.RUNNING
)
