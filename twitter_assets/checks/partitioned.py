"""Per-partition verdicts for a layer's checks, run together in one step.

Each layer's checks are one `multi_asset_check` (one process per layer instead of one per check),
subsettable, so the UI can still execute a single check. Each check judges every day on its own:

- in a run over one partition, the result is that day's verdict;
- in a run over a range (single-run backfill), each day's verdict is logged as that partition's
  check evaluation, targeting that day's materialization (what the UI shows per partition), and
  the returned result sums them up;
- in a run without a partition ("Execute all" on a Checks tab), it judges the partitions the asset
  has materialized (the newest `UNPARTITIONED_RUN_DAYS`), each logged the same way.

A check that cannot judge (a table it reads does not exist yet) says which asset to materialize
first, as a warning, and never crashes.
"""

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    AssetRecordsFilter,
    Output,
    multi_asset_check,
)
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluation,
    AssetCheckEvaluationTargetMaterializationData,
)

from twitter_assets.lake import Lake, LakeError
from twitter_assets.partitions import daily_partitions, parse_day

UNPARTITIONED_RUN_DAYS = 31

# Which asset writes each table, for "materialize X first".
TABLE_OWNERS = {
    "tweets": "silver/tweets",
    "source_days": "silver/tweets",
    "users": "silver/users",
    "users_seen": "silver/users",
    "daily_interactions": "gold/daily_interactions",
    "tweet_sentiment": "gold/tweet_sentiment",
    "daily_sentiment": "gold/daily_sentiment",
}
_MISSING_TABLE_RE = re.compile(r'Table with name "?(?:\w+\.)?(\w+)"? does not exist')


@dataclass
class DayVerdict:
    """One day's judgement: whether it passed, what explains it, and the metadata behind it."""

    passed: bool
    description: str
    metadata: Mapping[str, Any] = field(default_factory=dict)
    judged: bool = True  # False: the check could not judge (missing input), reported as a warning


@dataclass(frozen=True)
class DayCheck:
    """One check of a layer: its name, what it guards, and `judge(lake, day)`."""

    name: str
    description: str
    judge: Callable[[Lake, date], DayVerdict]
    blocking: bool = True
    severity: AssetCheckSeverity = AssetCheckSeverity.ERROR
    additional_deps: Sequence[AssetKey] = ()


def cannot_judge(reason: str) -> DayVerdict:
    return DayVerdict(False, f"cannot judge: {reason}", {"judged": False}, judged=False)


def safe_judge(judge: Callable[[Lake, date], DayVerdict], lake: Lake, day: date) -> DayVerdict:
    """Run a judge; a missing table or an unreadable landing becomes a clear verdict, not a crash."""
    import duckdb  # here, not at module level: the code location imports faster

    try:
        return judge(lake, day)
    except duckdb.CatalogException as exc:
        match = _MISSING_TABLE_RE.search(str(exc))
        if match:
            table = match.group(1)
            owner = TABLE_OWNERS.get(table, "its upstream assets")
            return cannot_judge(f"table {table} does not exist yet: materialize {owner} first")
        return cannot_judge(str(exc).splitlines()[0])
    except LakeError as exc:
        return DayVerdict(False, str(exc))


def build_layer_checks(
    name: str, asset: AssetKey, checks: Sequence[DayCheck], table: str | None = None
) -> AssetChecksDefinition:
    """One step that runs every check of `checks` (or the selected ones) over the run's days.

    `table`: the lake table the asset writes. A day without a file in it was not materialized (every
    materialized source-day gets a file, even an empty one): its checks cannot judge it, whatever
    the other days' files say (a query of that day would find no rows and pass)."""
    specs = [
        AssetCheckSpec(
            check.name,
            asset=asset,
            description=check.description,
            blocking=check.blocking,
            additional_deps=list(check.additional_deps),
            partitions_def=daily_partitions,
        )
        for check in checks
    ]
    by_key = {AssetCheckKey(asset, check.name): check for check in checks}

    @multi_asset_check(specs=specs, name=name, can_subset=True, description=f"Checks of {asset.to_user_string()}.")
    def _layer_checks(context: AssetCheckExecutionContext, lake: Lake) -> Iterator[AssetCheckResult]:
        days = _days_to_judge(context, asset)
        with lake.connect():  # one listing of the lake for every day and check of the step
            with_files = None if table is None else _days_with_files(lake, table)
            yield from _judge_selected(context, asset, by_key, days, lake, table, with_files)

    return _layer_checks


def _judge_selected(
    context: AssetCheckExecutionContext,
    asset: AssetKey,
    by_key: Mapping[AssetCheckKey, DayCheck],
    days: Sequence[str],
    lake: Lake,
    table: str | None = None,
    with_files: set[str] | None = None,
) -> Iterator[AssetCheckResult | Output]:
    def judge_day(check: DayCheck, day: date) -> DayVerdict:
        if with_files is not None and day.isoformat() not in with_files:
            return cannot_judge(
                f"{table} has no file for {day.isoformat()}: materialize {asset.to_user_string()} for that day first"
            )
        return safe_judge(check.judge, lake, day)

    for key in sorted(context.selected_asset_check_keys, key=lambda k: k.name):
        check = by_key[key]
        if not days:
            result = AssetCheckResult(
                asset_key=asset,
                check_name=check.name,
                passed=False,
                severity=AssetCheckSeverity.WARN,
                description=f"cannot judge: {asset.to_user_string()} has no materialized partition yet",
            )
        else:
            result = _judge_days(context, asset, check, days, lambda day, c=check: judge_day(c, day))
        if _has_partitions(context):
            yield result
        else:
            yield from _unpartitioned_summary(context, check, result)


