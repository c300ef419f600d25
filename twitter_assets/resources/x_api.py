"""The X (Twitter) API v2 client, as a Dagster resource.

It knows HTTP and the API contract (paging, rate limits, retries, error bodies), nothing about
assets or the lake. Pages come back verbatim so the raw layer can land exactly what the API said.

Behaviour, after tweepy's and twarc2's handling:
- `GET /2/tweets/search/recent` with `max_results=100`, following `next_token` to the last page.
- Rate limits: `x-rate-limit-remaining`/`x-rate-limit-reset` are read on every answer; when the
  window is spent the client sleeps until the reset *before* asking again, and a window 429 waits
  for the reset too. A usage-cap 429 (`UsageCapExceeded`) cannot clear by waiting: it fails at once.
- Transient faults (5xx, connection reset, timeout, truncated or unparsable body) are retried with
  exponential backoff and jitter (tenacity), bounded by `max_attempts`.
- 401 fails at once naming the token variable; 400 surfaces the API's own messages.
- The bearer token never appears in logs, exceptions or metadata.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dagster import ConfigurableResource, get_dagster_logger
from pydantic import Field, PrivateAttr
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from twitter_assets.partitions import format_api_time

if TYPE_CHECKING:  # imported where a request is made: importing the code location stays fast
    import requests

TOKEN_ENV = "TWITTER_BEARER_TOKEN"
BASE_URL_ENV = "TWITTER_API_BASE_URL"
DEFAULT_BASE_URL = "https://api.x.com"

SEARCH_RECENT_PATH = "/2/tweets/search/recent"
SEARCH_ALL_PATH = "/2/tweets/search/all"  # full-archive search (Pro/Enterprise), same parameters
SEARCH_PATHS = {"recent": SEARCH_RECENT_PATH, "all": SEARCH_ALL_PATH}
USER_BY_USERNAME_PATH = "/2/users/by/username/{username}"

TWEET_FIELDS = (
    "author_id,conversation_id,created_at,entities,id,in_reply_to_user_id,lang,public_metrics,referenced_tweets,text"
)
USER_FIELDS = "created_at,id,name,username"
EXPANSIONS = "author_id"
MAX_PAGE_SIZE = 100


class XApiError(RuntimeError):
    """Base of every error this client raises. Messages never contain the bearer token."""


class XApiAuthError(XApiError):
    """401: the token is missing, wrong or revoked."""


class XApiRequestError(XApiError):
    """400/403/404: the request itself is wrong; the API's own messages are attached."""


class XApiUsageCapError(XApiError):
    """429 UsageCapExceeded: the plan's tweet cap is spent; waiting for a window does not help."""


class XApiRateLimitError(XApiError):
    """The rate-limit reset is further away than the client is allowed to wait."""


class XApiTransientError(XApiError):
    """A fault that may clear on retry (5xx, reset, timeout, truncated body); raised after the last attempt."""


class XApiMalformedResponseError(XApiError):
    """A 200 answer that is not shaped like an API page: never landed as if it were data."""


