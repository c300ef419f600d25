"""Answer a validated recent search from a corpus: one page, newest first, and its next_token.

The matching tweets of each (query, UTC day) are computed once and cached, so walking a big day page
by page costs a binary search per page, not a scan of the day.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from twitter_assets.simulator.pagination import Cursor, encode_token
from twitter_assets.simulator.records import DAY_MS, Corpus, Tweet, day_start_ms, from_ms
from twitter_assets.simulator.render import includes, render_tweet
from twitter_assets.simulator.validation import SearchRequest

_MAX_CACHED_DAYS = 64
_MAX_CACHED_TWEETS = 2_000_000


def _newest_first_key(tweet: Tweet) -> tuple[int, int]:
    return (-tweet.created_ms, -tweet.id)


def _minus_created(tweet: Tweet) -> int:
    return -tweet.created_ms


class SearchEngine:
    def __init__(self, corpus: Corpus):
        self.corpus = corpus
        self._matches: OrderedDict[tuple[str, date], list[Tweet]] = OrderedDict()
        self._cached = 0
        self._lock = threading.Lock()

    def page(self, request: SearchRequest) -> tuple[dict[str, Any], int]:
        """The response body and how many tweets it delivers."""
        wanted = request.max_results + 1  # one more tells whether another page exists
        found: list[Tweet] = []
        for tweet in self._candidates(request):
            if request.since_id is not None and tweet.id <= request.since_id:
                continue
            if request.until_id is not None and tweet.id >= request.until_id:
                continue
            found.append(tweet)
            if len(found) == wanted:
                break
        page = found[: request.max_results]
        if not page:
            return {"meta": {"result_count": 0}}, 0
        body: dict[str, Any] = {"data": [render_tweet(tweet, request.tweet_fields, self.corpus) for tweet in page]}
        included = includes(page, request.tweet_fields, request.user_fields, request.expansions, self.corpus)
        if included:
            body["includes"] = included
        meta: dict[str, Any] = {"newest_id": str(page[0].id), "oldest_id": str(page[-1].id), "result_count": len(page)}
        if len(found) == wanted:
            last = page[-1]
            meta["next_token"] = encode_token(Cursor(last.created_ms, last.id), request.binding)
        body["meta"] = meta
        return body, len(page)

    def _candidates(self, request: SearchRequest) -> Iterator[Tweet]:
        """Matching tweets in [start, end), after the cursor, newest first, day by day."""
        if request.end_ms <= request.start_ms:
            return
        day, first = from_ms(request.end_ms - 1).date(), from_ms(request.start_ms).date()
        while day >= first:
            tweets = self._matching(request, day)
            low = bisect_left(tweets, -request.end_ms + 1, key=_minus_created)
            high = bisect_left(tweets, -request.start_ms + 1, key=_minus_created)
            if request.cursor is not None:
                after = (-request.cursor.created_ms, -request.cursor.tweet_id)
                low = max(low, bisect_left(tweets, (after[0], after[1] + 1), key=_newest_first_key))
            for index in range(low, high):  # no slice copy: a big day is walked page by page
                yield tweets[index]
            day -= timedelta(days=1)

    def _matching(self, request: SearchRequest, day: date) -> list[Tweet]:
        """Every tweet of a UTC day matching the query, newest first (cached per query and day)."""
        key = (request.query, day)
        with self._lock:
            tweets = self._matches.get(key)
            if tweets is not None:
                self._matches.move_to_end(key)
                return tweets
        start_ms = day_start_ms(day)
        matches = request.matches
        tweets = [
            tweet
            for tweet in self.corpus.tweets_between(from_ms(start_ms), from_ms(start_ms + DAY_MS))
            if matches(tweet)
        ]
        with self._lock:
            self._matches[key] = tweets
            self._cached += len(tweets)
            while len(self._matches) > 1 and (
                len(self._matches) > _MAX_CACHED_DAYS or self._cached > _MAX_CACHED_TWEETS
            ):
                _, evicted = self._matches.popitem(last=False)
                self._cached -= len(evicted)
        return tweets
