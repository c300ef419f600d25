"""Read back what the checks said in a run: used by `make demo` and by CI's backfill test."""

from typing import cast

from dagster import DagsterEventType, DagsterInstance
from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluation


def run_check_evaluations(instance: DagsterInstance, run_id: str) -> list[AssetCheckEvaluation]:
    """Every check evaluation a run logged (per partition, and the run-level summaries)."""
    entries = instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
    return [
        cast(AssetCheckEvaluation, entry.dagster_event.event_specific_data) for entry in entries if entry.dagster_event
    ]


def failed_evaluations(evaluations: list[AssetCheckEvaluation]) -> list[str]:
    """One readable line per failed evaluation: asset, check, partition and the check's own words."""
    return [
        f"{e.asset_key.to_user_string()} {e.check_name} [{e.partition or 'run'}]: {e.description}"
        for e in evaluations
        if not e.passed
    ]


def check_verdicts(evaluations: list[AssetCheckEvaluation]) -> list[dict[str, object]]:
    """The evaluations as plain mappings for the HTML report: asset, check, partition, passed,
    severity, description (partition None for a run-level summary)."""
    return [
        {
            "asset": e.asset_key.to_user_string(),
            "check": e.check_name,
            "partition": e.partition,
            "passed": bool(e.passed),
            "severity": e.severity.value if e.severity else None,
            "description": e.description or "",
        }
        for e in evaluations
    ]
