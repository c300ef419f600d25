"""The HTTP contract: auth, unknown paths, every 400 the real endpoint gives, users-by-username."""

from datetime import datetime, timedelta

import pytest

from twitter_assets_tests.simulator.support import NOW, SEARCH, Clock, api_time, get, search_params

INVALID = {
    "title": "Invalid Request",
    "detail": "One or more parameters to your request was invalid.",
    "type": "https://api.twitter.com/2/problems/invalid-request",
}
YESTERDAY = (NOW - timedelta(days=1)).date()


@pytest.fixture
def clocked(make_simulator):
    """A simulator whose "now" is NOW."""
    return make_simulator(clock=Clock())


def errors_of(response) -> list[dict]:
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert {key: body[key] for key in INVALID} == INVALID
    return body["errors"]


def only_error(response) -> dict:
    errors = errors_of(response)
    assert len(errors) == 1, errors
    return errors[0]


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_a_missing_or_wrong_token_is_401(simulator, token):
    response = get(simulator, SEARCH, {"query": "AluraOnline"}, token=token)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
    assert simulator.requests[-1].token_ok is False and simulator.requests[-1].status == 401


def test_an_unknown_path_is_404(simulator):
    response = get(simulator, "/2/tweets/search/everything", {"query": "x"})
    assert response.status_code == 404
    assert response.json() == {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]}


def test_missing_and_empty_query(clocked):
    assert only_error(get(clocked, SEARCH, {})) == {
        "parameters": {"query": []},
        "message": "The `query` query parameter can not be empty",
    }
    assert only_error(get(clocked, SEARCH, {"query": ""})) == {
        "parameters": {"query": [""]},
        "message": "Invalid 'query':''. 'query' must be a non-empty string",
    }


def test_query_longer_than_512_characters(clocked):
    query = "alura " * 90
    error = only_error(get(clocked, SEARCH, {"query": query}))
    assert error["parameters"] == {"query": [query]}
    assert error["message"].endswith("is not between 1 and 512")


def test_unknown_parameter_lists_the_accepted_ones(clocked):
    assert only_error(get(clocked, SEARCH, {"query": "a", "foo": "bar"})) == {
        "parameters": {"foo": ["bar"]},
        "message": "The query parameter [foo] is not one of [query,start_time,end_time,since_id,until_id,max_results,"
        "next_token,pagination_token,sort_order,expansions,tweet.fields,media.fields,poll.fields,place.fields,user.fields]",
    }


@pytest.mark.parametrize("value", ["5", "101", "0"])
def test_max_results_outside_10_to_100(clocked, value):
    assert only_error(get(clocked, SEARCH, {"query": "alura", "max_results": value})) == {
        "parameters": {"max_results": [value]},
        "message": f"The `max_results` query parameter value [{value}] is not between 10 and 100",
    }


def test_max_results_not_a_number(clocked):
    assert "is not a valid Int" in only_error(get(clocked, SEARCH, {"query": "alura", "max_results": "ten"}))["message"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("tweet.fields", "created_at,foo"),
        ("user.fields", "bar"),
        ("expansions", "author_id,nope"),
        ("media.fields", "x"),
    ],
)
def test_unknown_field_or_expansion_value(clocked, name, value):
    error = only_error(get(clocked, SEARCH, {"query": "alura", name: value}))
    bad = value.split(",")[-1]
    assert error["parameters"] == {name: [bad]}
    assert error["message"].startswith(f"The `{name}` query parameter value [{bad}] is not one of [")


def test_all_problems_are_reported_together(clocked):
    errors = errors_of(get(clocked, SEARCH, {"query": "a", "max_results": "5", "tweet.fields": "foo", "bar": "1"}))
    assert [list(error["parameters"]) for error in errors] == [["bar"], ["max_results"], ["tweet.fields"]]


