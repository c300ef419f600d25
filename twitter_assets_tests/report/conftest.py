"""A small real lake for the report: a DuckDB file in tmp_path with the silver and gold tables.

Two sources over four days, one partial day, a tweet whose text is `<script>alert(1)</script>` with
emoji, replies to the account and one answer from it; the sentiment tables are optional.
"""

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pandas as pd
import pytest

DAYS = [date(2026, 11, 20) + timedelta(days=i) for i in range(4)]
SOURCES = {"aluraonline": ("AluraOnline", "100"), "alura_cursos": ("AluraCursos", "200")}
SCRIPT_TEXT = "Olha isso <script>alert(1)</script> 😀🚀 & mais"


def _tweets() -> pd.DataFrame:
    rows = []
    for source, (_, account_id) in SOURCES.items():
        for d, day in enumerate(DAYS):
            base = datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)
            for i in range(3):
                tweet_id = f"{source[:3]}{d}{i}"
                rows.append(
                    dict(
                        source=source,
                        tweet_id=tweet_id,
                        day=day,
                        created_at=base + timedelta(minutes=i),
                        author_id=f"u{i}",
                        conversation_id=tweet_id,
                        text=f"tweet {tweet_id} sobre cursos",
                        lang="pt",
                        in_reply_to_user_id=account_id if i == 1 else None,
                        referenced_tweet_id=None,
                        like_count=1000 * d + i,
                        retweet_count=i,
                        reply_count=0,
                        quote_count=0,
                        impression_count=10,
                        is_retweet=False,
                        is_reply=i == 1,
                        is_quote=False,
                    )
                )
        # the account answers the first reply to it, later that day; one retweet with huge echoed metrics
        rows.append(
            dict(
                source=source,
                tweet_id=f"{source[:3]}ans",
                day=DAYS[0],
                created_at=datetime(2026, 11, 20, 13, tzinfo=timezone.utc),
                author_id=account_id,
                conversation_id=f"{source[:3]}01",
                text="Oi! Já respondemos",
                lang="pt",
                in_reply_to_user_id="u1",
                referenced_tweet_id=f"{source[:3]}01",
                like_count=0,
                retweet_count=0,
                reply_count=0,
                quote_count=0,
                impression_count=1,
                is_retweet=False,
                is_reply=True,
                is_quote=False,
            )
        )
        rows.append(
            dict(
                source=source,
                tweet_id=f"{source[:3]}rt",
                day=DAYS[-1],
                created_at=datetime(2026, 11, 23, 9, tzinfo=timezone.utc),
                author_id="u9",
                conversation_id=f"{source[:3]}rt",
                text="RT @x: retweeted text",
                lang="pt",
                in_reply_to_user_id=None,
                referenced_tweet_id="x",
                like_count=999_999,
                retweet_count=0,
                reply_count=0,
                quote_count=0,
                impression_count=0,
                is_retweet=True,
                is_reply=False,
                is_quote=False,
            )
        )
    rows.append(
        dict(
            source="aluraonline",
            tweet_id="xss",
            day=DAYS[-1],
            created_at=datetime(2026, 11, 23, 8, tzinfo=timezone.utc),
            author_id="u0",
            conversation_id="xss",
            text=SCRIPT_TEXT,
            lang="pt",
            in_reply_to_user_id=None,
            referenced_tweet_id=None,
            like_count=123_456,
            retweet_count=7,
            reply_count=3,
            quote_count=1,
            impression_count=0,
            is_retweet=False,
            is_reply=False,
            is_quote=False,
        )
    )
    return pd.DataFrame(rows)


