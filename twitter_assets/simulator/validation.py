"""Turn query-string parameters into a validated request, or the API's 400 errors.

Every check the real endpoint makes and a client can trip over is here, with the API's wording:
unknown parameters, empty or too long or malformed queries, `max_results` outside 10..100, field and
expansion names, timestamps (format, the 7-day window, the 10-second lag, start before end) and
`next_token`s from another query or window. All problems of a request are reported together.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from twitter_assets.simulator.contract import (
    LIST_PARAMETERS,
    SEARCH_EXPANSIONS,
    SEARCH_PARAMETERS,
    SORT_ORDERS,
    USER_EXPANSIONS,
    USER_LOOKUP_PARAMETERS,
    parameter_error,
)
from twitter_assets.simulator.pagination import Cursor, InvalidToken, decode_token
from twitter_assets.simulator.query import MAX_QUERY_LENGTH, Predicate, QuerySyntaxError, UserLookup, compile_query
from twitter_assets.simulator.records import from_ms

RECENT_WINDOW_MS = 7 * 86_400_000
# Full-archive search: no 7-day limit; start_time down to 2006-03-21, 30 days back by default.
FULL_ARCHIVE_START_MS = int(datetime(2006, 3, 21, tzinfo=timezone.utc).timestamp() * 1000)
FULL_ARCHIVE_DEFAULT_MS = 30 * 86_400_000
MIN_LAG_MS = 10_000  # end_time must be at least this far behind the request time
DEFAULT_END_LAG_MS = 30_000
MIN_RESULTS, MAX_RESULTS, DEFAULT_RESULTS = 10, 100, 10
_TIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE
)
_ID_RE = re.compile(r"^[0-9]{1,19}$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{1,15}$")


class InvalidRequest(Exception):
    """A 400: `errors` is the body's list, one entry per problem."""

    def __init__(self, errors: list[dict[str, Any]]):
        super().__init__(errors)
        self.errors = errors


@dataclass(frozen=True)
class SearchRequest:
    """A valid recent search: the window is [start_ms, end_ms) and the page starts after `cursor`."""

    query: str
    matches: Predicate
    start_ms: int
    end_ms: int
    since_id: int | None
    until_id: int | None
    max_results: int
    cursor: Cursor | None
    binding: str  # what a next_token is bound to
    tweet_fields: frozenset[str]
    user_fields: frozenset[str]
    expansions: frozenset[str]


def parse_api_timestamp(text: str) -> int | None:
    """Epoch ms of an RFC 3339 timestamp (Z or offset, optional seconds and fraction), or None."""
    match = _TIME_RE.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        tz = (
            timezone.utc
            if zone.upper() == "Z"
            else timezone((1 if zone[0] == "+" else -1) * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
        )
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), tzinfo=tz)
    except ValueError:
        return None
    return int(moment.timestamp()) * 1000 + int((fraction or "0")[:3].ljust(3, "0"))


