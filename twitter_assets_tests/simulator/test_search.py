"""Recent search answers: paging, order, the window, fields, expansions and next_token."""

import http.client
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest

from twitter_assets.simulator import SyntheticCorpus
from twitter_assets.simulator.query import compile_query
from twitter_assets_tests.simulator.support import (
    ALL_TWEET_FIELDS,
    NOW,
    SEARCH,
    Clock,
    api_time,
    day_window,
    get,
    search_params,
    tweets_of,
    walk,
)

YESTERDAY = (NOW - timedelta(days=1)).date()
CREATED_AT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$")


@pytest.fixture(scope="module")
def busy_corpus() -> SyntheticCorpus:
    return SyntheticCorpus(seed=11, daily_volume=2000)


@pytest.fixture
def clocked(make_simulator):
    return make_simulator(clock=Clock())


def expected_ids(corpus, day, query="AluraOnline") -> list[str]:
    matches = compile_query(query, corpus.user_by_id)
    return [str(tweet.id) for tweet in corpus.tweets_between(*day_window(day)) if matches(tweet)]


def test_walking_every_page_returns_each_matching_tweet_once(make_simulator, busy_corpus):
    simulator = make_simulator(corpus=busy_corpus, clock=Clock())
    pages = walk(simulator, search_params(YESTERDAY, max_results=100))
    ids = [tweet["id"] for tweet in tweets_of(pages)]

    assert len(pages) >= 5
    assert all(page["meta"]["result_count"] == len(page["data"]) for page in pages)
    assert all(len(page["data"]) == 100 for page in pages[:-1])
    assert len(ids) == len(set(ids))
    assert ids == expected_ids(busy_corpus, YESTERDAY)  # same tweets, same (newest first) order


def test_pages_are_newest_first_within_and_across_pages(clocked):
    pages = walk(clocked, search_params(YESTERDAY, max_results=10, **{"tweet.fields": "created_at"}))
    keys = [(tweet["created_at"], int(tweet["id"])) for tweet in tweets_of(pages)]
    assert keys == sorted(keys, reverse=True)
    for page in pages:
        assert page["meta"]["newest_id"] == page["data"][0]["id"]
        assert page["meta"]["oldest_id"] == page["data"][-1]["id"]


def test_created_at_stays_inside_the_window(clocked):
    start, end = NOW - timedelta(hours=30), NOW - timedelta(hours=20)
    params = {
        "query": "AluraOnline",
        "start_time": api_time(start),
        "end_time": api_time(end),
        "tweet.fields": "created_at",
    }
    created = [tweet["created_at"] for tweet in tweets_of(walk(clocked, {**params, "max_results": 100}))]
    assert created
    assert all(api_time(start) <= stamp[:19] + "Z" < api_time(end) for stamp in created)


def test_default_window_is_the_last_seven_days(clocked, synthetic_corpus):
    pages = walk(clocked, {"query": "AluraOnline", "max_results": 100, "tweet.fields": "created_at"})
    created = [tweet["created_at"] for tweet in tweets_of(pages)]
    assert min(created) >= api_time(NOW - timedelta(days=7))
    assert max(created) < api_time(NOW - timedelta(seconds=30))
    assert len(created) > 6 * 100


def test_an_empty_result_has_only_meta(clocked):
    response = get(clocked, SEARCH, search_params(YESTERDAY, query="zzzzunmatched"))
    assert response.status_code == 200
    assert response.json() == {"meta": {"result_count": 0}}


def test_default_fields_are_id_text_and_edit_history(clocked):
    data = get(clocked, SEARCH, search_params(YESTERDAY)).json()["data"]
    assert len(data) == 10  # the default max_results
    assert all(set(tweet) == {"id", "text", "edit_history_tweet_ids"} for tweet in data)
    assert all(tweet["edit_history_tweet_ids"] == [tweet["id"]] for tweet in data)


def test_requested_fields_are_present_with_string_ids(clocked):
    data = tweets_of(walk(clocked, search_params(YESTERDAY, max_results=100, **{"tweet.fields": ALL_TWEET_FIELDS})))
    for tweet in data:
        assert {"id", "text", "author_id", "conversation_id", "created_at", "lang", "public_metrics"} <= set(tweet)
        assert CREATED_AT.match(tweet["created_at"])
        assert all(isinstance(tweet[key], str) for key in ("id", "author_id", "conversation_id"))
        assert tweet["id"].isdigit() and tweet["author_id"].isdigit()
        assert set(tweet["public_metrics"]) == {
            "retweet_count",
            "reply_count",
            "like_count",
            "quote_count",
            "bookmark_count",
            "impression_count",
        }
        if "referenced_tweets" in tweet:
            assert tweet["referenced_tweets"] and all(isinstance(ref["id"], str) for ref in tweet["referenced_tweets"])
        if tweet["text"].startswith("RT @"):
            assert tweet["referenced_tweets"][0]["type"] == "retweeted"
    replies = [tweet for tweet in data if "in_reply_to_user_id" in tweet]
    assert replies and all(isinstance(tweet["in_reply_to_user_id"], str) for tweet in replies)
    assert any(
        tweet["in_reply_to_user_id"] == "1566580880" and tweet["text"].startswith("@AluraOnline ") for tweet in replies
    )
    mentions = [m for tweet in data for m in tweet.get("entities", {}).get("mentions", [])]
    assert {"start", "end", "username"} <= set(mentions[0])


