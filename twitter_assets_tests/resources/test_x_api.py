"""The X API client against the simulator over real HTTP: paging, rate limits, retries, errors."""

from datetime import datetime, timedelta, timezone

import pytest

from twitter_assets.resources.x_api import (
    XApiAuthError,
    XApiMalformedResponseError,
    XApiRequestError,
    XApiTransientError,
    XApiUsageCapError,
    _validate_search_page,
)

SEARCH = "/2/tweets/search/recent"


def whole_day_window() -> tuple[datetime, datetime]:
    """A whole day inside the 7-day window at any hour: the day before yesterday (yesterday is refused
    for the first 10 s after midnight, its end_time being too close to now)."""
    start = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=2)
    return start, start + timedelta(days=1)


def search_requests(simulator):
    return [record for record in simulator.requests if record.path == SEARCH]


def test_pages_follow_next_token_to_the_last_page(simulator, make_x_api):
    client = make_x_api(page_size=10)
    start, end = whole_day_window()
    result = client.search_recent("AluraOnline", start, end)
    ids = [tweet["id"] for page in result.pages for tweet in page.body.get("data", [])]

    assert len(result.pages) > 5
    assert len(ids) == len(set(ids)) == result.tweet_count == result.stats.tweets
    assert [page.pagination_token for page in result.pages][1:] == [
        page.body["meta"]["next_token"] for page in result.pages[:-1]
    ]
    assert "next_token" not in result.pages[-1].body["meta"]
    assert result.stats.requests == result.stats.pages == len(search_requests(simulator))
    # the same window at 100 per page returns the same tweets in fewer pages
    assert sorted(ids) == sorted(
        tweet["id"]
        for page in make_x_api().search_recent("AluraOnline", start, end).pages
        for tweet in page.body.get("data", [])
    )
    params = search_requests(simulator)[0].params
    assert params["start_time"].endswith("Z") and params["end_time"].endswith("Z")
    assert {"created_at", "conversation_id", "public_metrics", "referenced_tweets", "lang"} <= set(
        params["tweet.fields"].split(",")
    )


def test_window_429_waits_for_the_reset_then_succeeds(simulator, make_x_api):
    simulator.faults.push("429", reset_after=1.0)
    start, end = whole_day_window()
    result = make_x_api().search_recent("AluraOnline", start, end)
    assert result.tweet_count > 0
    assert result.stats.rate_limit_waits == 1 and result.stats.rate_limit_wait_seconds >= 1.0
    assert [record.status for record in search_requests(simulator)][:2] == [429, 200]


