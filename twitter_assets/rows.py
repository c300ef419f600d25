"""One compact, typed row per tweet and per included user of an API page.

The raw landing writes these beside the verbatim pages (as Parquet), page by page, while it pages
through the API: the pages are already parsed then, so typing them costs little, and silver never
has to parse the day's JSON again (at a million tweets that parse is most of the work). The same
functions rebuild the rows from the pages of a landing made before they existed, so the pages stay
the record and the rows are always derivable from them.
"""

from __future__ import annotations

import functools
import re
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


def _tweet_values(page: int, position: int, tweet: dict[str, Any], created_at: Any) -> tuple:
    """One tweet's row as a tuple in `TWEET_ROW_SCHEMA` order (`created_at` already validated)."""
    get = tweet.get
    metrics = get("public_metrics") or {}
    text = get("text") or ""
    in_reply_to = get("in_reply_to_user_id")
    referenced = get("referenced_tweets")
    if referenced:
        references = {ref.get("type"): ref.get("id") for ref in referenced}
        # Older answers (and the real pages this project started from) carry no referenced_tweets:
        # a retweet is then only recognisable by its "RT @" prefix.
        is_retweet = "retweeted" in references or (not references and text.startswith("RT @"))
        referenced_id = references.get("retweeted") or references.get("quoted") or references.get("replied_to")
        is_reply = in_reply_to is not None or "replied_to" in references
        is_quote = "quoted" in references
    else:
        is_retweet, referenced_id = text.startswith("RT @"), None
        is_reply, is_quote = in_reply_to is not None, False
    return (
        page,
        position,
        tweet["id"],
        created_at,
        get("author_id"),
        get("conversation_id"),
        text,
        get("lang"),
        in_reply_to,
        referenced_id,
        metrics.get("like_count"),
        metrics.get("retweet_count"),
        metrics.get("reply_count"),
        metrics.get("quote_count"),
        metrics.get("impression_count"),
        is_retweet,
        is_reply,
        is_quote,
    )


def _user_values(page: int, position: int, user: dict[str, Any]) -> tuple:
    """One included user's row as a tuple in `USER_ROW_SCHEMA` order."""
    created_at = user.get("created_at")
    if created_at:
        created_at = _api_time_value(created_at)
    else:
        created_at = None
    return (page, position, user["id"], user.get("username"), user.get("name"), created_at)


# The API's own time format. Such a value (once Python accepts it) is kept as its string and the
# whole column is cast by Arrow at once; any other accepted form is kept as the parsed datetime.
_API_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z")


def _api_time_value(value: Any, _match=_API_TIME_RE.fullmatch, _parse=datetime.fromisoformat) -> str | datetime:
    """`value` validated as an API time (raises like `parse_api_time`): the string itself when it
    has the API's format (whose only "Z" is its last character), else the parsed datetime."""
    if type(value) is str and _match(value):
        _parse(value[:-1] + "+00:00")
        return value
    return parse_api_time(value)


def tweet_row(page: int, position: int, tweet: dict[str, Any]) -> dict[str, Any]:
    values = _tweet_values(page, position, tweet, parse_api_time(tweet["created_at"]))
    return dict(zip(_TWEET_COLUMNS, values, strict=True))


def user_row(page: int, position: int, user: dict[str, Any]) -> dict[str, Any]:
    values = _user_values(page, position, user)
    created_at = values[-1]
    if isinstance(created_at, str):
        values = (*values[:-1], parse_api_time(created_at))
    return dict(zip(_USER_COLUMNS, values, strict=True))


_TWEET_COLUMNS = (
    "page", "position", "tweet_id", "created_at", "author_id", "conversation_id", "text", "lang",
    "in_reply_to_user_id", "referenced_tweet_id", *_METRICS, "is_retweet", "is_reply", "is_quote",
)  # fmt: skip
_USER_COLUMNS = ("page", "position", "user_id", "username", "name", "created_at")


