from datetime import datetime, timezone

from dagster import DagsterInstance, build_schedule_context

from twitter_assets.definitions import defs


def test_daily_refresh_targets_the_day_that_just_ended_with_every_asset():
    schedule = defs.resolve_schedule_def("daily_refresh_schedule")
    assert schedule.cron_schedule == "30 0 * * *" and schedule.execution_timezone in (None, "UTC")
    with DagsterInstance.ephemeral() as instance:
        context = build_schedule_context(
            instance=instance, scheduled_execution_time=datetime(2026, 11, 24, 0, 30, tzinfo=timezone.utc)
        )
        (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-11-23"
    job = defs.resolve_job_def("daily_refresh")
    keys = {key.to_user_string() for key in job.asset_layer.executable_asset_keys}
    assert keys == {"raw/aluraonline", "silver/tweets", "silver/users", "gold/daily_interactions"}
