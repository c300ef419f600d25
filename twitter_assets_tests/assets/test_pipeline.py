"""Real Dagster materializations of raw -> silver -> gold against the simulator and a temporary lake."""

import json
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from dagster import AssetKey, AssetSelection

import twitter_assets.assets.raw as raw_module
from twitter_assets.partitions import day_bounds
from twitter_assets.sources import Source
from twitter_assets_tests.pipeline_fixtures import land, tweet

ALURA = Source(name="aluraonline", query="AluraOnline", account="AluraOnline")
SEARCH = "/2/tweets/search/recent"


def today() -> date:
    return datetime.now(timezone.utc).date()


def api_tweet_ids(x_api, query: str, day: date, start: datetime | None = None) -> set[str]:
    """The oracle: what the API itself returns for a day (from `start` on), fetched independently of the assets."""
    day_start, end = day_bounds(day)
    pages = x_api.search_recent(query, start or day_start, end).pages
    return {tweet["id"] for page in pages for tweet in page.body.get("data", [])}


@pytest.fixture
def noon(monkeypatch) -> datetime:
    """A fixed "now", today 12:00:30 UTC, for the raw assets (and a simulator given `clock=lambda: noon`):
    how much of the day 7 days back the API window still holds depends on the hour."""
    now = datetime.combine(today(), time(12, 0, 30), tzinfo=timezone.utc)

    class FixedDatetime(datetime):
        @classmethod
        def now(cls, tz=None):
            return now.astimezone(tz)

    monkeypatch.setattr(raw_module, "datetime", FixedDatetime)
    return now


def test_backfill_of_several_days_in_one_run(make_pipeline, make_simulator, make_x_api, noon):
    # At a fixed hour: in the first seconds after midnight yesterday is not whole yet (end_time lag).
    simulator = make_simulator(clock=lambda: noon)
    pipeline = make_pipeline(simulator=simulator)
    days = [noon.date() - timedelta(days=n) for n in (3, 2, 1)]
    result = pipeline.backfill(days[0], days[-1])
    assert result.success
    assert len(pipeline.instance.get_runs()) == 1

    tweets = pipeline.query("SELECT day, tweet_id FROM silver.tweets ORDER BY day")
    gold = pipeline.query("SELECT day, n_tweets, n_conversations, weekday FROM gold.daily_interactions ORDER BY day")
    assert [row[0] for row in gold] == days
    for day, n_tweets, _, weekday in gold:
        expected = api_tweet_ids(make_x_api(simulator=simulator), ALURA.query, day)
        assert {tweet_id for d, tweet_id in tweets if d == day} == expected
        assert n_tweets == len(expected) > 0
        assert weekday == day.strftime("%a")
    assert len(tweets) == len({tweet_id for _, tweet_id in tweets})

    raw_materializations = [
        event
        for event in result.get_asset_materialization_events()
        if event.asset_key.to_user_string() == "raw/aluraonline"
    ]
    assert sorted(event.partition for event in raw_materializations) == [d.isoformat() for d in days]
    # Each partition's materialization carries that day's own figures, not the run's totals.
    per_day = {day.isoformat(): sum(1 for d, _ in tweets if d == day) for day in days}
    for event in raw_materializations:
        metadata = event.materialization.metadata
        assert {"requests", "pages", "tweets", "rate_limit_waits", "retries", "run_tweets"} <= set(metadata)
        assert metadata["tweets"].value == metadata["dagster/row_count"].value == per_day[event.partition]
        assert metadata["run_tweets"].value == len(tweets)
    assert len({event.materialization.metadata["tweets"].value for event in raw_materializations}) == len(days)
    gold_events = {
        event.partition: event.materialization.metadata
        for event in result.get_asset_materialization_events()
        if event.asset_key.to_user_string() == "gold/daily_interactions"
    }
    assert {key: meta["n_tweets"].value for key, meta in gold_events.items()} == per_day
    assert all(meta["dagster/row_count"].value == 1 for meta in gold_events.values())
    # Previews too: a partition's preview shows that day's rows, not the newest of the whole range.
    day_of_tweet = {tweet_id: d.isoformat() for d, tweet_id in tweets}
    user_days = pipeline.query("SELECT user_id, list(DISTINCT day::VARCHAR) FROM silver.users_seen GROUP BY user_id")
    days_of_user = {user_id: set(seen) for user_id, seen in user_days}
    with_preview = {"silver/tweets", "silver/users", "gold/daily_interactions", "gold/daily_sentiment"}
    previews = {
        (event.asset_key.to_user_string(), event.partition): event.materialization.metadata["preview"].value
        for event in result.get_asset_materialization_events()
        if event.asset_key.to_user_string() in with_preview
    }
    assert set(previews) == {(asset, day.isoformat()) for asset in with_preview for day in days}
    for (asset, key), table in previews.items():
        rows = [line for line in table.splitlines()[2:] if line.strip()]
        assert rows, (asset, key)
        for line in rows:
            first_cells = [cell.strip() for cell in line.strip("|").split("|")]
            if asset == "silver/tweets":
                assert day_of_tweet[first_cells[1]] == key, (asset, key, line)
            elif asset == "silver/users":
                assert key in days_of_user[first_cells[1]], (asset, key, line)
            else:
                assert key in first_cells, (asset, key, line)


