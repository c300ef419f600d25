"""FileCorpus: serve real recorded API pages back, optionally moved into today's 7-day window.

Each input line is one verbatim search page (`data`, `includes.users`, `meta`). Tweets and users are
deduplicated by id and keep only the fields the recording has: nothing is invented (no `lang`, no
`entities`, no `referenced_tweets` unless recorded). Only `edit_history_tweet_ids`, which the API
now always sends, is derived (`[id]`) when rendering.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from os import PathLike
from pathlib import Path
from typing import Any

from twitter_assets.simulator.records import DAY_MS, TWEET_METRICS, Tweet, User, from_ms, parse_api_time, to_ms


def _tweet_sort_key(tweet: Tweet) -> tuple[int, int]:
    return (-tweet.created_ms, -tweet.id)


def _optional_int(value: Any) -> int | None:
    return int(value) if value is not None else None


def _tweet_from_api(raw: Mapping[str, Any], shift_ms: int) -> Tweet:
    metrics = raw.get("public_metrics")
    references = raw.get("referenced_tweets")
    return Tweet(
        id=int(raw["id"]),
        created_ms=parse_api_time(raw["created_at"]) + shift_ms,
        text=raw["text"],
        author_id=int(raw["author_id"]),
        conversation_id=_optional_int(raw.get("conversation_id")),
        in_reply_to_user_id=_optional_int(raw.get("in_reply_to_user_id")),
        referenced_tweets=None
        if references is None
        else tuple((reference["type"], int(reference["id"])) for reference in references),
        public_metrics=None if metrics is None else tuple(metrics.get(name) for name in TWEET_METRICS),
        lang=raw.get("lang"),
        entities=raw.get("entities"),
    )


def _user_from_api(raw: Mapping[str, Any]) -> User:
    return User(
        id=int(raw["id"]),
        username=raw["username"],
        name=raw["name"],
        created_at=raw.get("created_at"),
        description=raw.get("description"),
        verified=raw.get("verified"),
        public_metrics=raw.get("public_metrics"),
    )


class FileCorpus:
    """Recorded tweets and users, in memory, newest first."""

    def __init__(
        self,
        tweets: Iterable[Tweet],
        users: Iterable[User],
        account_username: str = "AluraOnline",
        recorded_query: str | None = None,
    ):
        self.account_username = account_username
        self.recorded_query = recorded_query
        self._tweets = sorted({tweet.id: tweet for tweet in tweets}.values(), key=_tweet_sort_key)
        self._by_id = {tweet.id: tweet for tweet in self._tweets}
        self._users_by_id = {user.id: user for user in users}
        self._users_by_name = {user.username.lower(): user for user in self._users_by_id.values()}

    @classmethod
    def from_ndjson(
        cls,
        paths: Iterable[str | PathLike[str]],
        recorded_query: str | None = "AluraOnline",
        account_username: str = "AluraOnline",
        shift_days: int = 0,
    ) -> FileCorpus:
        """Load recorded pages; `shift_days` moves every created_at by whole days (ids unchanged)."""
        shift_ms = shift_days * DAY_MS
        tweets: dict[int, Tweet] = {}
        users: dict[int, User] = {}
        for path in paths:
            for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    page = json.loads(line)
                    for raw in page.get("data") or []:
                        tweets.setdefault(int(raw["id"]), _tweet_from_api(raw, shift_ms))
                    for raw in (page.get("includes") or {}).get("users") or []:
                        users.setdefault(int(raw["id"]), _user_from_api(raw))
                except (ValueError, KeyError, TypeError, AttributeError) as exc:
                    raise ValueError(f"{path}:{number}: not a recorded search page ({exc!r})") from None
        return cls(tweets.values(), users.values(), account_username=account_username, recorded_query=recorded_query)

    @staticmethod
    def days_to_shift_into_window(recording: FileCorpus | Iterable[str | PathLike[str]], now: datetime) -> int:
        """Whole days to add so the latest recorded UTC day becomes yesterday (relative to `now`)."""
        corpus = recording if isinstance(recording, FileCorpus) else FileCorpus.from_ndjson(recording)
        if not corpus._tweets:
            return 0
        latest_day = from_ms(corpus._tweets[0].created_ms).date()
        return (from_ms(to_ms(now)).date() - latest_day).days - 1

    # ---- Corpus ------------------------------------------------------------------------------
    def tweets_between(self, start: datetime, end: datetime) -> Sequence[Tweet]:
        start_ms, end_ms = to_ms(start), to_ms(end)
        newest = bisect_left(self._tweets, -end_ms + 1, key=lambda tweet: -tweet.created_ms)
        oldest = bisect_left(self._tweets, -start_ms + 1, key=lambda tweet: -tweet.created_ms)
        return self._tweets[newest:oldest]

    def tweet_by_id(self, tweet_id: int) -> Tweet | None:
        return self._by_id.get(tweet_id)

    def user_by_id(self, user_id: int) -> User | None:
        return self._users_by_id.get(user_id)

    def user_by_username(self, username: str) -> User | None:
        return self._users_by_name.get(username.lower())