@dataclass
class FetchStats:
    """Counters reported as materialization metadata."""

    requests: int = 0
    pages: int = 0
    tweets: int = 0
    rate_limit_waits: int = 0
    rate_limit_wait_seconds: float = 0.0
    retries: int = 0

    def add(self, other: "FetchStats") -> None:
        for name in ("requests", "pages", "tweets", "rate_limit_waits", "rate_limit_wait_seconds", "retries"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_metadata(self) -> dict[str, int | float]:
        return {
            "requests": self.requests,
            "pages": self.pages,
            "tweets": self.tweets,
            "rate_limit_waits": self.rate_limit_waits,
            "rate_limit_wait_seconds": round(self.rate_limit_wait_seconds, 3),
            "retries": self.retries,
        }


@dataclass
class SearchPage:
    """One verbatim API page and the `next_token` that was sent to get it (None for the first)."""

    body: dict[str, Any]
    pagination_token: str | None


@dataclass
class SearchResult:
    query: str
    start_time: str
    end_time: str
    pages: list[SearchPage] = field(default_factory=list)
    stats: FetchStats = field(default_factory=FetchStats)

    @property
    def tweet_count(self) -> int:
        return sum(len(page.body.get("data") or []) for page in self.pages)


class _RateLimited(Exception):
    """Internal: a window 429; carries the reset epoch."""

    def __init__(self, reset_at: float | None):
        super().__init__("window rate limit")
        self.reset_at = reset_at


class XApiClient(ConfigurableResource):
    """X API v2 over `requests`: recent search and users-by-username.

    Point `base_url` at the local simulator for the demo and tests, or leave the default for the
    real API; the code path is the same, only the URL and the token differ.
    """

    bearer_token: str = Field(repr=False, description=f"App-only bearer token; set it with {TOKEN_ENV}.")
    base_url: str = Field(default=DEFAULT_BASE_URL, description=f"API root; override with {BASE_URL_ENV}.")
    timeout_seconds: float = 30.0
    max_attempts: int = 6
    backoff_initial_seconds: float = 1.0
    backoff_max_seconds: float = 60.0
    max_rate_limit_wait_seconds: float = 960.0
    max_rate_limit_waits: int = 10
    page_size: int = MAX_PAGE_SIZE

    _session: Any = PrivateAttr(default=None)  # a requests.Session, made on first use
    # endpoint -> the epoch second its spent rate-limit window resets
    _spent_until: dict[str, float] = PrivateAttr(default_factory=dict)
    # endpoint -> {"remaining": ..., "reset": ...} from the last answer, for progress reporting
    _last_window: dict[str, dict[str, float | None]] = PrivateAttr(default_factory=dict)
    _last_endpoint: str = PrivateAttr(default=SEARCH_RECENT_PATH)

    # ---- public API --------------------------------------------------------------------------
    def iter_search(
        self,
        query: str,
        start_time: datetime,
        end_time: datetime,
        stats: FetchStats | None = None,
        endpoint: str = "recent",
    ) -> Iterator[SearchPage]:
        """Yield every page of a search over `[start_time, end_time)`, newest first, as it arrives.

        `endpoint="all"` uses full-archive search (same parameters and pages, its own rate limits).
        Nothing is kept between pages, so memory does not grow with the day: the caller lands each
        page before the next request. `stats` (if given) is updated as pages come in.
        """
        path = SEARCH_PATHS[endpoint]
        stats = stats if stats is not None else FetchStats()
        params: dict[str, str | int] = {
            "query": query,
            "start_time": format_api_time(start_time),
            "end_time": format_api_time(end_time),
            "max_results": min(max(self.page_size, 10), MAX_PAGE_SIZE),
            "tweet.fields": TWEET_FIELDS,
            "expansions": EXPANSIONS,
            "user.fields": USER_FIELDS,
        }
        token: str | None = None
        seen_tokens: set[str] = set()
        index = 0
        while True:
            page_params = dict(params, next_token=token) if token else params
            body = self._get(path, path, page_params, stats)
            self._last_endpoint = path
            _validate_search_page(body, index)
            stats.pages += 1
            stats.tweets += len(body.get("data") or [])
            yield SearchPage(body=body, pagination_token=token)
            index += 1
            token = body["meta"].get("next_token")
            if not token:
                return
            if token in seen_tokens:
                raise XApiMalformedResponseError(
                    f"search page {index}: the API repeated next_token {token!r}: pagination would loop"
                )
            seen_tokens.add(token)

    def search_recent(
        self, query: str, start_time: datetime, end_time: datetime, endpoint: str = "recent"
    ) -> SearchResult:
        """Every page of a search, collected (small searches and tests; the assets stream)."""
        result = SearchResult(query=query, start_time=format_api_time(start_time), end_time=format_api_time(end_time))
        result.pages.extend(self.iter_search(query, start_time, end_time, result.stats, endpoint))
        return result

    def rate_limit_budget(self) -> dict[str, float | None]:
        """What the last search answer said of its window: requests left and the reset epoch."""
        return dict(self._last_window.get(self._last_endpoint, {"remaining": None, "reset": None}))

    def user_by_username(self, username: str, stats: FetchStats | None = None) -> dict[str, Any]:
        """The user object of a handle (`id`, `name`, `username`, `created_at`)."""
        body = self._get(
            USER_BY_USERNAME_PATH,
            USER_BY_USERNAME_PATH.format(username=urllib.parse.quote(username, safe="")),
            {"user.fields": USER_FIELDS},
            stats or FetchStats(),
        )
        if isinstance(body.get("data"), dict) and isinstance(body["data"].get("id"), str):
            return body["data"]
        details = "; ".join(str(error.get("detail") or error) for error in body.get("errors") or [])
        raise XApiRequestError(f"account @{username} could not be resolved: {details or 'no data in the answer'}")

    # ---- HTTP --------------------------------------------------------------------------------
    def _http(self) -> requests.Session:
        if self._session is None:
            # A token read from a file or a secret often ends in a newline: that is not part of it. Anything else
            # outside printable ASCII would make `requests` refuse the header with the whole value in its message.
            token = (self.bearer_token or "").strip()
            if not token:
                raise XApiAuthError(f"no bearer token: set {TOKEN_ENV}")
            if any(not 33 <= ord(char) <= 126 for char in token):
                raise XApiAuthError(
                    f"{TOKEN_ENV} holds a space, a line break, a control or a non-ASCII character inside the "
                    "token: set it to the token alone"
                )
            import requests

            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {token}"
            session.headers["User-Agent"] = "twitter_assets/0.1 (+dagster)"
            self._session = session
        return self._session

    def _get(self, endpoint: str, path: str, params: dict[str, Any], stats: FetchStats) -> dict[str, Any]:
        """GET with rate-limit pacing and bounded retries of transient faults.

        `endpoint` is the path template: rate limits are counted per endpoint, not per URL.
        """
        log = get_dagster_logger()

        def count_retry(state: RetryCallState) -> None:
            stats.retries += 1
            error = state.outcome.exception() if state.outcome else None
            log.warning(
                f"X API {path}: transient fault ({error}); retry {stats.retries} in {state.upcoming_sleep:.1f} s"
            )

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=wait_exponential_jitter(
                multiplier=self.backoff_initial_seconds,
                max=self.backoff_max_seconds,
                jitter=self.backoff_initial_seconds,
            ),
            retry=retry_if_exception_type(XApiTransientError),
            before_sleep=count_retry,
            reraise=True,
        )
        waits = 0
        while True:
            spent_until = self._spent_until.pop(endpoint, None)
            if spent_until is not None and spent_until > time.time():
                self._wait_until(spent_until, stats, f"{endpoint} rate-limit window spent")
            try:
                return retrying(self._get_once, endpoint, path, params, stats)
            except _RateLimited as limited:
                waits += 1
                if waits > self.max_rate_limit_waits:
                    raise XApiRateLimitError(
                        f"X API {path}: still rate limited after {self.max_rate_limit_waits} waits"
                    ) from None
                self._wait_until(limited.reset_at, stats, f"{path} answered 429 Too Many Requests")

    def _get_once(self, endpoint: str, path: str, params: dict[str, Any], stats: FetchStats) -> dict[str, Any]:
        import requests

        stats.requests += 1
        try:
            response = self._http().get(self.base_url.rstrip("/") + path, params=params, timeout=self.timeout_seconds)
            content = response.content  # a truncated body raises here (ChunkedEncodingError)
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            raise XApiTransientError(f"X API {path}: {type(exc).__name__}") from None
        except requests.RequestException as exc:  # the request could not be built: its message may quote a header
            raise XApiRequestError(
                f"X API {path}: {type(exc).__name__}: the request could not be sent; check the API base URL"
            ) from None

        status = response.status_code
        body = _parse_json(content)
        if status == 200:
            if body is None:
                raise XApiTransientError(f"X API {path}: 200 with a body that is not JSON ({len(content)} bytes)")
            self._note_window(endpoint, response)
            return body
        if status == 429:
            if _is_usage_cap(body):
                raise XApiUsageCapError(
                    f"X API {path}: usage cap exceeded ({_describe(body)}); the plan's monthly tweet cap is "
                    "spent, waiting for the rate-limit window will not help"
                )
            raise _RateLimited(_header_float(response, "x-rate-limit-reset"))
        if status == 401:
            raise XApiAuthError(f"X API {path}: 401 Unauthorized: the bearer token was rejected; check {TOKEN_ENV}")
        if status in (500, 502, 503, 504):
            raise XApiTransientError(f"X API {path}: {status} {_describe(body)}")
        raise XApiRequestError(f"X API {path}: {status} {_describe(body)}")

    def _note_window(self, endpoint: str, response: requests.Response) -> None:
        """Remember a spent window, so the *next* request to the endpoint waits for the reset
        instead of spending itself on a 429 (and the last page of a search waits for nothing)."""
        remaining = _header_float(response, "x-rate-limit-remaining")
        reset_at = _header_float(response, "x-rate-limit-reset")
        self._last_window[endpoint] = {"remaining": remaining, "reset": reset_at}
        if remaining is not None and remaining <= 0:
            self._spent_until[endpoint] = (
                reset_at if reset_at is not None else time.time() + self.backoff_initial_seconds
            )

    def _wait_until(self, reset_at: float | None, stats: FetchStats, reason: str) -> None:
        delay = self.backoff_initial_seconds if reset_at is None else max(0.0, reset_at - time.time()) + 1.0
        if delay > self.max_rate_limit_wait_seconds:
            raise XApiRateLimitError(
                f"X API: {reason}; the window resets in {delay:.0f} s, more than the "
                f"{self.max_rate_limit_wait_seconds:.0f} s this client may wait"
            )
        get_dagster_logger().info(f"X API: {reason}; waiting {delay:.1f} s for the rate-limit reset")
        stats.rate_limit_waits += 1
        stats.rate_limit_wait_seconds += delay
        time.sleep(delay)