def _daily(tweets: pd.DataFrame, with_new_columns: bool) -> pd.DataFrame:
    rows = []
    for (source, day), group in tweets.groupby(["source", "day"]):
        kept = group[~group["is_retweet"]]
        row = dict(
            source=source,
            day=day,
            weekday=pd.Timestamp(day).strftime("%a"),
            n_tweets=len(group),
            n_conversations=group["conversation_id"].nunique(),
            n_replies_to_account=int(group["in_reply_to_user_id"].notna().sum()),
            n_account_conversation_tweets=0,
            n_account_tweets=0,
            n_authors=group["author_id"].nunique(),
            n_replies=int(group["is_reply"].sum()),
            n_retweets=int(group["is_retweet"].sum()),
            n_quotes=0,
            likes=int(kept["like_count"].sum()) * 10,
            retweets=int(kept["retweet_count"].sum()),
            replies=int(kept["reply_count"].sum()),
            quotes=int(kept["quote_count"].sum()),
        )
        if with_new_columns:
            start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
            partial = source == "aluraonline" and day == DAYS[0]
            row.update(
                complete=not partial,
                window_start=start + timedelta(hours=6 if partial else 0),
                window_end=start + timedelta(days=1),
            )
        rows.append(row)
    return pd.DataFrame(rows)


def build_lake(path: Path, *, sentiment: bool = True, with_new_columns: bool = True) -> Path:
    tweets = _tweets()
    users = pd.DataFrame(
        [
            dict(
                user_id="u0",
                username="ana_dev",
                name="Ana",
                created_at=None,
                first_seen_day=DAYS[0],
                last_seen_day=DAYS[-1],
            ),
            dict(
                user_id="u1",
                username="<b>bruno</b>",
                name="Bruno",
                created_at=None,
                first_seen_day=DAYS[0],
                last_seen_day=DAYS[-1],
            ),
        ]
    )
    source_days = pd.DataFrame(
        [
            dict(
                source=s,
                day=d,
                query=f"{a} OR @{a}",
                account_username=a,
                account_user_id=uid,
                window_start=None,
                window_end=None,
                clamped=False,
                raw_pages=1,
                raw_tweets=3,
                complete=not (s == "aluraonline" and d == DAYS[0]),
            )
            for s, (a, uid) in SOURCES.items()
            for d in DAYS
        ]
    )
    daily = _daily(tweets, with_new_columns)
    db = duckdb.connect(str(path))
    try:
        db.execute("CREATE SCHEMA silver; CREATE SCHEMA gold")
        for name, frame in {
            "silver.tweets": tweets,
            "silver.users": users,
            "silver.source_days": source_days,
            "gold.daily_interactions": daily,
        }.items():
            db.register("frame", frame)
            db.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
            db.unregister("frame")
        db.execute("ALTER TABLE silver.tweets ALTER created_at TYPE TIMESTAMPTZ")
        if sentiment:
            scored = daily[["source", "day"]].copy()
            scored["n_scored"] = 3
            scored["mean_score"] = [0.1 * i - 0.2 for i in range(len(scored))]
            scored["share_positive"], scored["share_neutral"], scored["share_negative"] = 0.5, 0.3, 0.2
            for column in ("n_replies_to_account_scored",):
                scored[column] = 1
            scored["replies_mean_score"] = 0.0
            scored["replies_share_positive"] = scored["replies_share_neutral"] = 0.0
            scored["replies_share_negative"] = 1.0
            scored["model_version"] = "test-1"
            db.register("frame", scored)
            db.execute("CREATE TABLE gold.daily_sentiment AS SELECT * FROM frame")
            db.execute(
                """CREATE VIEW gold.tweet_sentiment AS SELECT source, tweet_id, day,
                   CASE WHEN tweet_id = 'xss' THEN 'positive' ELSE 'neutral' END AS label,
                   0.5 AS score, 'test-1' AS model_version FROM silver.tweets"""
            )
    finally:
        db.close()
    return path


@pytest.fixture
def make_lake(tmp_path) -> Iterator[Callable[..., duckdb.DuckDBPyConnection]]:
    """Build a lake file and open it (read-only, UTC), closing every connection afterwards."""
    opened: list[duckdb.DuckDBPyConnection] = []

    def make(name: str = "twitter.duckdb", **options) -> duckdb.DuckDBPyConnection:
        path = build_lake(tmp_path / name, **options)
        db = duckdb.connect(str(path), read_only=True)
        db.execute("SET TimeZone = 'UTC'")
        opened.append(db)
        return db

    yield make
    for db in opened:
        db.close()


@pytest.fixture
def empty_db(tmp_path) -> Iterator[duckdb.DuckDBPyConnection]:
    db = duckdb.connect(str(tmp_path / "empty.duckdb"))
    yield db
    db.close()