@pytest.mark.parametrize("value", ["xyz", "2026-11-23", "2026-11-23 10:00:00Z", "2026-13-01T00:00:00Z"])
def test_malformed_timestamp(clocked, value):
    error = only_error(get(clocked, SEARCH, {"query": "alura", "start_time": value}))
    assert error["parameters"] == {"start_time": [value]}
    assert error["message"].startswith(f"Invalid 'start_time':'{value}'. ")


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-23T10:00:00Z",
        "2026-11-23T10:00:00.123Z",
        "2026-11-23T07:00:00-03:00",
        "2026-11-23T10:00:00+00:00",
        "2026-11-23T10:00Z",
    ],
)
def test_rfc3339_variants_are_accepted(clocked, value):
    assert get(clocked, SEARCH, {"query": "alura", "start_time": value}).status_code == 200


def test_start_time_older_than_seven_days(clocked):
    value = "2021-12-09T00:00:00Z"
    assert only_error(get(clocked, SEARCH, {"query": "alura", "start_time": value})) == {
        "parameters": {"start_time": [value]},
        "message": f"Invalid 'start_time':'{value}'. 'start_time' must be on or after 2026-11-17T12:00Z",
    }
    # the bound itself is accepted, a second before is not
    bound = NOW - timedelta(days=7)
    assert get(clocked, SEARCH, {"query": "alura", "start_time": api_time(bound)}).status_code == 200
    assert (
        get(clocked, SEARCH, {"query": "alura", "start_time": api_time(bound - timedelta(seconds=1))}).status_code
        == 400
    )


def test_end_time_must_be_ten_seconds_before_now(clocked):
    value = api_time(NOW - timedelta(seconds=5))
    assert only_error(get(clocked, SEARCH, {"query": "alura", "end_time": value})) == {
        "parameters": {"end_time": [value]},
        "message": f"Invalid 'end_time':'{value}'. "
        "'end_time' must be a minimum of 10 seconds prior to the request time.",
    }
    assert (
        get(clocked, SEARCH, {"query": "alura", "end_time": api_time(NOW - timedelta(seconds=10))}).status_code == 200
    )


def test_start_time_must_be_before_end_time(clocked):
    start, end = api_time(NOW - timedelta(hours=1)), api_time(NOW - timedelta(hours=2))
    error = only_error(get(clocked, SEARCH, {"query": "alura", "start_time": start, "end_time": end}))
    assert error["parameters"] == {"start_time": [start], "end_time": [end]}
    assert "'start_time'" in error["message"] and "'end_time'" in error["message"]


def test_bad_since_id_and_sort_order(clocked):
    errors = errors_of(get(clocked, SEARCH, {"query": "alura", "since_id": "abc", "sort_order": "oldest"}))
    assert [list(error["parameters"]) for error in errors] == [["sort_order"], ["since_id"]]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("alura foo:bar", "Reference to invalid operator 'foo'"),
        ("is:polls alura", "Reference to invalid operator 'is:polls'"),
        ("(alura OR python", "expecting ')'"),
        ("alura)", "missing EOF at ')'"),
        ('"alura python', "no viable alternative at character '\"'"),
        ("is:retweet", "is/has/lang cannot be used as a standalone operator"),
        ("-alura", "Rules must contain at least one positive, non-stopword clause"),
        ("alura AND python", "Ambiguous use of and as a keyword"),
        ("OR alura", "no viable alternative at input 'OR'"),
    ],
)
def test_invalid_queries_are_400_with_the_api_wording(clocked, query, fragment):
    error = only_error(get(clocked, SEARCH, {"query": query}))
    assert error["parameters"] == {"query": [query]}
    assert error["message"].startswith("There were errors processing your request: ")
    assert fragment in error["message"]


def test_400s_count_against_the_rate_limit_and_carry_its_headers(clocked):
    response = get(clocked, SEARCH, {"query": ""})
    assert response.status_code == 400
    assert response.headers["x-rate-limit-remaining"] == "449"


