"""SyntheticCorpus: deterministic Portuguese traffic around a brand account, for any date.

Each UTC day is generated on first use from `Random(f"{seed}:{day}")` and kept in a bounded LRU, so
the same seed always yields the same tweets for a day, whatever was asked before. The account's own
posts come from a separate per-day stream, so a day can reply to or retweet earlier days' posts
without generating those days.

The corpus is timeless: it also holds tweets "from the future". The server's clock decides what
exists, because a search window can never end later than now - 10 s.
"""

from __future__ import annotations

import threading
from bisect import bisect, bisect_left
from collections import OrderedDict, deque
from datetime import date, datetime, timedelta
from itertools import accumulate
from random import Random

from twitter_assets.simulator.people import account_user, user_pool
from twitter_assets.simulator.records import (
    TWITTER_EPOCH_MS,
    Tweet,
    User,
    day_start_ms,
    from_ms,
    snowflake,
    snowflake_ms,
    to_ms,
)
from twitter_assets.simulator.text import (
    ACCOUNT_POSTS,
    ACCOUNT_REPLIES,
    BRAND_ONLY,
    ENGLISH,
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    QUOTE_COMMENTS,
    REPLIES_TO_ACCOUNT,
    THREAD_REPLIES,
    UNDETERMINED,
    TemplatePool,
    t_co_link,
)

# Monday..Sunday, mean 1.0: people tweet about courses more on weekdays.
WEEKDAY_FACTORS = (1.12, 1.15, 1.12, 1.08, 0.98, 0.72, 0.83)
# Per UTC hour; Brazil (UTC-3) sleeps 01-07 local and is busiest in the evening.
HOUR_WEIGHTS = (7, 6, 4.5, 3, 1.8, 1, 0.6, 0.5, 0.6, 1.2, 2.5, 4, 5.5, 6, 6.2, 5.8, 6, 6.2, 6.3, 6.2, 6, 6.4, 7, 7.3)
_HOUR_CUM = list(accumulate(HOUR_WEIGHTS))
_HOUR_MS = 3_600_000

# Share (percent) of each kind of users' tweet, in the order of `_DayBuilder.build`'s builders: mention,
# brand without the handle, reply to the account, reply in a thread, the account's answer, retweet, quote.
# The account's own posts come on top of the volume.
_KIND_CUM = list(accumulate((26, 6, 16, 12, 5, 27, 8)))  # percent

# Low 22 id bits: users' tweets use sequence numbers below 2**21, the account's posts above.
_MAX_DAY_VOLUME = (1 << 21) - 1
_ACCOUNT_SEQUENCE = 1 << 21
_POOL_SIZE = 3000
_PRIOR_POST_DAYS = 3  # replies and retweets reach the account's posts of up to 3 days before
_MAX_CACHED_DAYS = 32
_MAX_CACHED_TWEETS = 2_000_000  # memory bound for big daily volumes (under 1 KB a tweet)
# Snowflake ids start on 2010-11-04; earlier days have no tweets.
FIRST_DAY = from_ms(TWITTER_EPOCH_MS).date() + timedelta(days=1)

_POOLS = {
    name: TemplatePool(templates)
    for name, templates in {
        "positive": POSITIVE,
        "neutral": NEUTRAL,
        "negative": NEGATIVE,
        "brand": BRAND_ONLY,
        "en": ENGLISH,
        "und": UNDETERMINED,
        "reply": REPLIES_TO_ACCOUNT,
        "thread": THREAD_REPLIES,
        "post": ACCOUNT_POSTS,
        "answer": ACCOUNT_REPLIES,
        "quote": QUOTE_COMMENTS,
    }.items()
}


def _tweet_id(tweet: Tweet) -> int:
    return tweet.id


def _tweet_created(tweet: Tweet) -> int:
    return tweet.created_ms


def _metrics(rng: Random, scale: float) -> tuple[int, ...]:
    """Skewed public metrics: most tweets get nothing, a few get a lot."""
    likes = int((rng.paretovariate(1.4) - 1) * scale)
    replies = int(rng.paretovariate(2.5) - 1)
    retweets = int((rng.paretovariate(2.0) - 1) * scale * 0.3)
    quotes = int(rng.random() < 0.02 * scale)
    impressions = (likes + replies + retweets + 1) * (15 + int(rng.random() * 150))
    return retweets, replies, likes, quotes, likes // 8, impressions


