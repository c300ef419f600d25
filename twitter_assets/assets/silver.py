"""Silver: typed, deduplicated tables rebuilt from the raw pages, per partition.

- `silver.tweets`: one row per (source, tweet_id), `day` = UTC date of `created_at`.
- `silver.users`: one row per user_id, upserted from every page's `includes.users`; the newest
  sighting wins, so backfilling an old day never overwrites a newer username.
- `silver.source_days`: one row per (source, day) landed, with the fetch window and the account's
  resolved user id; gold uses it to know which days exist (a day with no tweets is still a day).

A partition is replaced as a whole: delete the days, insert them again, inside one transaction,
so a re-run gives the same rows and a failed run leaves the previous ones.
"""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd
from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, Failure, MaterializeResult

from twitter_assets.assets.raw import raw_asset_key
from twitter_assets.assets.tables import column_schema, create_table_sql, daily_table_asset, frame, preview, transaction
from twitter_assets.lake import Lake, RawDay
from twitter_assets.partitions import day_bounds, parse_day
from twitter_assets.sources import Source

SILVER_TWEETS_KEY = AssetKey(["silver", "tweets"])
SILVER_USERS_KEY = AssetKey(["silver", "users"])

TWEETS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("source", "VARCHAR NOT NULL"),
    ("tweet_id", "VARCHAR NOT NULL"),
    ("day", "DATE NOT NULL"),
    ("created_at", "TIMESTAMPTZ NOT NULL"),
    ("author_id", "VARCHAR"),
    ("conversation_id", "VARCHAR"),
    ("text", "VARCHAR"),
    ("lang", "VARCHAR"),
    ("in_reply_to_user_id", "VARCHAR"),
    ("referenced_tweet_id", "VARCHAR"),
    ("like_count", "BIGINT"),
    ("retweet_count", "BIGINT"),
    ("reply_count", "BIGINT"),
    ("quote_count", "BIGINT"),
    ("impression_count", "BIGINT"),
    ("is_retweet", "BOOLEAN NOT NULL"),
    ("is_reply", "BOOLEAN NOT NULL"),
    ("is_quote", "BOOLEAN NOT NULL"),
)
USERS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("user_id", "VARCHAR PRIMARY KEY"),
    ("username", "VARCHAR NOT NULL"),
    ("name", "VARCHAR"),
    ("created_at", "TIMESTAMPTZ"),
    ("first_seen_day", "DATE NOT NULL"),
    ("last_seen_day", "DATE NOT NULL"),
)
SOURCE_DAYS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("source", "VARCHAR NOT NULL"),
    ("day", "DATE NOT NULL"),
    ("query", "VARCHAR NOT NULL"),
    ("account_username", "VARCHAR"),
    ("account_user_id", "VARCHAR"),
    ("window_start", "TIMESTAMPTZ NOT NULL"),
    ("window_end", "TIMESTAMPTZ NOT NULL"),
    ("clamped", "BOOLEAN NOT NULL"),
    ("raw_pages", "BIGINT NOT NULL"),
    ("raw_tweets", "BIGINT NOT NULL"),
)


# ---- flattening the API pages ------------------------------------------------------------------
def tweet_rows(source: str, day: date, raw: RawDay) -> tuple[list[dict[str, Any]], int]:
    """Typed rows of a landed day, first sighting of an id wins; also the count outside the day."""
    day_start, day_end = day_bounds(day)
    rows: dict[str, dict[str, Any]] = {}
    outside = 0
    for page in raw.pages:
        for tweet in page.get("data") or []:
            created_at = _parse_time(tweet["created_at"])
            if not day_start <= created_at < day_end:
                outside += 1
                continue
            if tweet["id"] not in rows:
                rows[tweet["id"]] = _tweet_row(source, day, created_at, tweet)
    return list(rows.values()), outside


