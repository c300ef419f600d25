"""What the report reads from the lake: the per-day frame, the top tweets, the answered share.

Everything here takes an open DuckDB connection and only reads. Tables that arrive with later
issues (`gold.daily_sentiment`, `gold.tweet_sentiment`) and columns that are new
(`complete`, `window_start`, `window_end`) are optional: their absence removes the part of the
report that needs them, never the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import pandas as pd

DAILY = "gold.daily_interactions"
SENTIMENT = "gold.daily_sentiment"
TWEET_SENTIMENT = "gold.tweet_sentiment"

# gold.daily_interactions columns in the order the report shows them (the new ones may be missing).
INTERACTION_COLUMNS = [
    "n_tweets",
    "n_conversations",
    "n_replies_to_account",
    "n_account_conversation_tweets",
    "n_account_tweets",
    "n_authors",
    "n_replies",
    "n_retweets",
    "n_quotes",
    "likes",
    "retweets",
    "replies",
    "quotes",
]
SENTIMENT_COLUMNS = [
    "n_scored",
    "mean_score",
    "share_positive",
    "share_neutral",
    "share_negative",
    "n_replies_to_account_scored",
    "replies_mean_score",
    "replies_share_positive",
    "replies_share_neutral",
    "replies_share_negative",
]


def _split(name: str) -> tuple[str, str]:
    schema, _, table = name.rpartition(".")
    return schema or "main", table


def table_exists(db: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether `schema.table` exists as a table or a view in the connection's database."""
    schema, table = _split(name)
    row = db.execute(
        """
        SELECT count(*) FROM (
            SELECT schema_name, table_name FROM duckdb_tables()
            UNION ALL
            SELECT schema_name, view_name FROM duckdb_views()
        ) WHERE schema_name = $schema AND table_name = $table
        """,
        {"schema": schema, "table": table},
    ).fetchone()
    return bool(row and row[0])