def test_client_paces_itself_before_the_window_is_spent(make_simulator, make_x_api):
    start, end = whole_day_window()
    # About five pages, whatever the day's volume (a weekend day can have fewer than 150 tweets): more
    # requests than the 3 the window allows.
    tweets = make_x_api().search_recent("AluraOnline", start, end).tweet_count
    page_size = min(100, max(10, -(-tweets // 5)))
    simulator = make_simulator(rate_limit=3, rate_window_seconds=2)
    result = make_x_api(simulator=simulator, page_size=page_size).search_recent("AluraOnline", start, end)
    assert result.tweet_count == tweets
    assert result.stats.pages == -(-tweets // page_size) > 3
    assert result.stats.rate_limit_waits >= 1
    assert all(record.status == 200 for record in search_requests(simulator)), "the client must not spend a 429"


def test_usage_cap_fails_at_once(simulator, make_x_api):
    simulator.faults.push("usage_cap")
    start, end = whole_day_window()
    with pytest.raises(XApiUsageCapError, match="usage cap exceeded"):
        make_x_api().search_recent("AluraOnline", start, end)
    assert len(search_requests(simulator)) == 1


@pytest.mark.parametrize("fault", ["503", "500", "reset", "truncate"])
def test_transient_faults_are_retried(simulator, make_x_api, fault):
    simulator.faults.push(fault)
    start, end = whole_day_window()
    result = make_x_api().search_recent("AluraOnline", start, end)
    assert result.stats.retries == 1
    assert result.tweet_count == make_x_api().search_recent("AluraOnline", start, end).tweet_count


def test_retries_are_bounded(simulator, make_x_api):
    client = make_x_api(max_attempts=3)
    for _ in range(3):
        simulator.faults.push("503")
    start, end = whole_day_window()
    with pytest.raises(XApiTransientError, match="503"):
        client.search_recent("AluraOnline", start, end)
    assert len(search_requests(simulator)) == 3


def test_bad_token_fails_at_once_naming_the_variable_not_the_token(simulator, make_x_api):
    client = make_x_api(bearer_token="wrong-secret-value")
    start, end = whole_day_window()
    with pytest.raises(XApiAuthError, match="TWITTER_BEARER_TOKEN") as error:
        client.search_recent("AluraOnline", start, end)
    assert "wrong-secret-value" not in str(error.value)
    assert len(search_requests(simulator)) == 1


def test_a_token_with_a_trailing_newline_works_and_a_broken_one_is_named_not_quoted(
    simulator, simulator_token, make_x_api
):
    """A secret file's trailing newline made `requests` refuse the header, quoting the whole token in an exception
    that reached Dagster's event log. The newline is now dropped; a token broken inside fails naming the variable."""
    start, end = whole_day_window()
    assert make_x_api(bearer_token=simulator_token + "\r\n").search_recent("AluraOnline", start, end).pages
    for broken in (simulator_token[:4] + "\n" + simulator_token[4:], "secret-value\x00", "secret value", "sécret"):
        with pytest.raises(XApiAuthError, match="TWITTER_BEARER_TOKEN holds a space, a line break") as error:
            make_x_api(bearer_token=broken).search_recent("AluraOnline", start, end)
        assert "secret" not in str(error.value) and simulator_token[:4] not in str(error.value)
        assert error.value.__cause__ is None and error.value.__context__ is None


def test_400_surfaces_the_api_message(make_x_api):
    start = datetime.now(timezone.utc) - timedelta(days=10)
    with pytest.raises(XApiRequestError, match="'start_time' must be on or after"):
        make_x_api().search_recent("AluraOnline", start, start + timedelta(days=1))


def test_user_by_username(make_x_api):
    assert make_x_api().user_by_username("AluraOnline")["id"] == "1566580880"
    with pytest.raises(XApiRequestError, match="@nobody_here_123 could not be resolved"):
        make_x_api().user_by_username("nobody_here_123")


@pytest.mark.parametrize(
    "page",
    [
        {"data": []},
        {"meta": {"result_count": 2}, "data": [{"id": "1", "created_at": "x", "text": ""}]},
        {"meta": {"result_count": 1}, "data": [{"id": 1, "created_at": "x", "text": ""}]},
    ],
)
def test_malformed_pages_are_refused(page):
    with pytest.raises(XApiMalformedResponseError):
        _validate_search_page(page, 0)


GOOD_TWEET = {"id": "1", "created_at": "2026-11-20T10:00:00.000Z", "text": "oi", "author_id": "7"}


@pytest.mark.parametrize(
    ("tweet", "users", "said"),
    [
        ({**GOOD_TWEET, "public_metrics": {"like_count": 2**63}}, [], "a count outside 0..2^63-1"),
        ({**GOOD_TWEET, "referenced_tweets": [{"type": "quoted", "id": 5}]}, [], "with a string id"),
        (GOOD_TWEET, [{"id": "7", "username": "ana", "name": 7}], "includes.users[0]: 'name' is not a string"),
        (GOOD_TWEET, [{"id": "7", "username": "ana", "created_at": "ontem"}], "unreadable created_at 'ontem'"),
    ],
)
def test_fields_the_lake_types_are_refused_naming_the_page_and_field(tweet, users, said):
    """These used to pass the validator and fail later, in the rows writer, without naming the page."""
    page = {"data": [tweet], "includes": {"users": users}, "meta": {"result_count": 1}}
    with pytest.raises(XApiMalformedResponseError, match="search page 3") as error:
        _validate_search_page(page, 2)
    assert said in str(error.value)
