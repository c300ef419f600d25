"""Per-partition verdicts for checks that run inside single-run backfills.

A partitioned check in a run over a partition range receives the whole range and Dagster records
its one result without a partition. So each check here judges every day on its own: in a ranged run
the verdict of each day is logged as that partition's check evaluation (what the UI shows per
partition), and the returned result sums them up; in a one-partition run it is the day's verdict.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    AssetRecordsFilter,
    asset_check,
)
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluation,
    AssetCheckEvaluationTargetMaterializationData,
)

from twitter_assets.lake import Lake
from twitter_assets.partitions import daily_partitions, parse_day


@dataclass
class DayVerdict:
    """One day's judgement: whether it passed, what explains it, and the metadata behind it."""

    passed: bool
    description: str
    metadata: Mapping[str, Any] = field(default_factory=dict)


def judge_partitions(
    context: AssetCheckExecutionContext,
    judge_day: Callable[[date], DayVerdict],
    severity: AssetCheckSeverity = AssetCheckSeverity.ERROR,
) -> AssetCheckResult:
    verdicts = {key: judge_day(parse_day(key)) for key in context.op_execution_context.partition_keys}
    if len(verdicts) == 1:
        (verdict,) = verdicts.values()
        return AssetCheckResult(
            passed=verdict.passed, severity=severity, description=verdict.description, metadata=dict(verdict.metadata)
        )

    spec = context.check_specs[0]
    for key, verdict in verdicts.items():
        # log_event is typed for materializations and observations, but the event log stores an
        # AssetCheckEvaluation like any other event, per partition; dagster is pinned (<1.14) and
        # twitter_assets_tests/test_cli_backfill.py proves the UI shows these verdicts.
        context.op_execution_context.log_event(
            AssetCheckEvaluation(  # type: ignore[arg-type]
                asset_key=spec.asset_key,
                check_name=spec.name,
                passed=verdict.passed,
                metadata=dict(verdict.metadata),
                severity=severity,
                description=verdict.description,
                blocking=spec.blocking,
                partition=key,
                target_materialization_data=_latest_materialization(context, spec.asset_key, key),
            )
        )
    failed = {key: verdict for key, verdict in verdicts.items() if not verdict.passed}
    description = (
        "; ".join(f"{key}: {verdict.description}" for key, verdict in failed.items())
        if failed
        else f"all {len(verdicts)} partitions passed"
    )
    return AssetCheckResult(
        passed=not failed,
        severity=severity,
        description=description,
        metadata={"partitions": len(verdicts), "failed_partitions": sorted(failed)},
    )


def _latest_materialization(
    context: AssetCheckExecutionContext, asset_key: AssetKey, partition: str
) -> AssetCheckEvaluationTargetMaterializationData | None:
    """The materialization a day's verdict is about: the UI shows a verdict as current only for it."""
    records = context.instance.fetch_materializations(
        AssetRecordsFilter(asset_key=asset_key, asset_partitions=[partition]), limit=1
    ).records
    if not records:
        return None
    return AssetCheckEvaluationTargetMaterializationData(
        storage_id=records[0].storage_id, run_id=records[0].event_log_entry.run_id, timestamp=records[0].timestamp
    )


def build_partitioned_check(
    *,
    asset: AssetKey,
    name: str,
    description: str,
    judge: Callable[[Lake, date], DayVerdict],
    blocking: bool = True,
    severity: AssetCheckSeverity = AssetCheckSeverity.ERROR,
    additional_deps: Sequence[AssetKey] = (),
) -> AssetChecksDefinition:
    """A daily-partitioned asset check whose `judge(lake, day)` decides each day."""

    @asset_check(
        asset=asset,
        name=name,
        description=description,
        blocking=blocking,
        partitions_def=daily_partitions,
        additional_deps=list(additional_deps),
    )
    def _check(context: AssetCheckExecutionContext, lake: Lake) -> AssetCheckResult:
        return judge_partitions(context, lambda day: judge(lake, day), severity)

    return _check