def _parse_json(content: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(content)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _header_float(response: requests.Response, name: str) -> float | None:
    try:
        return float(response.headers[name])
    except (KeyError, ValueError):
        return None


def _is_usage_cap(body: dict[str, Any] | None) -> bool:
    if not body:
        return False
    return body.get("title") == "UsageCapExceeded" or "usage-capped" in str(body.get("type", ""))


def _describe(body: dict[str, Any] | None) -> str:
    """The API's own words: `errors[].message` for 400s, else title/detail."""
    if not body:
        return "(no JSON body)"
    messages = [
        str(error.get("message") or error.get("detail"))
        for error in body.get("errors") or []
        if isinstance(error, dict)
    ]
    if messages:
        return "; ".join(messages)
    return ": ".join(str(body[key]) for key in ("title", "detail") if body.get(key)) or json.dumps(body)[:300]


def _validate_search_page(body: dict[str, Any], index: int) -> None:
    """Refuse a 200 that is not a search page, before anything of it can be landed.

    Every field the lake types later is checked here, so a page either lands whole and correct or
    the run fails naming the page: ids, author ids and texts are strings, `created_at` is an RFC 3339
    time, `includes.users` carries string ids and usernames.
    """
    where = f"search page {index + 1}"
    meta = body.get("meta")
    if not isinstance(meta, dict) or not isinstance(meta.get("result_count"), int):
        raise XApiMalformedResponseError(f"{where}: no meta.result_count in the answer (keys: {sorted(body)})")
    data = body.get("data", [])
    if not isinstance(data, list) or len(data) != meta["result_count"]:
        raise XApiMalformedResponseError(
            f"{where}: meta.result_count is {meta['result_count']} but data holds "
            f"{len(data) if isinstance(data, list) else type(data).__name__}"
        )
    next_token = meta.get("next_token")
    if next_token is not None and (not isinstance(next_token, str) or not next_token):
        raise XApiMalformedResponseError(f"{where}: meta.next_token is not a non-empty string: {next_token!r}")
    for position, tweet in enumerate(data):
        problem = _tweet_problem(tweet)
        if problem:
            raise XApiMalformedResponseError(f"{where}, tweet {position + 1}: {problem}: {str(tweet)[:200]}")
    includes = body.get("includes") or {}
    users = includes.get("users", []) if isinstance(includes, dict) else None
    if not isinstance(users, list) or any(
        not isinstance(user, dict) or not isinstance(user.get("id"), str) or not isinstance(user.get("username"), str)
        for user in users
    ):
        raise XApiMalformedResponseError(f"{where}: includes.users is not a list of users with string id and username")
    for position, user in enumerate(users):
        problem = _user_problem(user)
        if problem:
            raise XApiMalformedResponseError(f"{where}, includes.users[{position}]: {problem}: {str(user)[:200]}")


def _user_problem(user: dict[str, Any]) -> str | None:
    if user.get("name") is not None and not isinstance(user["name"], str):
        return "'name' is not a string"
    created_at = user.get("created_at")
    if created_at is not None:
        if not isinstance(created_at, str):
            return "'created_at' is not a string"
        try:
            datetime.fromisoformat(created_at.replace("Z", "+00:00"))
        except ValueError:
            return f"unreadable created_at {created_at!r}"
    return None


def _tweet_problem(tweet: object) -> str | None:
    if not isinstance(tweet, dict):
        return "not a JSON object"
    for name in ("id", "text", "created_at"):
        if not isinstance(tweet.get(name), str):
            return f"no string {name!r}"
    for name in ("author_id", "conversation_id", "in_reply_to_user_id", "lang"):
        if tweet.get(name) is not None and not isinstance(tweet[name], str):
            return f"{name!r} is not a string"
    try:
        datetime.fromisoformat(tweet["created_at"].replace("Z", "+00:00"))
    except ValueError:
        return f"unreadable created_at {tweet['created_at']!r}"
    metrics = tweet.get("public_metrics")
    if metrics is not None and (
        not isinstance(metrics, dict)
        or any(not isinstance(v, int) or isinstance(v, bool) for v in metrics.values() if v is not None)
    ):
        return "public_metrics holds something other than integers"
    if metrics and any(v is not None and not 0 <= v < 2**63 for v in metrics.values()):
        return "public_metrics holds a count outside 0..2^63-1"
    references = tweet.get("referenced_tweets")
    if references is not None and (
        not isinstance(references, list)
        or any(not isinstance(r, dict) or not isinstance(r.get("id"), str) for r in references)
    ):
        return "referenced_tweets is not a list of objects with a string id"
    return None
