"""Report layer: what a person reads, built from gold: `$TWITTER_LAKE_DIR/report.html`.

`report/daily_html` is daily-partitioned like the tables it reads (so a backfill or the daily
refresh rebuilds it after gold), but the page covers the whole lake: per source the last 30 days,
the last 7 days' top tweets, and the newest verdicts of every check.
"""

from dagster import AssetCheckKey, AssetExecutionContext, AssetKey, AssetsDefinition, MaterializeResult, MetadataValue
from dagster import asset as dagster_asset

from twitter_assets.assets.gold import DAILY_INTERACTIONS_KEY
from twitter_assets.assets.layers import describe
from twitter_assets.assets.sentiment import DAILY_SENTIMENT_KEY
from twitter_assets.checks.report import check_verdicts, run_check_evaluations
from twitter_assets.lake import Lake
from twitter_assets.partitions import daily_partitions, single_run_backfill

REPORT_KEY = AssetKey(["report", "daily_html"])


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


def latest_check_verdicts(context: AssetExecutionContext) -> list[dict[str, object]]:
    """The verdicts of the runs that last executed each check (usually this run and one or two
    before it): one event-log lookup per run, no more. Empty if the instance keeps no check records."""
    instance = context.instance
    keys: list[AssetCheckKey] = list(_code_location_graph(context).asset_check_keys)
    try:
        latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(keys)
    except NotImplementedError:
        return []
    run_ids = {record.run_id for record in latest.values() if record is not None}
    run_ids.add(context.run.run_id)
    verdicts = []
    for run_id in sorted(run_ids):
        evaluations = [e for e in run_check_evaluations(instance, run_id) if _newest(latest, e.asset_check_key, run_id)]
        verdicts.extend(check_verdicts(evaluations))
    return verdicts


def _code_location_graph(context: AssetExecutionContext):
    """Every asset and check of the code location. The job's graph holds only the run's selection, so a report
    built in a gold-and-report run, or alone, would leave out the raw and silver verdicts. An in-process run
    (`materialize`, tests) has no code location: there the job's graph is all there is."""
    try:
        return context.repository_def.asset_graph
    except Exception:  # dagster's CheckError: "No repository definition was set on the step context"
        return context.job_def.asset_layer.asset_graph


def _newest(latest, key: AssetCheckKey, run_id: str) -> bool:
    """Whether `run_id` holds the newest execution of `key` (or nothing newer is known)."""
    record = latest.get(key)
    return record is None or record.run_id == run_id
