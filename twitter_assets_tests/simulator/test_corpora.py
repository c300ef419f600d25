"""The synthetic and the recorded corpora, directly and through HTTP."""

import re
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest

from twitter_assets.simulator import FileCorpus, SyntheticCorpus
from twitter_assets.simulator.records import DAY_MS, format_api_time, snowflake_ms
from twitter_assets_tests.simulator.support import NOW, SEARCH, Clock, day_window, get, search_params, tweets_of, walk

ACCOUNT_ID = 1566580880
DAY = date(2026, 11, 23)  # a Monday
# Per UTC creation day of the recording: (distinct tweets, distinct conversations).
RECORDED_DAYS = {
    date(2021, 12, 9): (20, 20),
    date(2021, 12, 10): (48, 30),
    date(2021, 12, 11): (13, 12),
    date(2021, 12, 12): (2, 2),
    date(2021, 12, 13): (19, 16),
    date(2021, 12, 14): (39, 21),
    date(2021, 12, 15): (7, 6),
}


def week(corpus: SyntheticCorpus, first: date = DAY, days: int = 7) -> list:
    return [tweet for offset in range(days) for tweet in corpus.day(first + timedelta(days=offset))]


# ---- synthetic ---------------------------------------------------------------------------------
def test_same_seed_same_day_whatever_was_generated_before():
    first, second = SyntheticCorpus(seed=7), SyntheticCorpus(seed=7)
    second.day(DAY - timedelta(days=3))  # a different cache history
    assert first.day(DAY) == second.day(DAY)
    assert first.users == second.users
    assert [tweet.id for tweet in SyntheticCorpus(seed=8).day(DAY)] != [tweet.id for tweet in first.day(DAY)]


def test_any_date_works(synthetic_corpus):
    assert synthetic_corpus.day(date(2040, 2, 29))
    assert synthetic_corpus.day(date(2011, 1, 1))
    assert synthetic_corpus.day(date(2010, 1, 1)) == []  # before snowflake ids existed


def test_the_account_is_the_real_one(synthetic_corpus):
    account = synthetic_corpus.user_by_username("aluraonline")
    assert (account.id, account.username, account.name, account.created_at) == (
        ACCOUNT_ID,
        "AluraOnline",
        "Alura",
        "2013-07-03T20:02:23.000Z",
    )
    assert synthetic_corpus.user_by_id(ACCOUNT_ID) is account


def test_a_pool_of_thousands_of_valid_users(synthetic_corpus):
    users = synthetic_corpus.users
    assert 1000 <= len(users) <= 10_000
    assert len({user.username.lower() for user in users}) == len({user.id for user in users}) == len(users)
    assert all(re.fullmatch(r"[A-Za-z0-9_]{1,15}", user.username) for user in users)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z", user.created_at) for user in users)