def test_user_by_username_is_case_insensitive(simulator):
    response = get(simulator, "/2/users/by/username/aluraONLINE")
    assert response.status_code == 200
    assert response.json() == {"data": {"id": "1566580880", "name": "Alura", "username": "AluraOnline"}}
    assert response.headers["x-rate-limit-limit"] == "300"


def test_user_fields_on_request(simulator):
    body = get(
        simulator, "/2/users/by/username/AluraOnline", {"user.fields": "created_at,description,public_metrics,verified"}
    ).json()
    assert body["data"]["created_at"] == "2013-07-03T20:02:23.000Z"
    assert {"description", "public_metrics", "verified"} <= set(body["data"])
    assert all(isinstance(value, int) for value in body["data"]["public_metrics"].values())


def test_unknown_user_is_a_200_with_errors(simulator):
    response = get(simulator, "/2/users/by/username/nobody_here_123")
    assert response.status_code == 200
    assert response.json() == {
        "errors": [
            {
                "value": "nobody_here_123",
                "detail": "Could not find user with username: [nobody_here_123].",
                "title": "Not Found Error",
                "resource_type": "user",
                "parameter": "username",
                "resource_id": "nobody_here_123",
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
        ]
    }


@pytest.mark.parametrize("username", ["bad-name", "way_too_long_handle_x"])
def test_invalid_username_is_400(simulator, username):
    error = only_error(get(simulator, f"/2/users/by/username/{username}"))
    assert error["parameters"] == {"username": [username]}


def test_user_lookup_rejects_search_parameters(simulator):
    error = only_error(get(simulator, "/2/users/by/username/AluraOnline", {"query": "x"}))
    assert error["message"] == "The query parameter [query] is not one of [expansions,tweet.fields,user.fields]"


def test_yesterday_is_served_with_the_fixed_clock(clocked):
    assert get(clocked, SEARCH, search_params(YESTERDAY)).json()["meta"]["result_count"] == 10


FULL_ARCHIVE = "/2/tweets/search/all"


def test_full_archive_search_serves_old_days_with_the_same_contract(clocked):
    old_day = (NOW - timedelta(days=400)).date()
    response = get(clocked, FULL_ARCHIVE, search_params(old_day, max_results=100, **{"tweet.fields": "created_at"}))
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["meta"]["result_count"] == len(page["data"]) > 0
    assert all(tweet["created_at"].startswith(old_day.isoformat()) for tweet in page["data"])
    # Recent search refuses the same day, with the API's words.
    assert get(clocked, SEARCH, search_params(old_day)).status_code == 400
    # Before 2006-03-21 even full-archive search refuses it (a second later: 1 request/s).
    clocked.clock.advance(seconds=1)
    assert get(clocked, FULL_ARCHIVE, search_params(datetime(2006, 3, 1).date())).status_code == 400


def test_full_archive_search_has_its_own_window_and_one_request_per_second(make_simulator):
    clock = Clock()
    server = make_simulator(clock=clock, rate_limit=1, full_archive_rate_limit=2)
    day = (NOW - timedelta(days=3)).date()
    assert get(server, SEARCH, search_params(day)).status_code == 200
    assert get(server, SEARCH, search_params(day)).status_code == 429  # recent's window is spent...
    first = get(server, FULL_ARCHIVE, search_params(day))
    assert first.status_code == 200 and first.headers["x-rate-limit-limit"] == "2"  # ...not full-archive's
    assert get(server, FULL_ARCHIVE, search_params(day)).status_code == 429  # under 1 s since the last
    clock.advance(seconds=1)
    assert get(server, FULL_ARCHIVE, search_params(day)).status_code == 200
    clock.advance(seconds=1)
    spent = get(server, FULL_ARCHIVE, search_params(day))
    assert spent.status_code == 429 and spent.headers["x-rate-limit-remaining"] == "0"