def test_rerunning_a_partition_gives_the_same_rows(pipeline):
    day = today() - timedelta(days=2)
    assert pipeline.backfill(day, day).success
    snapshot = pipeline.query("SELECT * FROM silver.tweets ORDER BY tweet_id")
    gold = pipeline.query("SELECT * FROM gold.daily_interactions")
    users = pipeline.query("SELECT user_id, username FROM silver.users ORDER BY user_id")
    assert pipeline.backfill(day, day).success
    assert pipeline.query("SELECT * FROM silver.tweets ORDER BY tweet_id") == snapshot
    assert pipeline.query("SELECT * FROM gold.daily_interactions") == gold
    assert pipeline.query("SELECT user_id, username FROM silver.users ORDER BY user_id") == users
    assert pipeline.query("SELECT count(*) - count(DISTINCT (source, tweet_id)) FROM silver.tweets") == [(0,)]


def test_stored_column_types_are_the_declared_ones(pipeline):
    """The types in the lake are the ones each table declares (and shows in the UI as its column schema): gold's
    engagement sums came out as DECIMAL(38,0), which pandas reads as floats, under a declared BIGINT."""
    from twitter_assets.assets.gold import DAILY_INTERACTIONS_COLUMNS
    from twitter_assets.assets.sentiment import DAILY_SENTIMENT_COLUMNS, TWEET_SENTIMENT_COLUMNS
    from twitter_assets.assets.silver import SOURCE_DAYS_COLUMNS, TWEETS_COLUMNS

    day = today() - timedelta(days=2)
    assert pipeline.backfill(day, day).success
    spelled = {"TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE"}
    for table, columns in {
        "silver.tweets": TWEETS_COLUMNS,
        "silver.source_days": SOURCE_DAYS_COLUMNS,
        "gold.daily_interactions": DAILY_INTERACTIONS_COLUMNS,
        "gold.tweet_sentiment": TWEET_SENTIMENT_COLUMNS,
        "gold.daily_sentiment": DAILY_SENTIMENT_COLUMNS,
    }.items():
        schema, name = table.split(".")
        stored = dict(
            pipeline.query(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = $schema AND table_name = $name",
                {"schema": schema, "name": name},
            )
        )
        declared = {c.name: spelled.get(t, t) for c in columns for t in [c.sql_type.removesuffix(" NOT NULL")]}
        assert stored == declared, table


def test_an_empty_day_is_a_row_of_zeros(make_pipeline):
    pipeline = make_pipeline(sources=[Source(name="quiet", query="zzqx_no_tweet_says_this")])
    day = today() - timedelta(days=1)
    assert pipeline.backfill(day, day).success
    landed = pipeline.lake.read_raw_day("quiet", day)
    assert landed.pages == [{"meta": {"result_count": 0}}]
    assert pipeline.query("SELECT count(*) FROM silver.tweets") == [(0,)]
    assert pipeline.query("SELECT source, day, n_tweets, n_conversations, likes FROM gold.daily_interactions") == [
        ("quiet", day, 0, 0, 0)
    ]


