"""Rate-limit windows and the usage cap."""

from datetime import timedelta

from twitter_assets_tests.simulator.support import NOW, SEARCH, Clock, get, search_params

YESTERDAY = (NOW - timedelta(days=1)).date()
TOO_MANY = {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}
USAGE_CAPPED = {
    "title": "UsageCapExceeded",
    "detail": "Usage cap exceeded: Monthly product cap",
    "type": "https://api.twitter.com/2/problems/usage-capped",
    "period": "Monthly",
    "scope": "Product",
}


def limits(response) -> tuple[int, int, int]:
    headers = response.headers
    return (
        int(headers["x-rate-limit-limit"]),
        int(headers["x-rate-limit-remaining"]),
        int(headers["x-rate-limit-reset"]),
    )


def test_remaining_counts_down_then_429_until_the_reset(make_simulator):
    clock = Clock()
    simulator = make_simulator(clock=clock, rate_limit=3, rate_window_seconds=60)
    params = search_params(YESTERDAY)
    answers = [get(simulator, SEARCH, params) for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    reset = int(NOW.timestamp()) + 60
    assert [limits(answer) for answer in answers] == [(3, 2, reset), (3, 1, reset), (3, 0, reset), (3, 0, reset)]
    assert answers[3].json() == TOO_MANY

    clock.advance(seconds=59)
    assert get(simulator, SEARCH, params).status_code == 429
    clock.advance(seconds=1)
    assert limits(get(simulator, SEARCH, params)) == (3, 2, reset + 60)


def test_windows_are_per_token_and_per_endpoint(make_simulator):
    simulator = make_simulator(clock=Clock(), rate_limit=1, bearer_tokens={"test-token", "other-token"})
    params = search_params(YESTERDAY)
    assert get(simulator, SEARCH, params).status_code == 200
    assert get(simulator, SEARCH, params).status_code == 429
    assert get(simulator, SEARCH, params, token="other-token").status_code == 200
    users = get(simulator, "/2/users/by/username/AluraOnline")
    assert users.status_code == 200 and limits(users)[:2] == (300, 299)


def test_unauthorized_requests_do_not_spend_the_window(make_simulator):
    simulator = make_simulator(clock=Clock(), rate_limit=2)
    assert get(simulator, SEARCH, {"query": "x"}, token="nope").status_code == 401
    assert limits(get(simulator, SEARCH, search_params(YESTERDAY)))[1] == 1


def test_usage_cap_stops_delivery_while_the_window_has_room(make_simulator):
    simulator = make_simulator(clock=Clock(), usage_cap=15)
    params = search_params(YESTERDAY)
    first = get(simulator, SEARCH, params)
    second = get(simulator, SEARCH, {**params, "next_token": first.json()["meta"]["next_token"]})
    third = get(simulator, SEARCH, params)
    assert [first.status_code, second.status_code, third.status_code] == [200, 200, 429]
    assert third.json() == USAGE_CAPPED
    assert limits(third)[1] > 0
    assert simulator.api.delivered_tweets == 20


def test_rate_limit_headers_on_every_api_answer(simulator):
    for response in (
        get(simulator, SEARCH, {"query": "AluraOnline"}),
        get(simulator, SEARCH, {"query": ""}),
        get(simulator, SEARCH, {"query": "x"}, token="nope"),
        get(simulator, "/2/users/by/username/AluraOnline"),
    ):
        assert {"x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"} <= set(response.headers), response