def test_ids_are_snowflakes_of_created_at_and_unique(synthetic_corpus):
    tweets = week(synthetic_corpus)
    assert len({tweet.id for tweet in tweets}) == len(tweets)
    assert all(snowflake_ms(tweet.id) // 1000 * 1000 == tweet.created_ms for tweet in tweets)


def test_tweets_between_is_newest_first_and_half_open(synthetic_corpus):
    start, end = day_window(DAY)
    tweets = synthetic_corpus.tweets_between(start, end)
    keys = [(tweet.created_ms, tweet.id) for tweet in tweets]
    assert keys == sorted(keys, reverse=True)
    assert len(tweets) == len(synthetic_corpus.day(DAY))
    middle = tweets[len(tweets) // 2]
    moment = datetime.fromtimestamp(middle.created_ms / 1000, timezone.utc)
    assert middle in synthetic_corpus.tweets_between(moment, end)
    assert middle not in synthetic_corpus.tweets_between(start, moment)


def test_volume_varies_around_daily_volume_and_weekdays_are_busier():
    corpus = SyntheticCorpus(seed=3, daily_volume=1000)
    days = [DAY + timedelta(days=offset) for offset in range(56)]
    volumes = {day: corpus.volume(day) for day in days}
    assert all(0.7 * 0.72 * 1000 <= volume <= 1.3 * 1.15 * 1000 for volume in volumes.values())
    weekday = [volume for day, volume in volumes.items() if day.weekday() < 5]
    weekend = [volume for day, volume in volumes.items() if day.weekday() >= 5]
    assert sum(weekday) / len(weekday) > 1.15 * sum(weekend) / len(weekend)
    assert len(set(volumes.values())) > 40
    assert len(corpus.day(DAY)) == volumes[DAY] + len(corpus.account_posts(DAY))


def test_daytime_in_brazil_is_the_peak(synthetic_corpus):
    hours = Counter(int(format_api_time(tweet.created_ms)[11:13]) for tweet in week(synthetic_corpus))
    total = sum(hours.values())
    brazil_day = sum(hours[hour] for hour in (*range(13, 24), 0))  # 10:00-21:59 in UTC-3
    assert brazil_day / total > 0.65
    assert sum(hours[hour] for hour in range(5, 9)) / total < 0.05


def test_the_traffic_mix(synthetic_corpus):
    tweets = week(synthetic_corpus)
    by_id = {tweet.id: tweet for tweet in tweets}
    kinds = Counter(tweet.referenced_tweets[0][0] if tweet.referenced_tweets else "original" for tweet in tweets)
    assert all(kinds[kind] > 0.04 * len(tweets) for kind in ("original", "replied_to", "retweeted", "quoted"))

    replies_to_account = [t for t in tweets if t.in_reply_to_user_id == ACCOUNT_ID]
    assert replies_to_account and all(t.text.startswith("@AluraOnline ") for t in replies_to_account)
    own = [t for t in tweets if t.author_id == ACCOUNT_ID]
    assert any(not t.referenced_tweets for t in own) and any(t.in_reply_to_user_id for t in own)
    threads = [
        t for t in tweets if t.in_reply_to_user_id and t.in_reply_to_user_id != ACCOUNT_ID and t.author_id != ACCOUNT_ID
    ]
    assert threads and all(t.conversation_id != t.id for t in threads)
    earlier_roots = [
        t
        for t in replies_to_account
        if t.conversation_id not in by_id or by_id[t.conversation_id].created_ms // DAY_MS < t.created_ms // DAY_MS
    ]
    assert earlier_roots, "some replies go to earlier days' conversations"
    retweets = [t for t in tweets if t.referenced_tweets and t.referenced_tweets[0][0] == "retweeted"]
    assert all(t.text.startswith("RT @") and t.conversation_id == t.id for t in retweets)
    assert {"pt", "en", "und"} <= {t.lang for t in tweets}
    assert any("Alura" in t.text and "@AluraOnline" not in t.text for t in tweets)

    def mean_likes(group):
        return sum(t.public_metrics[2] for t in group) / len(group)

    assert mean_likes(own) > 5 * mean_likes([t for t in tweets if t.author_id != ACCOUNT_ID])


def test_every_reference_resolves(synthetic_corpus):
    for tweet in synthetic_corpus.day(DAY):
        for _, referenced in tweet.referenced_tweets:
            target = synthetic_corpus.tweet_by_id(referenced)
            assert target is not None and target.created_ms <= tweet.created_ms
        if tweet.conversation_id != tweet.id:
            assert synthetic_corpus.tweet_by_id(tweet.conversation_id) is not None


def test_big_volumes_still_generate():
    corpus = SyntheticCorpus(seed=5, daily_volume=100_000)
    tweets = corpus.day(DAY)
    assert len(tweets) > 50_000
    assert corpus.tweet_by_id(tweets[len(tweets) // 2].id) is tweets[len(tweets) // 2]


# ---- recorded ----------------------------------------------------------------------------------
def per_day(tweets) -> dict[date, tuple[int, int]]:
    ids, conversations = Counter(), {}
    for tweet in tweets:
        day = datetime.fromtimestamp(tweet.created_ms / 1000, timezone.utc).date()
        ids[day] += 1
        conversations.setdefault(day, set()).add(tweet.conversation_id)
    return {day: (ids[day], len(conversations[day])) for day in ids}


def test_recorded_pages_load_deduplicated(seed_pages):
    corpus = FileCorpus.from_ndjson(seed_pages)
    tweets = corpus.tweets_between(
        datetime(2021, 12, 1, tzinfo=timezone.utc), datetime(2021, 12, 31, tzinfo=timezone.utc)
    )
    assert len(tweets) == 148
    assert per_day(tweets) == RECORDED_DAYS
    assert corpus.user_by_username("ALURAONLINE").id == ACCOUNT_ID
    assert all(tweet.lang is None and tweet.referenced_tweets is None for tweet in tweets)  # not recorded


def test_shifting_moves_days_not_ids_or_time_of_day(seed_pages):
    shift = FileCorpus.days_to_shift_into_window(seed_pages, NOW)
    assert date(2021, 12, 15) + timedelta(days=shift) == NOW.date() - timedelta(days=1)
    original = FileCorpus.from_ndjson(seed_pages)
    shifted = FileCorpus.from_ndjson(seed_pages, shift_days=shift)
    assert FileCorpus.days_to_shift_into_window(shifted, NOW) == 0
    start = datetime(2021, 12, 1, tzinfo=timezone.utc)
    before = original.tweets_between(start, start + timedelta(days=30))
    after = shifted.tweets_between(start + timedelta(days=shift), start + timedelta(days=shift + 30))
    assert [tweet.id for tweet in before] == [tweet.id for tweet in after]
    assert all(b.created_ms + shift * DAY_MS == a.created_ms for b, a in zip(before, after, strict=True))
    assert {day + timedelta(days=shift): counts for day, counts in RECORDED_DAYS.items()} == per_day(after)


@pytest.fixture
def replay(seed_pages, make_simulator):
    shift = FileCorpus.days_to_shift_into_window(seed_pages, NOW)
    return make_simulator(
        corpus=FileCorpus.from_ndjson(seed_pages, recorded_query="AluraOnline", shift_days=shift), clock=Clock()
    ), shift


def test_the_recorded_query_returns_every_recorded_tweet_per_day(replay):
    simulator, shift = replay
    fields = {"tweet.fields": "created_at,conversation_id,author_id,public_metrics,lang", "expansions": "author_id"}
    for day, (n_tweets, n_conversations) in RECORDED_DAYS.items():
        shifted = day + timedelta(days=shift)
        if shifted <= (NOW - timedelta(days=7)).date():
            continue  # only partly inside the 7-day window
        pages = walk(simulator, search_params(shifted, query=" aluraonline ", max_results=100, **fields))
        tweets = tweets_of(pages)
        assert (len(tweets), len({tweet["conversation_id"] for tweet in tweets})) == (n_tweets, n_conversations), day
        assert all(
            "lang" not in tweet
            and set(tweet["public_metrics"]) == {"retweet_count", "reply_count", "like_count", "quote_count"}
            for tweet in tweets
        )
        assert {user["id"] for page in pages for user in page["includes"]["users"]} == {
            tweet["author_id"] for tweet in tweets
        }


def test_other_queries_are_matched_against_the_recording(replay):
    simulator, shift = replay
    day = date(2021, 12, 14) + timedelta(days=shift)
    own = tweets_of(
        walk(simulator, search_params(day, query="from:AluraOnline", max_results=100, **{"tweet.fields": "author_id"}))
    )
    assert own and all(tweet["author_id"] == str(ACCOUNT_ID) for tweet in own)
    assert get(simulator, SEARCH, search_params(day, query="is:reply from:AluraOnline")).json()["meta"][
        "result_count"
    ] < len(own)