def test_day_outside_the_window_fails_before_any_request(pipeline, simulator):
    day = today() - timedelta(days=9)
    result = pipeline.backfill(day, day, raise_on_error=False)
    assert not result.success
    failure = next(event for event in result.all_events if event.event_type_value == "STEP_FAILURE")
    assert "can no longer be fetched" in str(failure.event_specific_data.error)
    assert simulator.requests == []
    assert pipeline.lake.read_raw_day("aluraonline", day) is None


def test_a_failed_day_of_a_raw_range_run_does_not_cost_the_days_that_landed(pipeline):
    """A range run whose oldest day can no longer be fetched: the other days land and are recorded as
    materialized (a failed step records none of its range: the automation fetched them all again)."""
    first, last = today() - timedelta(days=9), today() - timedelta(days=5)
    result = pipeline.backfill(first, last, selection="raw", raise_on_error=False)
    assert not result.success
    failure = next(event for event in result.all_events if event.event_type_value == "STEP_FAILURE")
    message = str(failure.event_specific_data.error)
    assert "2 of 5 days failed (3 other days landed and are recorded)" in message
    assert f"{first}: source 'aluraonline': partition {first} ended before the recent-search window" in message
    landed = {(today() - timedelta(days=n)).isoformat() for n in (5, 6, 7)}
    assert pipeline.instance.get_materialized_partitions(AssetKey(["raw", "aluraonline"])) == landed
    for day in landed:
        assert pipeline.lake.read_manifest("aluraonline", date.fromisoformat(day)) is not None


def test_landed_day_outside_the_window_is_kept(pipeline, simulator):
    day = today() - timedelta(days=9)
    land(pipeline.lake, day, [tweet("1", day)])
    before = Path(pipeline.lake.raw_pages_path("aluraonline", day)).read_bytes()

    assert pipeline.backfill(day, day).success
    assert Path(pipeline.lake.raw_pages_path("aluraonline", day)).read_bytes() == before
    assert simulator.requests == []
    assert pipeline.query("SELECT tweet_id FROM silver.tweets") == [("1",)]


def test_clamped_day_never_lands_fewer_tweets_than_it_had(make_pipeline, make_simulator, noon):
    pipeline = make_pipeline(simulator=make_simulator(clock=lambda: noon))
    day = noon.date() - timedelta(days=7)  # partly outside the 7-day window: served from 12:02:30 on
    land(pipeline.lake, day, [tweet(str(n), day) for n in range(1, 5000)])
    result = pipeline.backfill(day, day, selection="raw")
    assert result.success
    assert pipeline.lake.read_raw_day("aluraonline", day).tweet_count == 4999
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["outcome"].value == "kept" and metadata["tweets"].value == 4999
    assert f"covers only {day}T12:02:30Z.." in metadata["note"].value  # it was fetched, clamped, and kept
    assert "kept" in metadata["run_days"].value


def test_clamped_fetch_with_more_tweets_keeps_the_landed_ones_it_lacks(make_pipeline, make_simulator, noon):
    """The day was landed at 06:00 with its morning; seven days later the API serves only its afternoon,
    which has more tweets. The afternoon becomes the landing, and the morning is copied aside, not
    deleted (it used to go: not fewer tweets, so no copy)."""
    pipeline = make_pipeline(simulator=make_simulator(clock=lambda: noon))
    day = noon.date() - timedelta(days=7)
    morning = [tweet(f"99{n}", day) for n in range(3)]  # noon: before the window, served from 12:02:30
    land(pipeline.lake, day, morning)
    result = pipeline.backfill(day, day, selection="raw")
    assert result.success
    landed = pipeline.lake.read_raw_day("aluraonline", day)
    assert landed.manifest["clamped"] is True and landed.tweet_count > 3
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["outcome"].value == "landed" and "(3 no longer served)" in metadata["note"].value
    (archived,) = Path(pipeline.lake.raw_day_dir("aluraonline", day)).glob("superseded/*/pages-*.ndjson")
    assert {t["id"] for t in json.loads(archived.read_text(encoding="utf-8"))["data"]} == {"990", "991", "992"}


