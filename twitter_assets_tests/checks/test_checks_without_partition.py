"""\"Execute all\" on a Checks tab: a run of checks only, without a partition. Each check judges the
partitions the asset has materialized, logs a verdict per day and a summary, and never crashes."""

from datetime import datetime, timedelta, timezone

from dagster import AssetSelection, materialize

from twitter_assets.checks.report import run_check_evaluations
from twitter_assets.definitions import build_asset_checks, build_assets


def test_a_checks_only_run_without_a_partition_judges_the_materialized_days(pipeline):
    today = datetime.now(timezone.utc).date()
    first, last = today - timedelta(days=2), today - timedelta(days=1)
    assert pipeline.backfill(first, last).success
    result = materialize(
        [*build_assets(pipeline.sources), *build_asset_checks(pipeline.sources)],
        resources={"x_api": pipeline.x_api, "lake": pipeline.lake},
        instance=pipeline.instance,
        selection=AssetSelection.all_asset_checks(),
    )
    assert result.success
    evaluations = run_check_evaluations(pipeline.instance, result.run_id)
    summaries = [e for e in evaluations if e.partition is None]
    per_day = [e for e in evaluations if e.partition is not None]
    # every check, once: 17 partitioned, 3 column-schema checks and gold's yesterday_landed
    assert len({(e.asset_key, e.check_name) for e in summaries}) == 21
    assert all(e.passed for e in evaluations), [e.description for e in evaluations if not e.passed]
    assert {e.partition for e in per_day} == {first.isoformat(), last.isoformat()}
    assert all(e.target_materialization_data is not None for e in evaluations)


def test_a_checks_only_run_on_an_empty_instance_warns_instead_of_crashing(pipeline):
    result = materialize(
        [*build_assets(pipeline.sources), *build_asset_checks(pipeline.sources)],
        resources={"x_api": pipeline.x_api, "lake": pipeline.lake},
        instance=pipeline.instance,
        selection=AssetSelection.all_asset_checks(),
        raise_on_error=False,
    )
    partitioned = [
        e
        for e in run_check_evaluations(pipeline.instance, result.run_id)
        if e.check_name not in ("column_schema_change", "yesterday_landed")  # not partitioned
    ]
    assert partitioned and all(not e.passed and e.severity.value == "WARN" for e in partitioned)
    assert all("no materialized partition yet" in e.description for e in partitioned)
    assert result.success