def table_columns(db: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    """The column names of a table or view, in order (empty if it does not exist)."""
    schema, table = _split(name)
    rows = db.execute(
        """SELECT column_name FROM information_schema.columns
           WHERE table_schema = $schema AND table_name = $table ORDER BY ordinal_position""",
        {"schema": schema, "table": table},
    ).fetchall()
    return [row[0] for row in rows]


def daily_frame(db: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """gold.daily_interactions, with gold.daily_sentiment joined on (source, day) when it exists.

    Always has `complete` (true where the column is missing) and `has_sentiment` in `frame.attrs`.
    Empty (no rows) when the gold table is missing or empty.
    """
    if not table_exists(db, DAILY):
        frame = pd.DataFrame(columns=["source", "day", "weekday", *INTERACTION_COLUMNS, "complete"])
        frame.attrs["has_sentiment"] = False
        return frame
    present = set(table_columns(db, DAILY))
    wanted = ["source", "day", "weekday", *INTERACTION_COLUMNS, "complete", "window_start", "window_end"]
    select = [f"d.{c}" for c in wanted if c in present]
    joins = ""
    has_sentiment = table_exists(db, SENTIMENT)
    if has_sentiment:
        sentiment_present = set(table_columns(db, SENTIMENT))
        sentiment = [c for c in SENTIMENT_COLUMNS if c in sentiment_present]
        has_sentiment = "share_positive" in sentiment
        if has_sentiment:
            select += [f"s.{c}" for c in sentiment]
            joins = f"LEFT JOIN {SENTIMENT} s ON s.source = d.source AND s.day = d.day"
    if "complete" not in present:
        select.append(_complete_fallback(db))
    frame = db.execute(f"SELECT {', '.join(select)} FROM {DAILY} d {joins} ORDER BY d.source, d.day").df()
    frame["complete"] = frame["complete"].fillna(True).astype(bool)
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    frame.attrs["has_sentiment"] = has_sentiment
    return frame


def _complete_fallback(db: duckdb.DuckDBPyConnection) -> str:
    """A `complete` column for a gold table without one: from silver.source_days (its `complete`,
    else `NOT clamped`: a clamped day was fetched only in part), else true."""
    columns = set(table_columns(db, "silver.source_days"))
    expression = "sd.complete" if "complete" in columns else "NOT sd.clamped" if "clamped" in columns else None
    if expression is None:
        return "true AS complete"
    return (
        f"coalesce((SELECT bool_and({expression}) FROM silver.source_days sd "
        "WHERE sd.source = d.source AND sd.day = d.day), true) AS complete"
    )


@dataclass(frozen=True)
class Account:
    source: str
    username: str | None
    user_id: str | None
    query: str | None = None


def accounts(db: duckdb.DuckDBPyConnection) -> dict[str, Account]:
    """The account tracked by each source, from its newest landed day (None where it has none)."""
    if not table_exists(db, "silver.source_days"):
        return {}
    rows = db.execute(
        """
        SELECT source, arg_max(account_username, day), arg_max(account_user_id, day), arg_max(query, day)
        FROM silver.source_days GROUP BY source
        """
    ).fetchall()
    return {row[0]: Account(*row) for row in rows}


def top_tweets(
    db: duckdb.DuckDBPyConnection, source: str, last_day: date, *, days: int = 7, limit: int = 10
) -> pd.DataFrame:
    """The most engaging tweets (likes + retweets + replies + quotes) of the `days` ending at `last_day`.

    Retweets are excluded (their metrics are the original's). `username` is null when silver.users
    does not know the author; `sentiment` is null when gold.tweet_sentiment is missing.
    """
    first_day = last_day - timedelta(days=days - 1)
    has_users = table_exists(db, "silver.users")
    has_sentiment = table_exists(db, TWEET_SENTIMENT)
    username = "u.username" if has_users else "NULL::VARCHAR"
    users_join = "LEFT JOIN silver.users u ON u.user_id = t.author_id" if has_users else ""
    label = "ts.label" if has_sentiment else "NULL::VARCHAR"
    sentiment_join = (
        f"LEFT JOIN {TWEET_SENTIMENT} ts ON ts.source = t.source AND ts.tweet_id = t.tweet_id" if has_sentiment else ""
    )
    return db.execute(
        f"""
        SELECT t.day, t.created_at, t.tweet_id, t.author_id, {username} AS username, t.text,
               t.like_count AS likes, t.retweet_count AS retweets, t.reply_count AS replies,
               t.quote_count AS quotes,
               coalesce(t.like_count, 0) + coalesce(t.retweet_count, 0) + coalesce(t.reply_count, 0)
                 + coalesce(t.quote_count, 0) AS engagement,
               t.is_reply, t.is_quote, {label} AS sentiment
        FROM silver.tweets t {users_join} {sentiment_join}
        WHERE t.source = $source AND t.day BETWEEN $first AND $last AND NOT t.is_retweet
        ORDER BY engagement DESC, t.created_at DESC, t.tweet_id
        LIMIT $limit
        """,
        {"source": source, "first": first_day, "last": last_day, "limit": limit},
    ).df()


@dataclass(frozen=True)
class AnsweredShare:
    source: str
    account_username: str | None
    first_day: date
    last_day: date
    replies: int
    answered: int

    @property
    def share(self) -> float | None:
        return self.answered / self.replies if self.replies else None


def answered_share(
    db: duckdb.DuckDBPyConnection, account: Account, first_day: date, last_day: date
) -> AnsweredShare | None:
    """Replies to the account created in [first_day, last_day] and how many the account answered.

    A reply to the account (in_reply_to_user_id = the account, by someone else) is answered when a
    later tweet by the account is a reply whose referenced_tweet_id is that reply. Only tweets the
    search returned are seen, so this is a lower bound. None when the account's user id is unknown.
    """
    if not account.user_id or not table_exists(db, "silver.tweets"):
        return None
    replies, answered = db.execute(
        """
        SELECT count(*),
               count(*) FILTER (WHERE EXISTS (
                   SELECT 1 FROM silver.tweets a
                   WHERE a.source = r.source AND a.author_id = $uid AND a.is_reply
                     AND a.referenced_tweet_id = r.tweet_id AND a.created_at > r.created_at))
        FROM silver.tweets r
        WHERE r.source = $source AND r.in_reply_to_user_id = $uid AND r.author_id <> $uid
          AND r.day BETWEEN $first AND $last
        """,
        {"source": account.source, "uid": account.user_id, "first": first_day, "last": last_day},
    ).fetchone()
    return AnsweredShare(account.source, account.username, first_day, last_day, int(replies), int(answered))