class SyntheticCorpus:
    """Deterministic synthetic traffic about `account_username`, about `daily_volume` tweets a day."""

    recorded_query: str | None = None

    def __init__(self, account_username: str = "AluraOnline", seed: int = 7, daily_volume: int = 250):
        if daily_volume < 0:
            raise ValueError("daily_volume must be >= 0")
        self.account_username = account_username
        self.seed = seed
        self.daily_volume = daily_volume
        self.account = account_user(account_username)
        self.users = user_pool(seed, _POOL_SIZE, self.account)
        self._users_by_id = {user.id: user for user in (self.account, *self.users)}
        self._users_by_name = {user.username.lower(): user for user in (self.account, *self.users)}
        self._days: OrderedDict[date, list[Tweet]] = OrderedDict()
        self._cached_tweets = 0
        self._posts: OrderedDict[date, list[Tweet]] = OrderedDict()
        self._lock = threading.RLock()  # the server is threaded; a day is generated once

    # ---- Corpus ------------------------------------------------------------------------------
    def tweets_between(self, start: datetime, end: datetime) -> list[Tweet]:
        start_ms, end_ms = to_ms(start), to_ms(end)
        result: list[Tweet] = []
        if end_ms <= start_ms:
            return result
        day, first = from_ms(end_ms - 1).date(), from_ms(start_ms).date()
        while day >= first:
            tweets = self.day(day)
            low = bisect_left(tweets, start_ms, key=_tweet_created)
            high = bisect_left(tweets, end_ms, key=_tweet_created)
            result.extend(reversed(tweets[low:high]))
            day -= timedelta(days=1)
        return result

    def tweet_by_id(self, tweet_id: int) -> Tweet | None:
        tweets = self.day(from_ms(snowflake_ms(tweet_id)).date())
        index = bisect_left(tweets, tweet_id, key=_tweet_id)
        return tweets[index] if index < len(tweets) and tweets[index].id == tweet_id else None

    def user_by_id(self, user_id: int) -> User | None:
        return self._users_by_id.get(user_id)

    def user_by_username(self, username: str) -> User | None:
        return self._users_by_name.get(username.lower())

    # ---- days --------------------------------------------------------------------------------
    def day(self, day: date) -> list[Tweet]:
        """Every tweet of a UTC day, oldest first (ascending id = ascending time)."""
        with self._lock:
            tweets = self._days.get(day)
            if tweets is not None:
                self._days.move_to_end(day)
                return tweets
            tweets = _DayBuilder(self, day).build()
            self._days[day] = tweets
            self._cached_tweets += len(tweets)
            while len(self._days) > 1 and (
                len(self._days) > _MAX_CACHED_DAYS or self._cached_tweets > _MAX_CACHED_TWEETS
            ):
                _, evicted = self._days.popitem(last=False)
                self._cached_tweets -= len(evicted)
            return tweets

    def account_posts(self, day: date) -> list[Tweet]:
        """The account's own posts of a day (a few on weekdays, fewer on weekends), oldest first."""
        with self._lock:
            posts = self._posts.get(day)
            if posts is None:
                posts = self._make_account_posts(day)
                self._posts[day] = posts
                if len(self._posts) > _MAX_CACHED_DAYS:
                    self._posts.popitem(last=False)
            return posts

    def _make_account_posts(self, day: date) -> list[Tweet]:
        if self.daily_volume == 0 or day < FIRST_DAY:
            return []
        rng = Random(f"{self.seed}:{day.isoformat()}:account")
        count = rng.randint(2, 6) if day.weekday() < 5 else rng.randint(0, 2)
        day_ms = day_start_ms(day)
        # Office hours in Brazil: 09-20 local.
        stamps = sorted(day_ms + rng.randrange(12 * _HOUR_MS, 23 * _HOUR_MS) for _ in range(count))
        posts = []
        for index, ms in enumerate(stamps):
            tweet_id = snowflake(ms, _ACCOUNT_SEQUENCE | index)
            posts.append(
                Tweet(
                    id=tweet_id,
                    created_ms=ms - ms % 1000,
                    text=_POOLS["post"].render(rng, self.account.username),
                    author_id=self.account.id,
                    conversation_id=tweet_id,
                    public_metrics=_metrics(rng, 25),
                    lang="pt",
                    entities_from_text=True,
                )
            )
        return posts

    def volume(self, day: date) -> int:
        """How many users' tweets the day has (before the account's own posts)."""
        return self._volume(Random(f"{self.seed}:{day.isoformat()}"), day)

    def _volume(self, rng: Random, day: date) -> int:
        expected = self.daily_volume * WEEKDAY_FACTORS[day.weekday()] * rng.uniform(0.7, 1.3)
        return min(_MAX_DAY_VOLUME, round(expected))


