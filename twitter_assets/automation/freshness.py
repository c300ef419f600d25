"""Is yesterday late? Gold's freshness policy (shown in the UI) and a check that yesterday landed.

Yesterday's final fetch starts at 00:30 UTC (`conditions.FINALISE_CRON`) and silver and gold follow
within minutes: gold is expected to materialize between 00:00 and 02:00 UTC every day
(`FreshnessPolicy.cron`), else the UI marks it failing. The asset check `yesterday_landed` says the
same about the data: it passes when yesterday's gold partition has been materialized after the day
ended from raw data covering the whole day (gold's `complete`), and runs itself at 02:00 UTC through
the automation sensor.
"""

import functools
from datetime import datetime, timedelta, timezone

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetKey,
    AssetRecordsFilter,
    AutomationCondition,
    FreshnessPolicy,
    asset_check,
)

from twitter_assets.partitions import day_bounds

FRESHNESS_DEADLINE_CRON = "0 2 * * *"


def freshness_policy_for(group: str) -> FreshnessPolicy | None:
    """Gold carries the policy: it is what people read, and it is late whenever anything upstream is."""
    if group != "gold":
        return None
    return _gold_freshness_policy()


@functools.cache
def _gold_freshness_policy() -> FreshnessPolicy:
    """One policy object for every gold asset: building it scans ~1000 cron ticks (~10 ms)."""
    return FreshnessPolicy.cron(deadline_cron=FRESHNESS_DEADLINE_CRON, lower_bound_delta=timedelta(hours=2))


def build_yesterday_landed_check(gold_key: AssetKey):
    @asset_check(
        asset=gold_key,
        name="yesterday_landed",
        description=(
            "Yesterday's partition was materialized after the day ended (its final fetch went through "
            "silver into gold). Runs at 02:00 UTC; fails (warning) when yesterday is late."
        ),
        automation_condition=AutomationCondition.cron_tick_passed(FRESHNESS_DEADLINE_CRON).since_last_handled()
        & ~AutomationCondition.in_progress(),
        blocking=False,
    )
    def yesterday_landed(context: AssetCheckExecutionContext) -> AssetCheckResult:
        now = datetime.now(timezone.utc)
        yesterday = (now - timedelta(days=1)).date()
        day_end = day_bounds(yesterday)[1]
        records = context.instance.fetch_materializations(
            AssetRecordsFilter(asset_key=gold_key, asset_partitions=[yesterday.isoformat()]), limit=1
        ).records
        landed_at = datetime.fromtimestamp(records[0].timestamp, timezone.utc) if records else None
        complete = records[0].asset_materialization.metadata.get("complete") if records else None
        # Gold is rebuilt for yesterday by today's refresh too (its conversation counts), so a rebuild
        # after midnight alone does not say the final fetch landed: its `complete` figure does.
        whole_day = complete is None or bool(complete.value)
        passed = landed_at is not None and landed_at >= day_end and whole_day
        if passed:
            description = f"gold for {yesterday} was rebuilt at {landed_at:%Y-%m-%d %H:%M} UTC, after the day ended"
        elif landed_at is not None and landed_at >= day_end:
            description = (
                f"gold for {yesterday} was rebuilt at {landed_at:%Y-%m-%d %H:%M} UTC, but its raw data stops before "
                f"the day's end (yesterday's final fetch did not land): materialize the raw assets for {yesterday} "
                "(the automation retries hourly)"
            )
        else:
            description = (
                f"gold for {yesterday} has not been rebuilt since the day ended: materialize raw, silver and "
                f"gold/daily_interactions for {yesterday} (the automation does it at 00:30 UTC)"
            )
        return AssetCheckResult(
            passed=passed,
            severity=AssetCheckSeverity.WARN,
            metadata={
                "partition": yesterday.isoformat(),
                "last_materialized": landed_at.isoformat() if landed_at else "never",
                "expected_after": day_end.isoformat(),
                "whole_day_landed": whole_day,
            },
            description=description,
        )

    return yesterday_landed
