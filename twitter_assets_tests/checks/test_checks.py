"""Every asset check passes on a clean backfill and fails, with a message a person understands,
when its data is broken on purpose."""

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest
from dagster import AssetCheckKey, AssetKey, AssetMaterialization, AssetSelection, TableColumn, TableSchema

from twitter_assets_tests.pipeline_fixtures import land, tweet

RAW = AssetKey(["raw", "aluraonline"])
TWEETS = AssetKey(["silver", "tweets"])
USERS = AssetKey(["silver", "users"])
GOLD = AssetKey(["gold", "daily_interactions"])
DAILY_SENTIMENT = AssetKey(["gold", "daily_sentiment"])


def yesterday() -> date:
    return datetime.now(timezone.utc).date() - timedelta(days=1)


@pytest.fixture
def landed(pipeline):
    """A clean backfill of two days; returns the pipeline and the days."""
    days = (yesterday() - timedelta(days=1), yesterday())
    result = pipeline.backfill(*days)
    assert result.success
    return pipeline, days, result


def evaluations(result) -> dict[tuple[str, str, str | None], object]:
    return {
        (evaluation.asset_key.to_user_string(), evaluation.check_name, evaluation.partition): evaluation
        for evaluation in result.get_asset_check_evaluations()
    }


def run_check(pipeline, day: date, asset: AssetKey, name: str, partitioned: bool = True):
    """Run one check alone on one day, as a one-day range (what the automation launches), and return the verdict
    recorded on that day's partition: without one the UI shows the day's check as skipped. `partitioned=False`:
    a check that judges the asset as a whole (Dagster's column-schema check), whose one verdict has no partition."""
    result = pipeline.backfill(
        day, day, selection=AssetSelection.checks(AssetCheckKey(asset, name)), raise_on_error=False
    )
    evaluations = result.get_asset_check_evaluations()
    if partitioned:
        evaluations = [e for e in evaluations if e.partition == day.isoformat()]
    (evaluation,) = evaluations
    return evaluation


def test_clean_backfill_passes_every_check_for_every_partition(landed):
    pipeline, days, result = landed
    found = evaluations(result)
    partitioned = {key for key in found if key[2] is not None}
    assert all(found[key].passed for key in found), [found[key].description for key in found if not found[key].passed]
    # each partitioned check has one verdict per day, visible per partition
    per_check = {(asset, name) for asset, name, _ in partitioned}
    assert len(per_check) == 17
    assert partitioned == {(asset, name, day.isoformat()) for asset, name in per_check for day in days}


def tamper(pipeline, table: str, sql: str, params: dict | None = None, day: date | None = None) -> None:
    """Change a table's stored rows by hand (as a bug or a person could): `sql` edits the table `t`."""
    for path in pipeline.lake.partition_files(table, (day, day) if day else None):
        db = duckdb.connect()
        db.execute("CREATE TABLE t AS SELECT * FROM read_parquet($path)", {"path": path})
        db.execute(sql, params or {})
        db.execute(f"COPY t TO '{path}' (FORMAT parquet)")
        db.close()


def break_raw(pipeline, day: date, edit) -> None:
    """Re-land the day as `edit(pages, manifest)` returns it. Tokens that no longer match the pages (a page
    dropped) cannot be landed: the manifest is then edited by hand after the landing, as a person could."""
    landing = pipeline.lake.read_raw_day("aluraonline", day)
    pages, manifest = edit([dict(page) for page in landing.pages], dict(landing.manifest))
    tokens = manifest.pop("pagination_tokens")
    committed = pipeline.lake.write_raw_day(
        "aluraonline", day, pages, {**manifest, "pagination_tokens": tokens[: len(pages)]}
    )
    if len(tokens) != len(pages):
        path = Path(pipeline.lake.raw_manifest_path("aluraonline", day))
        path.write_text(json.dumps({**committed, "pagination_tokens": tokens}), encoding="utf-8")