def _days_with_files(lake: Lake, table: str) -> set[str]:
    """The days (ISO) for which the table has at least one partition file."""
    return {path.rsplit("/day=", 1)[1][:10] for path in lake.partition_files(table)}


def _has_partitions(context: AssetCheckExecutionContext) -> bool:
    op_context = context.op_execution_context
    return op_context.has_partition_key or op_context.has_partition_key_range


def _unpartitioned_summary(
    context: AssetCheckExecutionContext, check: DayCheck, result: AssetCheckResult
) -> Iterator[Output]:
    """The run's summary in a run without a partition ("Execute all" on a Checks tab).

    Dagster would resolve a yielded AssetCheckResult against the partitioned asset's input version,
    which needs a partition (DagsterInvariantViolationError "Cannot access partition_key for a
    non-partitioned run"), so the summary is logged as the evaluation itself, targeting the asset's
    newest materialization, and the check's output is yielded empty, as Dagster does for a result.
    """
    op_context = context.op_execution_context
    key = AssetCheckKey(result.asset_key, result.check_name)
    op_context.log_event(
        AssetCheckEvaluation(  # type: ignore[arg-type]
            asset_key=result.asset_key,
            check_name=result.check_name,
            passed=result.passed,
            metadata=dict(result.metadata or {}),
            severity=result.severity,
            description=result.description,
            blocking=check.blocking,
            partition=None,
            target_materialization_data=_latest_materialization(context, result.asset_key, None),
        )
    )
    yield Output(None, output_name=op_context.job_def.asset_layer.get_op_output_name(key))


def _days_to_judge(context: AssetCheckExecutionContext, asset: AssetKey) -> list[str]:
    op_context = context.op_execution_context
    if _has_partitions(context):
        return list(op_context.partition_keys)
    materialized = sorted(context.instance.get_materialized_partitions(asset))
    days = materialized[-UNPARTITIONED_RUN_DAYS:]
    context.log.info(
        f"run without a partition: judging the {len(days)} newest materialized partitions of "
        f"{asset.to_user_string()} ({days[0] if days else '-'}..{days[-1] if days else '-'})"
    )
    return days


def _judge_days(
    context: AssetCheckExecutionContext,
    asset: AssetKey,
    check: DayCheck,
    days: Sequence[str],
    judge_day: Callable[[date], DayVerdict],
) -> AssetCheckResult:
    verdicts = {key: judge_day(parse_day(key)) for key in days}
    op_context = context.op_execution_context

    def severity_of(verdict: DayVerdict) -> AssetCheckSeverity:
        return check.severity if verdict.judged else AssetCheckSeverity.WARN

    # A run of one partition key: Dagster files the result under that partition. A range run, even of one day
    # (the automation launches ranges), has no partition key: its result would land on no partition.
    if len(verdicts) == 1 and op_context.has_partition_key:
        (verdict,) = verdicts.values()
        return AssetCheckResult(
            asset_key=asset,
            check_name=check.name,
            passed=verdict.passed,
            severity=severity_of(verdict),
            description=verdict.description,
            metadata=dict(verdict.metadata),
        )

    for key, verdict in verdicts.items():
        # log_event is typed for materializations and observations, but the event log stores an
        # AssetCheckEvaluation like any other event, per partition; dagster is pinned (<1.14) and
        # twitter_assets_tests/test_cli_backfill.py proves the UI shows these verdicts.
        op_context.log_event(
            AssetCheckEvaluation(  # type: ignore[arg-type]
                asset_key=asset,
                check_name=check.name,
                passed=verdict.passed,
                metadata=dict(verdict.metadata),
                severity=severity_of(verdict),
                description=verdict.description,
                blocking=check.blocking,
                partition=key,
                target_materialization_data=_latest_materialization(context, asset, key),
            )
        )
    failed = {key: verdict for key, verdict in verdicts.items() if not verdict.passed}
    real_failures = any(verdict.judged for verdict in failed.values())
    description = (
        "; ".join(f"{key}: {verdict.description}" for key, verdict in failed.items())
        if failed
        else f"all {len(verdicts)} partitions passed"
    )
    return AssetCheckResult(
        asset_key=asset,
        check_name=check.name,
        passed=not failed,
        severity=check.severity if real_failures else AssetCheckSeverity.WARN,
        description=description[:4000],
        metadata={"partitions": len(verdicts), "failed_partitions": sorted(failed)},
    )


def _latest_materialization(
    context: AssetCheckExecutionContext, asset_key: AssetKey, partition: str | None
) -> AssetCheckEvaluationTargetMaterializationData | None:
    """The materialization a day's verdict is about (None: the newest of any partition); the UI
    shows a verdict as current only for it."""
    records = context.instance.fetch_materializations(
        AssetRecordsFilter(asset_key=asset_key, asset_partitions=[partition] if partition else None), limit=1
    ).records
    if not records:
        return None
    return AssetCheckEvaluationTargetMaterializationData(
        storage_id=records[0].storage_id, run_id=records[0].event_log_entry.run_id, timestamp=records[0].timestamp
    )