class _DayBuilder:
    """Generates one day in time order, so every reply, retweet and quote points to an older tweet."""

    def __init__(self, corpus: SyntheticCorpus, day: date):
        self.rng = Random(f"{corpus.seed}:{day.isoformat()}")
        self.day = day
        self.account = corpus.account
        self.handle = corpus.account.username
        self.mention = "@" + corpus.account.username.lower()
        self.users = corpus.users
        self.users_by_id = corpus.user_by_id
        self.posts = corpus.account_posts(day)
        self.prior_posts = [
            post for back in range(1, _PRIOR_POST_DAYS + 1) for post in corpus.account_posts(day - timedelta(days=back))
        ]
        self.volume = corpus._volume(self.rng, day)
        self.published_posts: list[Tweet] = []
        self.originals: deque[Tweet] = deque(maxlen=200)  # users' originals worth a retweet or a quote
        self.conversation: deque[Tweet] = deque(maxlen=300)  # tweets a user may reply to
        self.to_answer: deque[Tweet] = deque(maxlen=100)  # users' tweets the account may answer

    def build(self) -> list[Tweet]:
        if self.day < FIRST_DAY:
            return []
        rng, rand = self.rng, self.rng.random
        day_ms = day_start_ms(self.day)
        hours = rng.choices(range(24), cum_weights=_HOUR_CUM, k=self.volume)
        stamps = sorted(day_ms + hour * _HOUR_MS + int(rand() * _HOUR_MS) for hour in hours)
        tweets = list(self.posts)
        posts, next_post = self.posts, 0
        builders = (
            self._mention,
            self._brand,
            self._reply_to_account,
            self._thread_reply,
            self._account_reply,
            self._retweet,
            self._quote,
        )
        for index, ms in enumerate(stamps):
            while next_post < len(posts) and posts[next_post].created_ms <= ms:
                self.published_posts.append(posts[next_post])
                next_post += 1
            # A bijection of the index on 21 bits: unique within the day, random-looking like real ids.
            tweet_id = snowflake(ms, (index * 1_103_515_245) & _MAX_DAY_VOLUME)
            tweets.append(builders[bisect(_KIND_CUM, rand() * 100)](tweet_id, ms - ms % 1000))
        tweets.sort(key=_tweet_id)
        return tweets

    # ---- helpers -----------------------------------------------------------------------------
    def _author(self, not_id: int | None = None) -> User:
        """Skewed towards the start of the pool (a few people tweet a lot); never `not_id`."""
        index = int(len(self.users) * self.rng.random() ** 2.2)
        if self.users[index].id == not_id:
            index = (index + 1) % len(self.users)
        return self.users[index]

    def _account_post(self) -> Tweet | None:
        """One of the account's posts already published today, else of the previous days."""
        rng = self.rng
        if self.published_posts and (rng.random() < 0.85 or not self.prior_posts):
            return rng.choice(self.published_posts)
        return rng.choice(self.prior_posts) if self.prior_posts else None

    def _username(self, user_id: int) -> str:
        user = self.users_by_id(user_id)
        return user.username if user else "i"

    def _tweet(
        self,
        tweet_id: int,
        created_ms: int,
        text: str,
        author: User,
        lang: str,
        *,
        conversation_id: int | None = None,
        in_reply_to_user_id: int | None = None,
        referenced_tweets: tuple[tuple[str, int], ...] = (),
        public_metrics: tuple[int, ...] | None = None,
    ) -> Tweet:
        return Tweet(
            id=tweet_id,
            created_ms=created_ms,
            text=text,
            author_id=author.id,
            conversation_id=conversation_id or tweet_id,
            in_reply_to_user_id=in_reply_to_user_id,
            referenced_tweets=referenced_tweets,
            public_metrics=public_metrics or _metrics(self.rng, 25 if author is self.account else 1),
            lang=lang,
            entities_from_text=True,
        )

    def _reply(self, tweet_id: int, created_ms: int, parent: Tweet, text: str, author: User) -> Tweet:
        return self._tweet(
            tweet_id,
            created_ms,
            text,
            author,
            "pt",
            conversation_id=parent.conversation_id,
            in_reply_to_user_id=parent.author_id,
            referenced_tweets=(("replied_to", parent.id),),
        )

    # ---- kinds -------------------------------------------------------------------------------
    def _mention(self, tweet_id: int, created_ms: int) -> Tweet:
        rng = self.rng
        roll = rng.random()
        if roll < 0.04:
            pool, lang = "en", "en"
        elif roll < 0.06:
            pool, lang = "und", "und"
        else:
            sentiment = rng.random()
            pool, lang = ("positive" if sentiment < 0.45 else "neutral" if sentiment < 0.8 else "negative"), "pt"
        tweet = self._tweet(tweet_id, created_ms, _POOLS[pool].render(rng, self.handle), self._author(), lang)
        self.originals.append(tweet)
        self.conversation.append(tweet)
        self.to_answer.append(tweet)
        return tweet

    def _brand(self, tweet_id: int, created_ms: int) -> Tweet:
        tweet = self._tweet(tweet_id, created_ms, _POOLS["brand"].render(self.rng, self.handle), self._author(), "pt")
        self.originals.append(tweet)
        self.conversation.append(tweet)
        return tweet

    def _reply_to_account(self, tweet_id: int, created_ms: int) -> Tweet:
        parent = self._account_post()
        if parent is None:
            return self._mention(tweet_id, created_ms)
        text = f"@{self.handle} " + _POOLS["reply"].render(self.rng, self.handle)
        tweet = self._reply(tweet_id, created_ms, parent, text, self._author())
        self.conversation.append(tweet)
        self.to_answer.append(tweet)
        return tweet

    def _thread_reply(self, tweet_id: int, created_ms: int) -> Tweet:
        if not self.conversation:
            return self._mention(tweet_id, created_ms)
        parent = self.rng.choice(self.conversation)
        author = self._author(not_id=parent.author_id)
        prefix = f"@{self._username(parent.author_id)} "
        if parent.author_id != self.account.id and self.mention in parent.text.lower():
            prefix += f"@{self.handle} "
        tweet = self._reply(
            tweet_id, created_ms, parent, prefix + _POOLS["thread"].render(self.rng, self.handle), author
        )
        self.conversation.append(tweet)
        return tweet

    def _account_reply(self, tweet_id: int, created_ms: int) -> Tweet:
        if not self.to_answer:
            return self._mention(tweet_id, created_ms)
        parent = self.rng.choice(self.to_answer)
        text = f"@{self._username(parent.author_id)} " + _POOLS["answer"].render(self.rng, self.handle)
        tweet = self._reply(tweet_id, created_ms, parent, text, self.account)
        self.conversation.append(tweet)
        return tweet

    def _shared(self) -> Tweet | None:
        """What gets retweeted or quoted: mostly the account's posts, else users' originals."""
        if self.rng.random() < 0.55 or not self.originals:
            post = self._account_post()
            if post is not None:
                return post
        return self.rng.choice(self.originals) if self.originals else None

    def _retweet(self, tweet_id: int, created_ms: int) -> Tweet:
        target = self._shared()
        if target is None:
            return self._mention(tweet_id, created_ms)
        text = f"RT @{self._username(target.author_id)}: {target.text}"
        if len(text) > 140:  # the API truncates a retweet's text like this
            text = text[:139] + "…"
        retweets = target.public_metrics[0] if target.public_metrics else 0
        return self._tweet(
            tweet_id,
            created_ms,
            text,
            self._author(not_id=target.author_id),
            target.lang or "pt",
            referenced_tweets=(("retweeted", target.id),),
            public_metrics=(retweets, 0, 0, 0, 0, 0),
        )

    def _quote(self, tweet_id: int, created_ms: int) -> Tweet:
        target = self._shared()
        if target is None:
            return self._mention(tweet_id, created_ms)
        text = _POOLS["quote"].render(self.rng, self.handle) + " " + t_co_link(self.rng)
        tweet = self._tweet(
            tweet_id,
            created_ms,
            text,
            self._author(not_id=target.author_id),
            "pt",
            referenced_tweets=(("quoted", target.id),),
        )
        self.conversation.append(tweet)
        return tweet