def _tweet_row(source: str, day: date, created_at: datetime, tweet: dict[str, Any]) -> dict[str, Any]:
    metrics = tweet.get("public_metrics") or {}
    references = {ref.get("type"): ref.get("id") for ref in tweet.get("referenced_tweets") or []}
    text = tweet.get("text") or ""
    # Older answers (and the real pages this project started from) carry no referenced_tweets:
    # a retweet is then only recognisable by its "RT @" prefix.
    is_retweet = "retweeted" in references or (not references and text.startswith("RT @"))
    return {
        "source": source,
        "tweet_id": tweet["id"],
        "day": day,
        "created_at": created_at,
        "author_id": tweet.get("author_id"),
        "conversation_id": tweet.get("conversation_id"),
        "text": text,
        "lang": tweet.get("lang"),
        "in_reply_to_user_id": tweet.get("in_reply_to_user_id"),
        "referenced_tweet_id": references.get("retweeted") or references.get("quoted") or references.get("replied_to"),
        "like_count": metrics.get("like_count"),
        "retweet_count": metrics.get("retweet_count"),
        "reply_count": metrics.get("reply_count"),
        "quote_count": metrics.get("quote_count"),
        "impression_count": metrics.get("impression_count"),
        "is_retweet": is_retweet,
        "is_reply": tweet.get("in_reply_to_user_id") is not None or "replied_to" in references,
        "is_quote": "quoted" in references,
    }


def user_rows(day: date, raw: RawDay) -> list[dict[str, Any]]:
    users: dict[str, dict[str, Any]] = {}
    for page in raw.pages:
        for user in (page.get("includes") or {}).get("users") or []:
            users.setdefault(
                user["id"],
                {
                    "user_id": user["id"],
                    "username": user.get("username"),
                    "name": user.get("name"),
                    "created_at": _parse_time(user["created_at"]) if user.get("created_at") else None,
                    "first_seen_day": day,
                    "last_seen_day": day,
                },
            )
    return list(users.values())


def source_day_row(source: Source, day: date, raw: RawDay) -> dict[str, Any]:
    manifest = raw.manifest
    account = manifest.get("account") or {}
    return {
        "source": source.name,
        "day": day,
        "query": manifest.get("query", source.query),
        "account_username": account.get("username") or source.account,
        "account_user_id": account.get("id"),
        "window_start": _parse_time(manifest["start_time"]),
        "window_end": _parse_time(manifest["end_time"]),
        "clamped": bool(manifest.get("clamped")),
        "raw_pages": len(raw.pages),
        "raw_tweets": raw.tweet_count,
    }


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# ---- assets ------------------------------------------------------------------------------------
def _landed_days(
    context: AssetExecutionContext, lake: Lake, sources: Sequence[Source]
) -> tuple[list[tuple[Source, date, RawDay]], list[str]]:
    """(source, day, RawDay) for every landed day of the run's partitions.

    A source missing a day (say, one added to sources.yaml later) is reported and skipped; a day
    with nothing landed for any source is an error: silver would claim a day it knows nothing of.
    """
    landed: list[tuple[Source, date, RawDay]] = []
    missing: list[str] = []
    for key in context.partition_keys:
        day = parse_day(key)
        found = [(source, day, lake.read_raw_day(source.name, day)) for source in sources]
        if all(raw is None for _, _, raw in found):
            raise Failure(description=f"nothing is landed for {key}: materialize the raw assets for it first")
        landed.extend((source, day, raw) for source, day, raw in found if raw is not None)
        missing.extend(f"{source.name}/{key}" for source, _, raw in found if raw is None)
    if missing:
        context.log.warning(f"no raw landing for {', '.join(missing)}: those source-days are left as they were")
    return landed, missing


