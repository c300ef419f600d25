"""Report layer: what a person reads, built from gold: `$TWITTER_LAKE_DIR/report.html`.

`report/daily_html` is daily-partitioned like the tables it reads (so a backfill or the daily
refresh rebuilds it after gold), but the page covers the whole lake: per source the last 30 days,
the last 7 days' top tweets, and the newest verdict of every check for each of the last 30 days.
"""

from datetime import datetime, timedelta, timezone

from dagster import AssetCheckKey, AssetExecutionContext, AssetKey, AssetsDefinition, MaterializeResult, MetadataValue
from dagster import asset as dagster_asset
from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluation
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from twitter_assets.assets.gold import DAILY_INTERACTIONS_KEY
from twitter_assets.assets.layers import describe
from twitter_assets.assets.sentiment import DAILY_SENTIMENT_KEY
from twitter_assets.checks.report import check_verdicts
from twitter_assets.lake import Lake
from twitter_assets.partitions import daily_partitions, single_run_backfill

REPORT_KEY = AssetKey(["report", "daily_html"])
# The report's horizon: its tables cover the last 30 days, and so do its check verdicts.
VERDICT_DAYS = 30
_JUDGED = {AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED}


def build_report_assets() -> list[AssetsDefinition]:
    @dagster_asset(
        key=REPORT_KEY,
        group_name="report",
        deps=[DAILY_INTERACTIONS_KEY, DAILY_SENTIMENT_KEY],
        partitions_def=daily_partitions,
        backfill_policy=single_run_backfill,
        kinds={"html"},
        description=(
            describe(
                "report",
                "one self-contained HTML page, $TWITTER_LAKE_DIR/report.html, "
                "built from gold: per source a chart and a table of its last 30 days, the week's most engaging "
                "tweets, the share of replies the account answered, and the newest check verdicts.",
            )
        ),
    )
    def daily_html(context: AssetExecutionContext, lake: Lake) -> MaterializeResult:
        from twitter_assets.report.publish import publish_report  # here: matplotlib loads when drawing

        verdicts = latest_check_verdicts(context)
        where, size = publish_report(lake, check_verdicts=verdicts)
        context.log.info(f"report written: {where} ({size:,} bytes, {len(verdicts)} check verdicts)")
        return MaterializeResult(
            metadata={
                "path": MetadataValue.path(where) if lake.is_local else MetadataValue.url(where),
                "size_bytes": size,
                "check_verdicts": len(verdicts),
                "failed_verdicts": sum(not v["passed"] for v in verdicts),
            }
        )

    return [daily_html]


def latest_check_verdicts(context: AssetExecutionContext, days: int = VERDICT_DAYS) -> list[dict[str, object]]:
    """The newest verdict of every check for each of the last `days` partitions (and the newest
    verdict without a partition: run summaries and unpartitioned checks). Newest per (check,
    partition), not per check: the automation's one-day run of today must not hide the failure a
    backfill found on an earlier day. One event-log query per day. A partition whose newest
    execution is still planned (a run in flight) shows nothing yet. Empty if the instance keeps no
    check records."""
    from dagster._core.event_api import PartitionKeyFilter  # no public filter; guarded by test_checks.py

    instance = context.instance
    keys: list[AssetCheckKey] = list(_code_location_graph(context).asset_check_keys)
    today = datetime.now(timezone.utc).date()
    partitions: list[str | None] = [None, *((today - timedelta(days=n)).isoformat() for n in range(days))]
    evaluations = []
    for partition in partitions:
        try:
            latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(
                keys, partition_filter=PartitionKeyFilter(key=partition)
            )
        except NotImplementedError:
            return []
        for key in sorted(latest, key=lambda k: (k.asset_key.to_user_string(), k.name)):
            record = latest[key]
            if record.status not in _JUDGED:  # planned: in flight, or its run died; the verdict before it
                older = instance.event_log_storage.get_asset_check_execution_history(
                    key, limit=1, status=_JUDGED, partition_filter=PartitionKeyFilter(key=partition)
                )
                if not older:
                    continue
                record = older[0]
            entry = record.event
            data = entry.dagster_event.event_specific_data if entry is not None and entry.dagster_event else None
            if isinstance(data, AssetCheckEvaluation):
                evaluations.append(data)
    return check_verdicts(evaluations)


def _code_location_graph(context: AssetExecutionContext):
    """Every asset and check of the code location. The job's graph holds only the run's selection, so a report
    built in a gold-and-report run, or alone, would leave out the raw and silver verdicts. An in-process run
    (`materialize`, tests) has no code location: there the job's graph is all there is."""
    try:
        return context.repository_def.asset_graph
    except Exception:  # dagster's CheckError: "No repository definition was set on the step context"
        return context.job_def.asset_layer.asset_graph