def test_dropped_page_breaks_the_next_token_chain(make_pipeline):
    pipeline = make_pipeline()
    pipeline.x_api = pipeline.x_api.model_copy(update={"page_size": 20})
    day = yesterday()
    assert pipeline.backfill(day, day).success
    break_raw(pipeline, day, lambda pages, manifest: (pages[:1] + pages[2:], manifest))
    evaluation = run_check(pipeline, day, RAW, "next_token_chain_complete")
    assert not evaluation.passed
    assert "a page is missing" in evaluation.description


def test_page_without_tweet_id_fails_the_shape_check(landed):
    pipeline, (_, day), _ = landed

    def drop_id(pages, manifest):
        tweet = dict(pages[0]["data"][0])
        del tweet["id"]
        pages[0]["data"] = [tweet, *pages[0]["data"][1:]]
        return pages, manifest

    break_raw(pipeline, day, drop_id)
    evaluation = run_check(pipeline, day, RAW, "pages_match_api_shape")
    assert not evaluation.passed and evaluation.description == "page 1 of %d: tweet 0 has no string 'id'" % len(  # noqa: UP031
        pipeline.lake.read_raw_day("aluraonline", day).pages
    )


def test_result_count_lie_fails_the_count_check(landed):
    pipeline, (_, day), _ = landed

    def inflate(pages, manifest):
        pages[0]["meta"] = {**pages[0]["meta"], "result_count": pages[0]["meta"]["result_count"] + 1}
        return pages, manifest

    break_raw(pipeline, day, inflate)
    evaluation = run_check(pipeline, day, RAW, "result_counts_match_tweets")
    assert not evaluation.passed and "sum of meta.result_count" in evaluation.description


def test_window_not_covering_the_day_fails(landed):
    pipeline, (_, day), _ = landed
    break_raw(
        pipeline, day, lambda pages, manifest: (pages, {**manifest, "start_time": f"{day}T06:00:00Z", "clamped": False})
    )
    evaluation = run_check(pipeline, day, RAW, "window_matches_partition")
    assert not evaluation.passed and "is not marked clamped" in evaluation.description


def test_duplicated_tweet_fails_uniqueness(landed):
    pipeline, (_, day), _ = landed
    (tweet_id,) = pipeline.query("SELECT min(tweet_id) FROM silver.tweets WHERE day = $day", {"day": day})[0]
    tamper(pipeline, "silver.tweets", "INSERT INTO t SELECT * FROM t WHERE tweet_id = $id", {"id": tweet_id}, day)
    evaluation = run_check(pipeline, day, TWEETS, "tweet_ids_unique")
    assert not evaluation.passed and f"aluraonline/{tweet_id} x2" in evaluation.description


def test_null_author_fails_required_columns(landed):
    pipeline, (_, day), _ = landed
    tamper(
        pipeline,
        "silver.tweets",
        "UPDATE t SET author_id = NULL WHERE tweet_id = (SELECT min(tweet_id) FROM t)",
        day=day,
    )
    evaluation = run_check(pipeline, day, TWEETS, "required_columns_not_null")
    assert not evaluation.passed and evaluation.description == "required columns hold nulls (author_id: 1)"


def test_tweet_on_the_wrong_day_fails(landed):
    pipeline, (_, day), _ = landed
    tamper(
        pipeline,
        "silver.tweets",
        "UPDATE t SET created_at = created_at - INTERVAL 2 DAY WHERE tweet_id = (SELECT min(tweet_id) FROM t)",
        day=day,
    )
    evaluation = run_check(pipeline, day, TWEETS, "created_at_inside_day")
    assert not evaluation.passed and "created on another day" in evaluation.description


def test_tweet_lost_between_raw_and_silver_fails_completeness(landed):
    pipeline, (_, day), _ = landed
    (tweet_id,) = pipeline.query("SELECT max(tweet_id) FROM silver.tweets WHERE day = $day", {"day": day})[0]
    tamper(pipeline, "silver.tweets", "DELETE FROM t WHERE tweet_id = $id", {"id": tweet_id}, day)
    evaluation = run_check(pipeline, day, TWEETS, "complete_against_raw")
    assert not evaluation.passed and f"1 raw tweets missing from silver, e.g. ['{tweet_id}']" in evaluation.description


