"""`yesterday_landed` on a real temporary instance: it passes only for a gold day rebuilt after midnight
from raw data that covers the whole day."""

from datetime import datetime, timedelta, timezone

from dagster import AssetCheckKey, AssetKey, AssetMaterialization

from twitter_assets.definitions import build_definitions
from twitter_assets.sources import Source

SOURCES = (Source(name="aluraonline", query="AluraOnline", account="AluraOnline"),)
GOLD = AssetKey(["gold", "daily_interactions"])
CHECK = AssetCheckKey(GOLD, "yesterday_landed")


def verdict(pipeline):
    defs = build_definitions(SOURCES, pipeline.x_api, pipeline.lake)
    job = defs.resolve_implicit_global_asset_job_def().get_subset(asset_check_selection={CHECK}, asset_selection=set())
    result = job.execute_in_process(instance=pipeline.instance, raise_on_error=False)
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


def test_yesterday_landed_needs_the_whole_day_not_only_a_rebuild_after_midnight(pipeline):
    yesterday = datetime.now(timezone.utc).date() - timedelta(days=1)
    assert pipeline.backfill(yesterday, yesterday).success  # the whole day: it has ended
    landed = verdict(pipeline)
    assert landed.passed, landed.description

    # Today's refresh rebuilds gold for yesterday although yesterday's final fetch failed: its data is partial.
    pipeline.instance.report_runless_asset_event(
        AssetMaterialization(GOLD, partition=yesterday.isoformat(), metadata={"complete": False})
    )
    partial = verdict(pipeline)
    assert not partial.passed
    assert "its raw data stops before the day's end" in partial.description
    assert partial.metadata["whole_day_landed"].value is False