def page_values(page_number: int, body: dict[str, Any]) -> tuple[list[tuple], list[tuple]]:
    """The tweet and user rows of one API page (1-based page number) as tuples in schema order,
    times kept as validated strings (see `_api_time_value`); `RowColumns` turns them into Arrow.

    The client refuses malformed pages before landing; a landing edited by hand may still hold a
    tweet without an id or time. Such a tweet gets no row (the raw checks name its page, and the
    row count no longer matches the manifest), rather than a row of guesses.
    """
    tweets = []
    for position, tweet in enumerate(body.get("data") or []):
        if not isinstance(tweet, dict) or not isinstance(tweet.get("id"), str):
            continue
        try:
            created_at = _api_time_value(tweet["created_at"])
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
        tweets.append(_tweet_values(page_number, position, tweet, created_at))
    users = [
        _user_values(page_number, position, user)
        for position, user in enumerate((body.get("includes") or {}).get("users") or [])
        if isinstance(user, dict) and isinstance(user.get("id"), str)
    ]
    return tweets, users


def page_rows(page_number: int, body: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The tweet rows and user rows of one API page (1-based page number) as dicts (see `page_values`)."""
    tweets, users = page_values(page_number, body)
    tweet_rows = []
    for values in tweets:
        created_at = values[3]
        if isinstance(created_at, str):
            values = (*values[:3], parse_api_time(created_at), *values[4:])
        tweet_rows.append(dict(zip(_TWEET_COLUMNS, values, strict=True)))
    user_rows = []
    for values in users:
        if isinstance(values[-1], str):
            values = (*values[:-1], parse_api_time(values[-1]))
        user_rows.append(dict(zip(_USER_COLUMNS, values, strict=True)))
    return tweet_rows, user_rows


class RowColumns:
    """Rows of many pages gathered as tuples and turned into Arrow record batches column by column
    (no dict per row): the same values `pa.RecordBatch.from_pylist(page_rows(...))` gives."""

    def __init__(self) -> None:
        self.tweets: list[tuple] = []
        self.users: list[tuple] = []

    def add(self, page_number: int, body: dict[str, Any]) -> None:
        tweets, users = page_values(page_number, body)
        self.tweets.extend(tweets)
        self.users.extend(users)

    def take(self) -> tuple[pa.RecordBatch | None, pa.RecordBatch | None]:
        """The gathered tweet and user rows as record batches (None when there are none); emptied."""
        tweets, users = self.tweets, self.users
        self.tweets, self.users = [], []
        tweet_schema, user_schema = _schemas()
        return (
            _record_batch(tweets, tweet_schema, 3) if tweets else None,
            _record_batch(users, user_schema, 5) if users else None,
        )


def _record_batch(rows: list[tuple], schema: pa.Schema, time_index: int) -> pa.RecordBatch:
    """Tuples in schema order -> a record batch, converted by Arrow as one struct array (no
    per-column lists in Python). The time column goes as API-format strings cast by Arrow in one go;
    when some value is not such a string (a parsed datetime, None) or Arrow refuses one, every value
    goes through Python's datetimes, as `from_pylist` would."""
    import pyarrow as pa

    time_field = schema.field(time_index)
    if all(type(row[time_index]) is str for row in rows):
        as_text = pa.struct(
            [pa.field(time_field.name, pa.string()) if i == time_index else f for i, f in enumerate(schema)]
        )
        batch = pa.RecordBatch.from_struct_array(pa.array(rows, type=as_text))
        try:
            times = batch.column(time_index).cast(time_field.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        else:
            return batch.set_column(time_index, time_field, times)
    parsed = [
        (*row[:time_index], parse_api_time(row[time_index]), *row[time_index + 1 :])
        if isinstance(row[time_index], str)
        else row
        for row in rows
    ]
    return pa.RecordBatch.from_struct_array(pa.array(parsed, type=pa.struct(list(schema))))