def test_unknown_author_is_reported_with_its_share(landed):
    pipeline, (_, day), _ = landed
    (author,) = pipeline.query("SELECT min(author_id) FROM silver.tweets WHERE day = $day", {"day": day})[0]
    tamper(pipeline, "silver.users_seen", "DELETE FROM t WHERE user_id = $id", {"id": author})
    evaluation = run_check(pipeline, day, TWEETS, "authors_known")
    assert not evaluation.passed and "missing from silver.users" in evaluation.description
    assert evaluation.metadata["share"].value < 1


def test_duplicate_user_sighting_fails(landed):
    pipeline, (_, day), _ = landed
    tamper(pipeline, "silver.users_seen", "INSERT INTO t SELECT * FROM t LIMIT 1", day=day)
    evaluation = run_check(pipeline, day, USERS, "user_ids_unique")
    assert not evaluation.passed and "appear more than once" in evaluation.description


def test_empty_username_fails(landed):
    pipeline, (_, day), _ = landed
    tamper(
        pipeline,
        "silver.users_seen",
        "UPDATE t SET username = '' WHERE user_id = (SELECT min(user_id) FROM t)",
        day=day,
    )
    evaluation = run_check(pipeline, day, USERS, "usernames_not_empty")
    assert not evaluation.passed and "1 users have an empty username" in evaluation.description


def test_gold_row_off_by_one_fails_reconciliation(landed):
    pipeline, (_, day), _ = landed
    (n_tweets,) = pipeline.query("SELECT n_tweets FROM gold.daily_interactions WHERE day = $day", {"day": day})[0]
    tamper(pipeline, "gold.daily_interactions", "UPDATE t SET n_tweets = n_tweets + 1", day=day)
    evaluation = run_check(pipeline, day, GOLD, "reconciles_with_silver")
    assert not evaluation.passed
    assert f"aluraonline n_tweets: gold says {n_tweets + 1}, silver says {n_tweets}" in evaluation.description


def test_gold_day_without_a_silver_source_day_fails_reconciliation_without_crashing(landed):
    """silver.source_days lost the day (a hand-deleted file) while gold kept its row: a verdict, not a KeyError."""
    pipeline, (_, day), _ = landed
    tamper(pipeline, "silver.source_days", "DELETE FROM t", day=day)
    evaluation = run_check(pipeline, day, GOLD, "reconciles_with_silver")
    assert not evaluation.passed
    assert "gold rows for ['aluraonline'] that silver has no landed day for" in evaluation.description


@pytest.mark.parametrize("broken", ["NULL", "'NaN'::DOUBLE"])
def test_missing_or_nan_share_fails_the_shares_check(landed, broken):
    """A NULL share made the sum NULL (the check crashed); a NaN share compared false (the check passed)."""
    pipeline, (_, day), _ = landed
    tamper(pipeline, "gold.daily_sentiment", f"UPDATE t SET share_neutral = {broken}", day=day)
    evaluation = run_check(pipeline, day, DAILY_SENTIMENT, "shares_sum_to_one")
    assert not evaluation.passed
    assert "aluraonline: shares add up to" in evaluation.description and "not a number" in evaluation.description