def _not_one_of(name: str, value: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    return parameter_error(
        {name: [value]}, f"The `{name}` query parameter value [{value}] is not one of [{','.join(allowed)}]"
    )


def _unknown_parameters(params: Mapping[str, str], allowed: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        parameter_error({name: [value]}, f"The query parameter [{name}] is not one of [{','.join(allowed)}]")
        for name, value in params.items()
        if name not in allowed
    ]


def _list_values(params: Mapping[str, str], name: str, allowed: tuple[str, ...], errors: list) -> frozenset[str]:
    if name not in params:
        return frozenset()
    values = params[name].split(",")
    for value in values:
        if value not in allowed:
            errors.append(_not_one_of(name, value, allowed))
    return frozenset(values)


def _fields_and_expansions(
    params: Mapping[str, str], accepted: tuple[str, ...], expansions: tuple[str, ...], errors: list
) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(tweet.fields, user.fields, expansions); media/poll/place fields are checked, then ignored."""
    fields = {
        name: _list_values(params, name, allowed, errors)
        for name, allowed in LIST_PARAMETERS.items()
        if name in accepted
    }
    return fields["tweet.fields"], fields["user.fields"], _list_values(params, "expansions", expansions, errors)


def _minute_ceiling(ms: int) -> str:
    """The bound as the API prints it: minute precision, rounded up so it is itself valid."""
    return from_ms(math.ceil(ms / 60_000) * 60_000).strftime("%Y-%m-%dT%H:%MZ")


def _parse_query(
    params: Mapping[str, str], users: UserLookup, recorded_query: str | None, errors: list
) -> Predicate | None:
    if "query" not in params:
        errors.append(parameter_error({"query": []}, "The `query` query parameter can not be empty"))
        return None
    query = params["query"]
    if not query:
        errors.append(parameter_error({"query": [query]}, "Invalid 'query':''. 'query' must be a non-empty string"))
        return None
    if len(query) > MAX_QUERY_LENGTH:
        errors.append(
            parameter_error(
                {"query": [query]},
                f"The `query` query parameter value [{query}] is not between 1 and {MAX_QUERY_LENGTH}",
            )
        )
        return None
    try:
        matches = compile_query(query, users)
    except QuerySyntaxError as exc:
        errors.append(parameter_error({"query": [query]}, str(exc)))
        return None
    if recorded_query is not None and query.strip().lower() == recorded_query.strip().lower():
        return lambda tweet: True  # the recording *is* this query's answer
    return matches


def _parse_times(
    params: Mapping[str, str], now_ms: int, errors: list, full_archive: bool = False
) -> tuple[int, int, int | None, int | None]:
    """(start_ms, end_ms, start as sent, end as sent); the sent values are what tokens bind to."""
    earliest_ms = FULL_ARCHIVE_START_MS if full_archive else now_ms - RECENT_WINDOW_MS
    sent: dict[str, int | None] = {}
    for name in ("start_time", "end_time"):
        raw = params.get(name)
        sent[name] = None if raw is None else parse_api_timestamp(raw)
        if raw is not None and sent[name] is None:
            errors.append(
                parameter_error(
                    {name: [raw]},
                    f"Invalid '{name}':'{raw}'. '{name}' must be a valid RFC 3339 timestamp, e.g. 2021-12-11T22:22:02Z",
                )
            )
            continue
        value = sent[name]
        if value is None:
            continue
        if value < earliest_ms:
            bound = _minute_ceiling(earliest_ms)
            errors.append(
                parameter_error({name: [raw]}, f"Invalid '{name}':'{raw}'. '{name}' must be on or after {bound}")
            )
        elif value > now_ms - MIN_LAG_MS:
            errors.append(
                parameter_error(
                    {name: [raw]},
                    f"Invalid '{name}':'{raw}'. '{name}' must be a minimum of 10 seconds prior to the request time.",
                )
            )
    start, end = sent["start_time"], sent["end_time"]
    if start is not None and end is not None and start >= end:
        raw_start, raw_end = params["start_time"], params["end_time"]
        errors.append(
            parameter_error(
                {"start_time": [raw_start], "end_time": [raw_end]},
                f"Invalid 'start_time':'{raw_start}'. 'start_time' must be before 'end_time':'{raw_end}'.",
            )
        )
    default_start_ms = now_ms - (FULL_ARCHIVE_DEFAULT_MS if full_archive else RECENT_WINDOW_MS)
    start_ms = start if start is not None else default_start_ms
    end_ms = end if end is not None else now_ms - DEFAULT_END_LAG_MS
    return start_ms, end_ms, start, end


def _parse_id(params: Mapping[str, str], name: str, errors: list) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not _ID_RE.match(raw):
        errors.append(
            parameter_error({name: [raw]}, f"The `{name}` query parameter value [{raw}] does not match ^[0-9]{{1,19}}$")
        )
        return None
    return int(raw)


def _parse_max_results(params: Mapping[str, str], errors: list) -> int:
    raw = params.get("max_results")
    if raw is None:
        return DEFAULT_RESULTS
    try:
        value = int(raw)
    except ValueError:
        errors.append(
            parameter_error(
                {"max_results": [raw]}, f"The `max_results` query parameter value [{raw}] is not a valid Int"
            )
        )
        return DEFAULT_RESULTS
    if not MIN_RESULTS <= value <= MAX_RESULTS:
        errors.append(
            parameter_error(
                {"max_results": [raw]},
                f"The `max_results` query parameter value [{raw}] is not between {MIN_RESULTS} and {MAX_RESULTS}",
            )
        )
    return value


def parse_search(
    params: Mapping[str, str],
    now_ms: int,
    users: UserLookup,
    recorded_query: str | None = None,
    full_archive: bool = False,
) -> SearchRequest:
    """Validate a recent-search (or, with `full_archive`, a full-archive search) request at `now_ms`;
    raises InvalidRequest with every problem."""
    errors = _unknown_parameters(params, SEARCH_PARAMETERS)
    matches = _parse_query(params, users, recorded_query, errors)
    max_results = _parse_max_results(params, errors)
    tweet_fields, user_fields, expansions = _fields_and_expansions(params, SEARCH_PARAMETERS, SEARCH_EXPANSIONS, errors)
    if "sort_order" in params and params["sort_order"] not in SORT_ORDERS:
        errors.append(_not_one_of("sort_order", params["sort_order"], SORT_ORDERS))
    since_id, until_id = _parse_id(params, "since_id", errors), _parse_id(params, "until_id", errors)
    start_ms, end_ms, sent_start, sent_end = _parse_times(params, now_ms, errors, full_archive)
    if errors or matches is None:  # no errors means the query compiled
        raise InvalidRequest(errors)
    query = params["query"]
    binding = "\x00".join(str(part) for part in (query, sent_start, sent_end, since_id, until_id))
    cursor = None
    token_name = "next_token" if "next_token" in params else "pagination_token"
    if token_name in params:
        try:
            cursor = decode_token(params[token_name], binding)
        except InvalidToken:
            raise InvalidRequest(
                [
                    parameter_error(
                        {token_name: [params[token_name]]},
                        f"The `{token_name}` query parameter value [{params[token_name]}] is not a valid token "
                        "for this query and time window",
                    )
                ]
            ) from None
    return SearchRequest(
        query=query,
        matches=matches,
        start_ms=start_ms,
        end_ms=end_ms,
        since_id=since_id,
        until_id=until_id,
        max_results=max_results,
        cursor=cursor,
        binding=binding,
        tweet_fields=tweet_fields,
        user_fields=user_fields,
        expansions=expansions,
    )


def parse_user_lookup(username: str, params: Mapping[str, str]) -> frozenset[str]:
    """Validate `GET /2/users/by/username/{username}`; the requested user.fields."""
    errors = _unknown_parameters(params, USER_LOOKUP_PARAMETERS)
    if not USERNAME_RE.match(username):
        errors.append(
            parameter_error(
                {"username": [username]},
                f"The `username` query parameter value [{username}] does not match ^[A-Za-z0-9_]{{1,15}}$",
            )
        )
    _, user_fields, _ = _fields_and_expansions(params, USER_LOOKUP_PARAMETERS, USER_EXPANSIONS, errors)
    if errors:
        raise InvalidRequest(errors)
    return user_fields
