"""Helpers for the simulator tests: a settable clock, API-formatted times and a plain HTTP client."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import requests

SEARCH = "/2/tweets/search/recent"
# A fixed "now" for tests that must not depend on the wall clock (a Tuesday, midday UTC).
NOW = datetime(2026, 11, 24, 12, 0, 0, tzinfo=timezone.utc)
ALL_TWEET_FIELDS = (
    "author_id,conversation_id,created_at,entities,in_reply_to_user_id,lang,public_metrics,referenced_tweets"
)


@dataclass
class Clock:
    """A clock the test moves by hand; the simulator calls it for "now"."""

    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def api_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_window(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=timezone.utc)
    return start, start + timedelta(days=1)


def get(
    simulator, path: str, params: dict[str, Any] | None = None, token: str | None = "test-token", **kwargs: Any
) -> requests.Response:
    """One GET with a fresh connection; `token=None` sends no Authorization header."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.get(simulator.base_url + path, params=params, headers=headers, **{"timeout": 10, **kwargs})


def search_params(day: date, query: str = "AluraOnline", **extra: Any) -> dict[str, Any]:
    start, end = day_window(day)
    return {"query": query, "start_time": api_time(start), "end_time": api_time(end), **extra}


def walk(simulator, params: dict[str, Any], session: requests.Session | None = None) -> list[dict[str, Any]]:
    """Every page of a search, following next_token; fails on any non-200."""
    session = session or requests.Session()
    session.headers["Authorization"] = "Bearer test-token"
    pages, token = [], None
    while True:
        response = session.get(
            simulator.base_url + SEARCH, params={**params, **({"next_token": token} if token else {})}, timeout=10
        )
        assert response.status_code == 200, response.text
        pages.append(response.json())
        token = pages[-1]["meta"].get("next_token")
        if token is None:
            return pages


def tweets_of(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [tweet for page in pages for tweet in page.get("data", [])]
