"""The simulator's internal records and the `Corpus` protocol every backend implements.

Records hold what a tweet or user *is*; the API JSON is rendered from them per request, only for the
fields that were asked for. Ids are ints here (ordering and snowflake arithmetic) and strings on the
wire, like the real API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Any, Protocol

TWITTER_EPOCH_MS = 1288834974657
DAY_MS = 86_400_000
# The order the API lists public_metrics in; `Tweet.public_metrics` holds values in this order.
TWEET_METRICS = ("retweet_count", "reply_count", "like_count", "quote_count", "bookmark_count", "impression_count")


@dataclass(slots=True)
class User:
    """An account. Optional attributes are None when the source does not know them (never invented)."""

    id: int
    username: str
    name: str
    created_at: str | None = None  # already in the API format, e.g. 2013-07-03T20:02:23.000Z
    description: str | None = None
    verified: bool | None = None
    public_metrics: Mapping[str, int] | None = None


@dataclass(slots=True)
class Tweet:
    """A post. `created_ms` is whole seconds (the API's created_at has no sub-second part).

    `referenced_tweets` is None when a recording did not include the field (unknown), `()` when the
    tweet references nothing. `public_metrics` follows TWEET_METRICS, None for a metric not known.
    Synthetic tweets carry their entities implicitly in the text (`entities_from_text`); recorded
    ones only have the entities that were recorded.
    """

    id: int
    created_ms: int
    text: str
    author_id: int
    conversation_id: int | None = None
    in_reply_to_user_id: int | None = None
    referenced_tweets: tuple[tuple[str, int], ...] | None = ()
    public_metrics: tuple[int | None, ...] | None = None
    lang: str | None = None
    entities: Mapping[str, Any] | None = None
    entities_from_text: bool = False


class Corpus(Protocol):
    """What the HTTP layer needs from a backend: tweets by time, tweets and users by key."""

    account_username: str
    # A recording *is* the answer to one query: when a request repeats it, every tweet matches.
    recorded_query: str | None

    def tweets_between(self, start: datetime, end: datetime) -> Sequence[Tweet]:
        """Tweets with start <= created_at < end, newest first (created_at desc, then id desc)."""

    def tweet_by_id(self, tweet_id: int) -> Tweet | None: ...

    def user_by_id(self, user_id: int) -> User | None: ...

    def user_by_username(self, username: str) -> User | None:
        """Case-insensitive, like the API."""


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime."""
    return int(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def day_start_ms(day: date) -> int:
    """Epoch ms of a UTC day's midnight."""
    return to_ms(datetime.combine(day, time.min, tzinfo=timezone.utc))


def format_api_time(ms: int) -> str:
    """The API's created_at format: 2021-12-11T22:22:02.000Z (milliseconds always shown)."""
    moment = from_ms(ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_api_time(text: str) -> int:
    """Epoch ms of an API created_at string (as recorded)."""
    return to_ms(datetime.fromisoformat(text.replace("Z", "+00:00")))


def snowflake(ms: int, sequence: int) -> int:
    """A tweet id consistent with its creation time, so id order is time order."""
    return ((ms - TWITTER_EPOCH_MS) << 22) | sequence


def snowflake_ms(tweet_id: int) -> int:
    """The creation time (epoch ms) encoded in a snowflake id."""
    return (tweet_id >> 22) + TWITTER_EPOCH_MS