def test_includes_users_are_the_page_authors_in_first_appearance_order(clocked):
    body = get(
        clocked,
        SEARCH,
        search_params(
            YESTERDAY,
            max_results=100,
            expansions="author_id",
            **{"tweet.fields": "author_id", "user.fields": "created_at"},
        ),
    ).json()
    authors = list(dict.fromkeys(tweet["author_id"] for tweet in body["data"]))
    users = body["includes"]["users"]
    assert [user["id"] for user in users] == authors
    assert all(
        set(user) == {"id", "name", "username", "created_at"} and CREATED_AT.match(user["created_at"]) for user in users
    )


def test_no_includes_without_expansions(clocked):
    assert "includes" not in get(clocked, SEARCH, search_params(YESTERDAY, **{"tweet.fields": "author_id"})).json()


def test_referenced_tweets_and_reply_users_are_expanded(clocked, synthetic_corpus):
    params = search_params(
        YESTERDAY,
        max_results=100,
        expansions="referenced_tweets.id,in_reply_to_user_id",
        **{"tweet.fields": "referenced_tweets,in_reply_to_user_id"},
    )
    body = get(clocked, SEARCH, params).json()
    referenced = {ref["id"] for tweet in body["data"] for ref in tweet.get("referenced_tweets", [])}
    included = {tweet["id"] for tweet in body["includes"]["tweets"]}
    assert included and included == {ref for ref in referenced if synthetic_corpus.tweet_by_id(int(ref))}
    reply_users = {tweet["in_reply_to_user_id"] for tweet in body["data"] if "in_reply_to_user_id" in tweet}
    assert reply_users <= {user["id"] for user in body["includes"]["users"]}


def test_since_id_and_until_id_bound_the_ids(clocked):
    ids = [tweet["id"] for tweet in tweets_of(walk(clocked, search_params(YESTERDAY, max_results=100)))]
    since, until = ids[-20], ids[5]  # ids are newest first
    bounded = tweets_of(walk(clocked, search_params(YESTERDAY, max_results=100, since_id=since, until_id=until)))
    assert [tweet["id"] for tweet in bounded] == ids[6:-20]


def test_next_token_is_deterministic_and_looks_real(clocked):
    params = search_params(YESTERDAY)
    first = get(clocked, SEARCH, params).json()["meta"]["next_token"]
    assert first == get(clocked, SEARCH, params).json()["meta"]["next_token"]
    assert re.fullmatch(r"b26v89c19zqg8o3f[0-9a-z]{29}", first)
    second = get(clocked, SEARCH, {**params, "next_token": first}).json()
    # pagination_token is an alias
    assert second == get(clocked, SEARCH, {**params, "pagination_token": first}).json()


@pytest.mark.parametrize(
    "change",
    [
        {"query": "Alura"},
        {"start_time": api_time(NOW - timedelta(days=2))},
        {"end_time": api_time(NOW - timedelta(hours=1))},
    ],
)
def test_a_token_from_another_query_or_window_is_400(clocked, change):
    params = search_params(YESTERDAY)
    token = get(clocked, SEARCH, params).json()["meta"]["next_token"]
    response = get(clocked, SEARCH, {**params, **change, "next_token": token})
    assert response.status_code == 400
    assert list(response.json()["errors"][0]["parameters"]) == ["next_token"]


def test_a_tampered_token_is_400(clocked):
    params = search_params(YESTERDAY)
    token = get(clocked, SEARCH, params).json()["meta"]["next_token"]
    tampered = token[:-1] + ("0" if token[-1] != "0" else "1")
    for bad in (tampered, "garbage", token + "0"):
        response = get(clocked, SEARCH, {**params, "next_token": bad})
        assert response.status_code == 400
        assert response.json()["errors"][0]["parameters"] == {"next_token": [bad]}


def test_relevancy_is_served_in_recency_order(clocked):
    params = search_params(YESTERDAY)
    assert get(clocked, SEARCH, {**params, "sort_order": "relevancy"}).json() == get(clocked, SEARCH, params).json()


def test_tweets_after_now_do_not_exist_yet(make_simulator, synthetic_corpus):
    clock = Clock(NOW.replace(hour=3))
    simulator = make_simulator(clock=clock)
    params = {"query": "AluraOnline", "start_time": api_time(clock.now.replace(hour=0)), "tweet.fields": "created_at"}
    early = tweets_of(walk(simulator, {**params, "max_results": 100}))
    assert all(tweet["created_at"] < api_time(clock.now - timedelta(seconds=30)) for tweet in early)
    clock.advance(hours=9)
    later = tweets_of(walk(simulator, {**params, "max_results": 100}))
    assert len(later) > len(early)
    assert [tweet["id"] for tweet in later[-len(early) :]] == [tweet["id"] for tweet in early]


def test_keep_alive_serves_many_requests_on_one_connection(clocked):
    connection = http.client.HTTPConnection("127.0.0.1", clocked.port, timeout=10)
    sockets = set()
    for path in (f"{SEARCH}?{urlencode(search_params(YESTERDAY))}", "/2/users/by/username/AluraOnline", "/nowhere") * 2:
        connection.request("GET", path, headers={"Authorization": "Bearer test-token"})
        response = connection.getresponse()
        body = response.read()
        assert not response.will_close
        assert len(body) == int(response.getheader("Content-Length"))
        sockets.add(id(connection.sock))
    assert len(sockets) == 1
    connection.close()