def test_clamped_day_is_fetched_for_the_part_the_api_serves(make_pipeline, make_simulator, make_x_api, noon):
    simulator = make_simulator(clock=lambda: noon)
    pipeline = make_pipeline(simulator=simulator)
    day = noon.date() - timedelta(days=7)
    result = pipeline.backfill(day, day)
    assert result.success
    manifest = pipeline.lake.read_raw_day("aluraonline", day).manifest
    # the API serves from now - 7 days on; the assets ask 2 minutes later than that (a safety margin)
    served_from = datetime.combine(day, time(12, 2, 30), tzinfo=timezone.utc)
    assert manifest["clamped"] is True
    next_day = day + timedelta(days=1)
    assert (manifest["start_time"], manifest["end_time"]) == (f"{day}T12:02:30Z", f"{next_day}T00:00:00Z")
    expected = api_tweet_ids(make_x_api(simulator=simulator), ALURA.query, day, start=served_from)
    assert {tweet_id for (tweet_id,) in pipeline.query("SELECT tweet_id FROM silver.tweets")} == expected
    assert len(expected) > 0
    assert pipeline.query("SELECT clamped FROM silver.source_days") == [(True,)]
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["clamped"].value is True and metadata["complete"].value is False
    assert pipeline.query("SELECT complete FROM gold.daily_interactions") == [(False,)]


def test_the_token_never_reaches_the_lake_or_the_event_log(pipeline, simulator_token):
    day = today() - timedelta(days=1)
    result = pipeline.backfill(day, day)
    assert result.success
    for path in pipeline.lake.root_path.rglob("*"):
        if path.is_file():
            assert simulator_token.encode() not in path.read_bytes(), path
    assert simulator_token not in json.dumps([str(event) for event in result.all_events])


def test_malformed_api_page_fails_the_run_and_keeps_the_landing(pipeline, simulator):
    day = today() - timedelta(days=1)
    assert pipeline.backfill(day, day, selection="raw").success
    before = Path(pipeline.lake.raw_pages_path("aluraonline", day)).read_bytes()

    simulator.faults.push("malformed", path=SEARCH)
    result = pipeline.backfill(day, day, selection="raw", raise_on_error=False)
    assert not result.success
    failure = next(event for event in result.all_events if event.event_type_value == "STEP_FAILURE")
    assert "no meta.result_count in the answer" in str(failure.event_specific_data.error)
    assert Path(pipeline.lake.raw_pages_path("aluraonline", day)).read_bytes() == before


def test_smaller_refetch_inside_the_window_replaces_but_archives_the_landing(pipeline):
    day = today() - timedelta(days=2)
    land(pipeline.lake, day, [tweet(str(n), day) for n in range(1, 5000)])
    assert pipeline.backfill(day, day, selection="raw").success
    assert 0 < pipeline.lake.read_raw_day("aluraonline", day).tweet_count < 4999
    (archived,) = Path(pipeline.lake.raw_day_dir("aluraonline", day)).glob("superseded/*/pages-*.ndjson")
    assert len(archived.read_text(encoding="utf-8").splitlines()) == 1  # the one page of 4999 tweets
    assert '"id":"4999"' in archived.read_text(encoding="utf-8")


def test_silver_refuses_a_day_with_nothing_landed(pipeline):
    day = today() - timedelta(days=1)
    result = pipeline.backfill(day, day, selection=AssetSelection.groups("silver"), raise_on_error=False)
    assert not result.success
    failure = next(event for event in result.all_events if event.event_type_value == "STEP_FAILURE")
    assert f"nothing is landed for {day}: materialize the raw assets for it first" in str(failure.event_specific_data)


