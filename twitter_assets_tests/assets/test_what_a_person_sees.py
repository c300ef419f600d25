"""What a person sees from a materialization: charts in the gold metadata, the HTML report asset,
progress lines while a day pages, and descriptions that say what each layer is for."""

import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from dagster import AssetKey, DagsterEventType

from twitter_assets.assets.layers import LAYER_PURPOSE
from twitter_assets.definitions import build_assets
from twitter_assets.lake import Lake
from twitter_assets.simulator import SyntheticCorpus
from twitter_assets_tests.pipeline_fixtures import DEFAULT_SOURCES, Pipeline

PNG_IN_MARKDOWN = re.compile(r"!\[[^\]]*\]\(data:image/png;base64,[A-Za-z0-9+/=]{1000,}\)")
PROGRESS = re.compile(
    r"^paging aluraonline \d{4}-\d{2}-\d{2}: \d+ tweets, (?P<pages>\d+) pages, "
    r"rate-limit budget (?P<budget>\d+) requests until \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$"
)


def today() -> date:
    return datetime.now(timezone.utc).date()


def test_gold_charts_and_the_report_asset(pipeline):
    first, last = today() - timedelta(days=2), today() - timedelta(days=1)
    result = pipeline.backfill(first, last)
    assert result.success
    events = result.get_asset_materialization_events()
    for key in ("gold/daily_interactions", "gold/daily_sentiment"):
        metadata = [e.materialization.metadata for e in events if e.asset_key.to_user_string() == key]
        assert len(metadata) == 2, key  # one per partition, each with the run's chart
        for entry in metadata:
            chart = entry["chart"].value
            assert chart.startswith("**aluraonline**")
            assert len(PNG_IN_MARKDOWN.findall(chart)) == 1  # one chart per source
        assert "n_tweets" in metadata[0] or "n_scored" in metadata[0]  # numeric per-partition figures stay

    report = [e for e in events if e.asset_key == AssetKey(["report", "daily_html"])]
    assert sorted(e.partition for e in report) == [first.isoformat(), last.isoformat()]
    path = Path(pipeline.lake.root_path / "report.html")
    meta = report[0].materialization.metadata
    assert meta["path"].value == str(path)
    assert meta["size_bytes"].value == path.stat().st_size > 10_000
    page = path.read_text(encoding="utf-8")
    assert page.count('id="source-aluraonline"') == 1
    assert meta["check_verdicts"].value > 0 and meta["failed_verdicts"].value == 0
    assert "Check verdicts" in page


def test_a_twenty_page_fetch_logs_progress_with_the_rate_limit_budget(
    make_x_api, make_simulator, tmp_path, dagster_instance
):
    lake, instance = Lake(root=str(tmp_path / "lake")), dagster_instance
    busy = make_simulator(SyntheticCorpus(account_username="AluraOnline", seed=7, daily_volume=600))
    x_api = make_x_api(simulator=busy, page_size=10)  # hundreds of tweets a day in pages of 10
    pipeline = Pipeline(sources=list(DEFAULT_SOURCES), x_api=x_api, lake=lake, instance=instance)
    day = today() - timedelta(days=2)
    result = pipeline.backfill(day, day, selection="raw")
    assert result.success
    messages = [entry.user_message for entry in instance.all_logs(result.run_id) if entry.dagster_event is None]
    progress = [m for m in messages if m.startswith("paging ")]
    (landed,) = [m for m in messages if m.startswith("landed ")]
    pages = int(re.search(r"in (\d+) pages", landed).group(1))
    assert pages >= 20, landed
    assert progress, messages
    assert all(PROGRESS.match(line) for line in progress), progress
    assert [int(PROGRESS.match(line)["pages"]) for line in progress][:2] == [10, 20]
    assert all(int(PROGRESS.match(line)["budget"]) > 0 for line in progress)
    assert instance.all_logs(result.run_id, of_type=DagsterEventType.STEP_SUCCESS)


def test_every_asset_description_says_what_its_layer_is_for():
    for asset in build_assets(DEFAULT_SOURCES):
        for key in asset.keys:
            group = asset.group_names_by_key[key]
            assert asset.descriptions_by_key[key].startswith(LAYER_PURPOSE[group]), key
    assert {asset.group_names_by_key[k] for asset in build_assets(DEFAULT_SOURCES) for k in asset.keys} == set(
        LAYER_PURPOSE
    )