def test_a_day_whose_table_file_is_missing_cannot_be_judged(landed):
    """The day's gold files are gone (hand-deleted, or never written) while other days have theirs: a
    query of that day finds no rows, and these checks used to pass it."""
    pipeline, (_, day), _ = landed
    for table in ("gold.daily_interactions", "gold.tweet_sentiment", "gold.daily_sentiment"):
        (path,) = pipeline.lake.partition_files(table, (day, day))
        pipeline.lake.fs.rm(path)
    keys = [
        AssetCheckKey(GOLD, "no_negative_counts"),
        AssetCheckKey(GOLD, "reconciles_with_silver"),
        AssetCheckKey(AssetKey(["gold", "tweet_sentiment"]), "scores_in_range"),
        AssetCheckKey(DAILY_SENTIMENT, "shares_sum_to_one"),
        AssetCheckKey(DAILY_SENTIMENT, "label_mix_stable"),
    ]
    result = pipeline.backfill(day, day, selection=AssetSelection.checks(*keys), raise_on_error=False)
    found = {e.check_name: e for e in result.get_asset_check_evaluations() if e.partition == day.isoformat()}
    assert sorted(found) == sorted(key.name for key in keys)
    for name, evaluation in found.items():
        assert not evaluation.passed and evaluation.severity.value == "WARN", name
        assert evaluation.description.startswith("cannot judge: gold.") and f"has no file for {day}" in (
            evaluation.description
        ), name


def test_negative_count_fails(landed):
    pipeline, (_, day), _ = landed
    tamper(pipeline, "gold.daily_interactions", "UPDATE t SET likes = -1", day=day)
    evaluation = run_check(pipeline, day, GOLD, "no_negative_counts")
    assert not evaluation.passed and "negative values in ['likes']" in evaluation.description


def test_changed_column_schema_is_noticed(landed):
    pipeline, (_, day), _ = landed
    pipeline.instance.report_runless_asset_event(
        AssetMaterialization(
            asset_key=TWEETS,
            partition=day.isoformat(),
            metadata={"dagster/column_schema": TableSchema(columns=[TableColumn("tweet_id", "varchar")])},
        )
    )
    evaluation = run_check(pipeline, day, TWEETS, "column_schema_change", partitioned=False)
    assert not evaluation.passed and "Removed columns" in evaluation.description


def test_bad_raw_day_does_not_flow_into_silver_or_gold(pipeline):
    day = datetime.now(timezone.utc).date() - timedelta(days=9)  # outside the window: raw keeps what is landed
    land(pipeline.lake, day, [tweet("7", day)])
    break_raw(
        pipeline,
        day,
        lambda pages, manifest: ([{**pages[0], "meta": {**pages[0]["meta"], "next_token": "lost"}}], manifest),
    )
    result = pipeline.backfill(day, day, raise_on_error=False)
    assert not result.success
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed and e.partition == day.isoformat()]
    assert [e.check_name for e in failed] == ["next_token_chain_complete"]
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"raw/aluraonline"}


def test_the_report_keeps_an_earlier_days_failure_a_later_run_did_not_judge(landed):
    """A backfill's checks found day 1 broken; the automation's next run judged only day 2. The report
    shows the newest verdict per check and day, so day 1's failure stays (it took the newest run per
    check, which had judged day 2 alone). Guards the event-log query `latest_check_verdicts` makes
    with dagster's internal PartitionKeyFilter."""
    pipeline, (first, last), _ = landed
    tamper(pipeline, "gold.daily_interactions", "UPDATE t SET likes = -1", day=first)
    key = AssetCheckKey(GOLD, "no_negative_counts")
    both = pipeline.backfill(first, last, selection=AssetSelection.checks(key), raise_on_error=False)
    assert [e.passed for e in both.get_asset_check_evaluations() if e.partition] == [False, True]
    assert pipeline.backfill(last, last, selection=AssetSelection.checks(key), raise_on_error=False)
    # In-process runs have no code location: the report knows the checks its run's graph holds.
    report = AssetSelection.assets(AssetKey(["report", "daily_html"])) | AssetSelection.checks(key)
    metadata = pipeline.backfill(last, last, selection=report).get_asset_materialization_events()[0].materialization
    assert metadata.metadata["failed_verdicts"].value >= 1
    html = (pipeline.lake.root_path / "report.html").read_text(encoding="utf-8")
    assert f'<td class="day">{first.isoformat()}</td><td><span class="failed">failed</span>' in html