def build_silver_assets(sources: Sequence[Source]) -> list[AssetsDefinition]:
    raw_keys = [raw_asset_key(source) for source in sources]

    @daily_table_asset(
        key=SILVER_TWEETS_KEY,
        table="silver.tweets",
        columns=TWEETS_COLUMNS,
        deps=raw_keys,
        description="One typed row per (source, tweet) created that UTC day, deduplicated; plus silver.source_days.",
    )
    def silver_tweets(context: AssetExecutionContext, lake: Lake) -> MaterializeResult:
        landed, missing = _landed_days(context, lake, sources)
        tweets, day_rows, outside = [], [], 0
        for source, day, raw in landed:
            rows, dropped = tweet_rows(source.name, day, raw)
            tweets.extend(rows)
            outside += dropped
            day_rows.append(source_day_row(source, day, raw))
        tweets_frame, days_frame = frame(tweets, TWEETS_COLUMNS), frame(day_rows, SOURCE_DAYS_COLUMNS)
        scope = pd.DataFrame({"source": [r["source"] for r in day_rows], "day": [r["day"] for r in day_rows]})
        with lake.connect() as db:
            db.execute(create_table_sql("silver.tweets", TWEETS_COLUMNS))
            db.execute(create_table_sql("silver.source_days", SOURCE_DAYS_COLUMNS))
            db.register("scope_frame", scope)
            db.register("tweets_frame", tweets_frame)
            db.register("days_frame", days_frame)
            with transaction(db):
                for table in ("silver.tweets", "silver.source_days"):
                    db.execute(f"DELETE FROM {table} t USING scope_frame s WHERE t.source = s.source AND t.day = s.day")
                db.execute("INSERT INTO silver.tweets BY NAME SELECT * FROM tweets_frame")
                db.execute("INSERT INTO silver.source_days BY NAME SELECT * FROM days_frame")
        if outside:
            context.log.warning(f"{outside} landed tweets were created outside their partition's day and were left out")
        return MaterializeResult(
            metadata={
                "dagster/row_count": len(tweets_frame),
                "source_days": len(days_frame),
                "missing_raw": missing,
                "outside_day_dropped": outside,
                "preview": preview(
                    tweets_frame, ["source", "tweet_id", "created_at", "is_reply", "is_retweet", "text"]
                ),
                "dagster/column_schema": column_schema(TWEETS_COLUMNS),
            }
        )

    @daily_table_asset(
        key=SILVER_USERS_KEY,
        table="silver.users",
        columns=USERS_COLUMNS,
        deps=raw_keys,
        description="One row per X user seen as an author, upserted; the newest sighting wins.",
    )
    def silver_users(context: AssetExecutionContext, lake: Lake) -> MaterializeResult:
        landed, missing = _landed_days(context, lake, sources)
        newest: dict[str, dict[str, Any]] = {}
        for _, day, raw in sorted(landed, key=lambda item: item[1]):
            for row in user_rows(day, raw):
                known = newest.get(row["user_id"])
                newest[row["user_id"]] = row if known is None else {**row, "first_seen_day": known["first_seen_day"]}
        users_frame = frame(list(newest.values()), USERS_COLUMNS)
        with lake.connect() as db:
            db.execute(create_table_sql("silver.users", USERS_COLUMNS))
            db.register("users_frame", users_frame)
            db.execute(
                """
                INSERT INTO silver.users BY NAME SELECT * FROM users_frame
                ON CONFLICT (user_id) DO UPDATE SET
                    username = CASE WHEN excluded.last_seen_day >= silver.users.last_seen_day
                                    THEN excluded.username ELSE silver.users.username END,
                    name = CASE WHEN excluded.last_seen_day >= silver.users.last_seen_day
                                THEN excluded.name ELSE silver.users.name END,
                    created_at = coalesce(excluded.created_at, silver.users.created_at),
                    first_seen_day = least(excluded.first_seen_day, silver.users.first_seen_day),
                    last_seen_day = greatest(excluded.last_seen_day, silver.users.last_seen_day)
                """
            )
            total = db.execute("SELECT count(*) FROM silver.users").fetchone()[0]
        return MaterializeResult(
            metadata={
                "dagster/row_count": total,
                "users_seen_in_run": len(users_frame),
                "missing_raw": missing,
                "preview": preview(users_frame, ["user_id", "username", "name", "created_at"]),
                "dagster/column_schema": column_schema(USERS_COLUMNS),
            }
        )

    return [silver_tweets, silver_users]
