"""One compact, typed row per tweet and per included user of an API page.

The raw landing writes these beside the verbatim pages (as Parquet), page by page, while it pages
through the API: the pages are already parsed then, so typing them costs little, and silver never
has to parse the day's JSON again (at a million tweets that parse is most of the work). The same
functions rebuild the rows from the pages of a landing made before they existed, so the pages stay
the record and the rows are always derivable from them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa


def __getattr__(name: str) -> Any:
    """`TWEET_ROW_SCHEMA` and `USER_ROW_SCHEMA`, built on first use: importing this module (and so the
    code location) does not import pyarrow."""
    if name == "TWEET_ROW_SCHEMA":
        return _schemas()[0]
    if name == "USER_ROW_SCHEMA":
        return _schemas()[1]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _schemas() -> tuple[pa.Schema, pa.Schema]:
    import pyarrow as pa

    return _tweet_row_schema(pa), _user_row_schema(pa)


def _tweet_row_schema(pa: Any) -> pa.Schema:
    return pa.schema(
        [
            ("page", pa.int32()),
            ("position", pa.int32()),
            ("tweet_id", pa.string()),
            ("created_at", pa.timestamp("us", tz="UTC")),
            ("author_id", pa.string()),
            ("conversation_id", pa.string()),
            ("text", pa.string()),
            ("lang", pa.string()),
            ("in_reply_to_user_id", pa.string()),
            ("referenced_tweet_id", pa.string()),
            ("like_count", pa.int64()),
            ("retweet_count", pa.int64()),
            ("reply_count", pa.int64()),
            ("quote_count", pa.int64()),
            ("impression_count", pa.int64()),
            ("is_retweet", pa.bool_()),
            ("is_reply", pa.bool_()),
            ("is_quote", pa.bool_()),
        ]
    )


def _user_row_schema(pa: Any) -> pa.Schema:
    return pa.schema(
        [
            ("page", pa.int32()),
            ("position", pa.int32()),
            ("user_id", pa.string()),
            ("username", pa.string()),
            ("name", pa.string()),
            ("created_at", pa.timestamp("us", tz="UTC")),
        ]
    )


_METRICS = ("like_count", "retweet_count", "reply_count", "quote_count", "impression_count")


def parse_api_time(value: str) -> datetime:
    """`2021-12-11T22:22:02.000Z` -> an aware UTC datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def tweet_row(page: int, position: int, tweet: dict[str, Any]) -> dict[str, Any]:
    metrics = tweet.get("public_metrics") or {}
    references = {ref.get("type"): ref.get("id") for ref in tweet.get("referenced_tweets") or []}
    text = tweet.get("text") or ""
    # Older answers (and the real pages this project started from) carry no referenced_tweets:
    # a retweet is then only recognisable by its "RT @" prefix.
    is_retweet = "retweeted" in references or (not references and text.startswith("RT @"))
    return {
        "page": page,
        "position": position,
        "tweet_id": tweet["id"],
        "created_at": parse_api_time(tweet["created_at"]),
        "author_id": tweet.get("author_id"),
        "conversation_id": tweet.get("conversation_id"),
        "text": text,
        "lang": tweet.get("lang"),
        "in_reply_to_user_id": tweet.get("in_reply_to_user_id"),
        "referenced_tweet_id": references.get("retweeted") or references.get("quoted") or references.get("replied_to"),
        **{name: metrics.get(name) for name in _METRICS},
        "is_retweet": is_retweet,
        "is_reply": tweet.get("in_reply_to_user_id") is not None or "replied_to" in references,
        "is_quote": "quoted" in references,
    }


def user_row(page: int, position: int, user: dict[str, Any]) -> dict[str, Any]:
    return {
        "page": page,
        "position": position,
        "user_id": user["id"],
        "username": user.get("username"),
        "name": user.get("name"),
        "created_at": parse_api_time(user["created_at"]) if user.get("created_at") else None,
    }


def page_rows(page_number: int, body: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The tweet rows and user rows of one API page (1-based page number).

    The client refuses malformed pages before landing; a landing edited by hand may still hold a
    tweet without an id or time. Such a tweet gets no row (the raw checks name its page, and the
    row count no longer matches the manifest), rather than a row of guesses.
    """
    tweets = [tweet_row(page_number, i, tweet) for i, tweet in enumerate(body.get("data") or []) if _is_tweet(tweet)]
    users = [
        user_row(page_number, i, user)
        for i, user in enumerate((body.get("includes") or {}).get("users") or [])
        if isinstance(user, dict) and isinstance(user.get("id"), str)
    ]
    return tweets, users


def _is_tweet(tweet: object) -> bool:
    if not isinstance(tweet, dict) or not isinstance(tweet.get("id"), str):
        return False
    try:
        parse_api_time(tweet["created_at"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return False
    return True


def batches(rows: Iterable[dict[str, Any]], schema: pa.Schema, size: int = 20_000) -> Iterator[pa.RecordBatch]:
    """Arrow record batches of at most `size` rows, for a bounded-memory Parquet writer."""
    import pyarrow as pa

    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield pa.RecordBatch.from_pylist(chunk, schema=schema)
            chunk = []
    if chunk:
        yield pa.RecordBatch.from_pylist(chunk, schema=schema)
