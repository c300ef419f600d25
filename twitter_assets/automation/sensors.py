"""The sensors that keep the partitions up to date and tell someone when they cannot.

- `keep_partitions_up_to_date`: Dagster's automation-condition sensor over every asset (and check),
  on by default. Each tick evaluates the conditions of `conditions.py`; everything requested in one
  tick becomes ONE backfill (`emit_backfills`), which runs as single-run ranges (the assets' backfill
  policy), oldest day first in each range.
- `alert_on_run_failure`: posts every failed run to $TWITTER_ALERT_WEBHOOK_URL (Slack-compatible
  JSON: `text`, plus run id, job, asset keys, partitions and the error's first line) and always logs it.
"""

import json
import os
from typing import Any

from dagster import (
    AssetSelection,
    AutomationConditionSensorDefinition,
    DagsterEventType,
    DefaultSensorStatus,
    RunFailureSensorContext,
    run_failure_sensor,
)

from twitter_assets.resources.x_api import TOKEN_ENV

AUTOMATION_INTERVAL_ENV = "TWITTER_AUTOMATION_INTERVAL_SECONDS"
ALERT_WEBHOOK_ENV = "TWITTER_ALERT_WEBHOOK_URL"
DEFAULT_AUTOMATION_INTERVAL_SECONDS = 60


def build_automation_sensor() -> AutomationConditionSensorDefinition:
    interval = int(os.environ.get(AUTOMATION_INTERVAL_ENV) or DEFAULT_AUTOMATION_INTERVAL_SECONDS)
    return AutomationConditionSensorDefinition(
        "keep_partitions_up_to_date",
        target=AssetSelection.all(include_sources=False),
        default_status=DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=interval,
        emit_backfills=True,
        # gold's "own silver day" condition is Python of this package: evaluate in the code server.
        use_user_code_server=True,
        run_tags={"twitter_assets/launched_by": "automation"},
        description=(
            "Gap filling (every missing or failed day inside the API window, oldest first), today's "
            "refresh, yesterday's final fetch, and silver/gold after raw: see twitter_assets/automation."
        ),
    )


def _first_line(text: str | None) -> str:
    return next((line.strip() for line in (text or "").splitlines() if line.strip()), "")


def _redact(text: str) -> str:
    token = os.environ.get(TOKEN_ENV)
    return text.replace(token, "[redacted]") if token and len(token) >= 4 else text


def failure_payload(context: RunFailureSensorContext) -> dict[str, Any]:
    """What the alert says: enough to find the run and the days, never the bearer token."""
    run = context.dagster_run
    tags = run.tags or {}
    if "dagster/asset_partition_range_start" in tags:
        partitions = f"{tags['dagster/asset_partition_range_start']}...{tags['dagster/asset_partition_range_end']}"
    else:
        partitions = tags.get("dagster/partition", "")
    keys = set(run.asset_selection or [])
    if not keys:  # runs of an ephemeral asset job: the assets it planned to materialize
        planned = context.instance.get_records_for_run(
            run_id=run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION_PLANNED
        ).records
        keys = {record.event_log_entry.dagster_event.asset_key for record in planned}
    assets = sorted(key.to_user_string() for key in keys)
    step_errors = [
        event.event_specific_data.error.message
        for event in context.get_step_failure_events()
        if event.event_specific_data is not None and getattr(event.event_specific_data, "error", None) is not None
    ]
    error = _redact(_first_line(step_errors[0] if step_errors else context.failure_event.message))
    text = (
        f":rotating_light: twitter_assets run {run.run_id[:8]} failed: job {run.job_name}, "
        f"assets {', '.join(assets) or '-'}, partitions {partitions or '-'}: {error}"
    )
    return {
        "text": text,
        "run_id": run.run_id,
        "job": run.job_name,
        "asset_keys": assets,
        "partitions": partitions,
        "error": error,
    }


@run_failure_sensor(
    name="alert_on_run_failure",
    default_status=DefaultSensorStatus.RUNNING,
    monitor_all_code_locations=False,
    description=f"Posts failed runs to ${ALERT_WEBHOOK_ENV} (when set) and logs them.",
)
def alert_on_run_failure(context: RunFailureSensorContext) -> None:
    payload = failure_payload(context)
    context.log.error(f"run failed: {json.dumps(payload)}")
    url = os.environ.get(ALERT_WEBHOOK_ENV)
    if not url:
        return
    import requests  # here: importing the code location stays fast

    response = requests.post(url, json=payload, timeout=10)
    if response.status_code >= 300:
        context.log.error(f"the alert webhook answered {response.status_code}: {response.text[:200]}")
