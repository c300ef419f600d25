"""The API's behaviour for one request, without sockets: route, auth, faults, rate limit, usage cap,
validation and the answer. The HTTP layer (app.py) only moves bytes and plays transport faults.

Order, as the real API: an injected server fault answers first; then 401 for a bad token; then the
rate-limit window (429); then the usage cap (429 UsageCapExceeded); then 400 validation; then 200.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from twitter_assets.simulator import contract
from twitter_assets.simulator.ratelimit import RateLimiter, RateState
from twitter_assets.simulator.records import Corpus, to_ms
from twitter_assets.simulator.render import render_user
from twitter_assets.simulator.search import SearchEngine
from twitter_assets.simulator.validation import InvalidRequest, parse_search, parse_user_lookup

SEARCH_PATH = "/2/tweets/search/recent"
SEARCH_ALL_PATH = "/2/tweets/search/all"  # full-archive search: same contract, no 7-day limit
USER_BY_USERNAME_PREFIX = "/2/users/by/username/"
SEARCH, SEARCH_ALL, USERS = "search", "search_all", "users"
# Full-archive search also allows at most one request per second (app-level), on top of its window.
SEARCH_ALL_MIN_INTERVAL_S = 1.0
STATUS_FAULTS = ("503", "500", "429", "usage_cap", "malformed")


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any  # a JSON value
    headers: Mapping[str, str] = field(default_factory=dict)
    token_ok: bool = False

    @property
    def payload(self) -> bytes:
        """Compact UTF-8 JSON, like the API."""
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class XApi:
    def __init__(
        self,
        corpus: Corpus,
        bearer_tokens: Collection[str],
        limiter: RateLimiter,
        usage_cap: int | None,
        clock: Callable[[], datetime],
    ):
        self.corpus = corpus
        self._tokens = frozenset(bearer_tokens)
        self._limiter = limiter
        self._usage_cap = usage_cap
        self._clock = clock
        self._engine = SearchEngine(corpus)
        self._delivered = 0
        self._lock = threading.Lock()
        self._last_archive_request: dict[str, float] = {}  # token -> epoch seconds

    def token_ok(self, authorization: str | None) -> bool:
        return _bearer(authorization) in self._tokens

    @property
    def delivered_tweets(self) -> int:
        """Tweets served so far: what the usage cap counts."""
        return self._delivered

    def handle(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        authorization: str | None,
        fault: str | None = None,
        reset_after: float = 1.0,
    ) -> Reply:
        """Answer one API request; `fault` is one of STATUS_FAULTS taken from the fault plan."""
        token = _bearer(authorization)
        token_ok = token in self._tokens
        endpoint = _endpoint(path)
        if endpoint is None or method != "GET":
            return Reply(404, contract.PAGE_NOT_FOUND, token_ok=token_ok)
        if fault is not None:
            return self._fault(fault, token, endpoint, reset_after, token_ok)
        if not token_ok:
            return Reply(401, contract.UNAUTHORIZED, self._limiter.peek(token, endpoint).headers())
        if endpoint == SEARCH_ALL and not self._archive_pace_ok(token):
            state = self._limiter.peek(token, endpoint)
            reset = math.ceil(self._clock().timestamp() + SEARCH_ALL_MIN_INTERVAL_S)
            return Reply(429, contract.TOO_MANY_REQUESTS, RateState(state.limit, 0, reset).headers(), token_ok)
        state = self._limiter.hit(token, endpoint)
        headers = state.headers()
        if not state.allowed:
            return Reply(429, contract.TOO_MANY_REQUESTS, headers, token_ok)
        try:
            if endpoint in (SEARCH, SEARCH_ALL):
                return self._search(params, headers, full_archive=endpoint == SEARCH_ALL)
            return self._user(unquote(path[len(USER_BY_USERNAME_PREFIX) :]), params, headers)
        except InvalidRequest as invalid:
            return Reply(400, contract.invalid_request(invalid.errors), headers, True)

    def _fault(self, fault: str, token: str, endpoint: str, reset_after: float, token_ok: bool) -> Reply:
        state = self._limiter.peek(token, endpoint)
        if fault == "429":
            reset = math.ceil(self._clock().timestamp() + reset_after)
            return Reply(429, contract.TOO_MANY_REQUESTS, RateState(state.limit, 0, reset).headers(), token_ok)
        status, body = {
            "503": (503, contract.SERVICE_UNAVAILABLE),
            "500": (500, contract.INTERNAL_ERROR),
            "usage_cap": (429, contract.USAGE_CAPPED),
            "malformed": (200, contract.MALFORMED_PAGE),
        }[fault]
        return Reply(status, body, state.headers(), token_ok)

    def _archive_pace_ok(self, token: str) -> bool:
        """Full-archive search's 1 request/s: False (a 429) when the previous one was under 1 s ago."""
        now = self._clock().timestamp()
        with self._lock:
            last = self._last_archive_request.get(token)
            if last is not None and now - last < SEARCH_ALL_MIN_INTERVAL_S:
                return False
            self._last_archive_request[token] = now
            return True

    def _search(self, params: Mapping[str, str], headers: dict[str, str], full_archive: bool = False) -> Reply:
        if self._usage_cap is not None and self._delivered >= self._usage_cap:
            return Reply(429, contract.USAGE_CAPPED, headers, True)
        corpus = self.corpus
        request = parse_search(params, to_ms(self._clock()), corpus.user_by_id, corpus.recorded_query, full_archive)
        body, delivered = self._engine.page(request)
        with self._lock:
            self._delivered += delivered
        return Reply(200, body, headers, True)

    def _user(self, username: str, params: Mapping[str, str], headers: dict[str, str]) -> Reply:
        user_fields = parse_user_lookup(username, params)
        user = self.corpus.user_by_username(username)
        if user is None:
            return Reply(200, contract.user_not_found(username), headers, True)
        return Reply(200, {"data": render_user(user, user_fields)}, headers, True)


def _endpoint(path: str) -> str | None:
    if path == SEARCH_PATH:
        return SEARCH
    if path == SEARCH_ALL_PATH:
        return SEARCH_ALL
    return USERS if path.startswith(USER_BY_USERNAME_PREFIX) else None


def _bearer(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header ("" for anything else)."""
    scheme, _, token = (authorization or "").partition(" ")
    return token if scheme == "Bearer" else ""