def test_a_source_without_that_day_is_skipped_not_emptied(make_pipeline):
    day = today() - timedelta(days=1)
    old, new = (
        Source(name="aluraonline", query="AluraOnline", account="AluraOnline"),
        Source(name="late", query="python"),
    )
    assert make_pipeline(sources=[old]).backfill(day, day).success
    pipeline = make_pipeline(sources=[old, new])
    result = pipeline.backfill(day, day, selection=AssetSelection.groups("silver", "gold"))
    assert result.success
    assert pipeline.query("SELECT DISTINCT source FROM silver.tweets") == [("aluraonline",)]
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["missing_raw"].value == [f"late/{day}"]


def test_a_day_re_landed_while_silver_reads_it_is_read_from_its_new_landing(pipeline, monkeypatch):
    """A raw run re-lands the day between silver listing it and reading it: the first landing's rows
    are removed under silver. Silver reads the new landing instead of failing with an IO error."""
    import twitter_assets.assets.silver as silver

    day = today() - timedelta(days=2)
    land(pipeline.lake, day, [tweet("1", day), tweet("2", day)])
    write = silver.write_query_partition
    relanded = []

    def a_raw_run_commits_first(lake, db, table, *args, **kwargs):
        if table == "silver.tweets" and not relanded:
            relanded.append(True)
            land(pipeline.lake, day, [tweet("3", day)])  # a different landing: the first one's files go
        return write(lake, db, table, *args, **kwargs)

    monkeypatch.setattr(silver, "write_query_partition", a_raw_run_commits_first)
    result = pipeline.backfill(day, day, selection=AssetSelection.assets(silver.SILVER_TWEETS_KEY))
    assert result.success and relanded
    assert pipeline.query("SELECT tweet_id FROM silver.tweets") == [("3",)]
    assert pipeline.query("SELECT raw_tweets FROM silver.source_days") == [(1,)]


def test_a_day_whose_manifest_was_edited_into_garbage_is_fetched_again_and_the_old_files_kept(pipeline):
    """The checks say "re-materialize the raw partition"; that re-materialization used to fail on the same
    unreadable manifest. It fetches the day again, and the old manifest and pages go to superseded/."""
    day = today() - timedelta(days=2)
    assert pipeline.backfill(day, day, selection="raw").success
    directory = Path(pipeline.lake.raw_day_dir("aluraonline", day))
    old_pages = pipeline.lake.read_manifest("aluraonline", day)["pages_file"]
    (directory / "manifest.json").write_text("{'query': 'AluraOnline',", encoding="utf-8")
    assert pipeline.backfill(day, day, selection="raw").success
    assert pipeline.lake.read_raw_day("aluraonline", day).tweet_count > 0
    (kept,) = directory.glob("superseded/unreadable-*")
    assert (kept / "manifest.json").read_text(encoding="utf-8") == "{'query': 'AluraOnline',"
    assert (kept / old_pages).exists()


def test_a_day_whose_landing_lock_is_held_fails_alone(pipeline):
    """Another process holds one day's commit lock past the timeout: that day fails naming the lock, and the
    other day of the range lands and is recorded (any error of one day, not only an API failure)."""
    import dataclasses

    from filelock import FileLock

    from twitter_assets.lake import Lake

    first, last = today() - timedelta(days=3), today() - timedelta(days=2)
    quick = dataclasses.replace(pipeline, lake=Lake(root=pipeline.lake.root, lock_timeout_seconds=0.5))
    (quick.lake.root_path / ".locks").mkdir(parents=True)
    with FileLock(str(quick.lake.root_path / ".locks" / f"raw-aluraonline-{first}.lock")):
        result = quick.backfill(first, last, selection="raw", raise_on_error=False)
    assert not result.success
    failure = next(event for event in result.all_events if event.event_type_value == "STEP_FAILURE")
    message = str(failure.event_specific_data.error)
    assert "1 of 2 days failed (1 other days landed and are recorded)" in message and "held for 0 s" in message
    assert pipeline.instance.get_materialized_partitions(AssetKey(["raw", "aluraonline"])) == {last.isoformat()}
