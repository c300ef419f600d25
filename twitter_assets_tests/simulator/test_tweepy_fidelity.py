"""Fidelity: tweepy's own client and Paginator, pointed at the simulator, work unmodified.

tweepy hard-codes https://api.twitter.com; a transport adapter mounted on its session rewrites each
request to the simulator's base URL, so everything else (params, headers, parsing, rate-limit
waits) is tweepy's real code path.
"""

from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
import requests
import tweepy
from requests.adapters import HTTPAdapter

from twitter_assets.simulator.query import compile_query
from twitter_assets_tests.simulator.support import SEARCH

TWEET_FIELDS = [
    "author_id",
    "conversation_id",
    "created_at",
    "in_reply_to_user_id",
    "lang",
    "public_metrics",
    "referenced_tweets",
]
USER_FIELDS = ["created_at", "username", "name"]


class ToSimulator(HTTPAdapter):
    """Send whatever tweepy asks of the real hosts to the simulator instead."""

    def __init__(self, base_url: str):
        super().__init__()
        self.base_url = base_url

    def send(self, request: requests.PreparedRequest, **kwargs) -> requests.Response:
        url = urlsplit(request.url)
        request.url = self.base_url + url.path + (f"?{url.query}" if url.query else "")
        return super().send(request, **kwargs)


@pytest.fixture
def client(simulator, simulator_token) -> tweepy.Client:
    client = tweepy.Client(bearer_token=simulator_token, wait_on_rate_limit=True)
    adapter = ToSimulator(simulator.base_url)
    for host in ("https://api.twitter.com/", "https://api.x.com/"):
        client.session.mount(host, adapter)
    return client


def whole_day() -> tuple[datetime, datetime]:
    """A whole day inside the 7-day window at any hour: the day before yesterday (yesterday is refused
    for the first 10 s after midnight, its end_time being too close to now)."""
    start = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=2)
    return start, start + timedelta(days=1)


def paginate(
    client: tweepy.Client, start: datetime, end: datetime
) -> tuple[list[tweepy.Tweet], dict[int, tweepy.User]]:
    tweets, users = [], {}
    for response in tweepy.Paginator(
        client.search_recent_tweets,
        query="AluraOnline",
        start_time=start,
        end_time=end,
        max_results=100,
        tweet_fields=TWEET_FIELDS,
        expansions=["author_id"],
        user_fields=USER_FIELDS,
    ):
        tweets.extend(response.data or [])
        users.update({user.id: user for user in response.includes.get("users", [])})
    return tweets, users


def expected(corpus, start, end) -> list:
    matches = compile_query("AluraOnline", corpus.user_by_id)
    return [tweet for tweet in corpus.tweets_between(start, end) if matches(tweet)]


def test_tweepy_paginator_gets_every_tweet_of_the_window(client, simulator, synthetic_corpus):
    start, end = whole_day()
    tweets, users = paginate(client, start, end)
    want = expected(synthetic_corpus, start, end)

    assert [tweet.id for tweet in tweets] == [tweet.id for tweet in want]
    assert len([record for record in simulator.requests if record.path == SEARCH]) == -(-len(want) // 100)
    first, record = tweets[0], want[0]
    assert first.created_at == datetime.fromtimestamp(record.created_ms / 1000, timezone.utc)
    assert (first.author_id, first.conversation_id, first.lang) == (
        record.author_id,
        record.conversation_id,
        record.lang,
    )
    assert first.public_metrics["like_count"] == record.public_metrics[2]
    assert {tweet.author_id for tweet in tweets} == set(users)
    assert all(users[tweet.author_id].username for tweet in tweets)


def test_tweepy_waits_out_a_429_and_still_gets_everything(client, simulator, synthetic_corpus):
    simulator.faults.push("429", reset_after=1.0)
    start, end = whole_day()
    tweets, _ = paginate(client, start, end)
    assert [tweet.id for tweet in tweets] == [tweet.id for tweet in expected(synthetic_corpus, start, end)]
    assert [record.status for record in simulator.requests][:2] == [429, 200]


def test_tweepy_get_user(client):
    response = client.get_user(username="AluraOnline", user_fields=["created_at"])
    assert (response.data.id, response.data.username, response.data.name) == (1566580880, "AluraOnline", "Alura")
    assert response.data.created_at == datetime(2013, 7, 3, 20, 2, 23, tzinfo=timezone.utc)
    missing = client.get_user(username="nobody_here_123")
    assert missing.data is None and missing.errors[0]["title"] == "Not Found Error"


def test_tweepy_raises_its_own_errors(client, simulator):
    with pytest.raises(tweepy.BadRequest, match="max_results"):
        client.search_recent_tweets(query="AluraOnline", max_results=5)
    simulator.faults.push("503")
    with pytest.raises(tweepy.TwitterServerError):
        client.search_recent_tweets(query="AluraOnline")
    with pytest.raises(tweepy.Unauthorized):
        tweepy_client = tweepy.Client(bearer_token="wrong")
        tweepy_client.session.mount("https://api.twitter.com/", ToSimulator(simulator.base_url))
        tweepy_client.search_recent_tweets(query="AluraOnline")
