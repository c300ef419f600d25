"""The query matcher on hand-made tweets."""

import pytest

from twitter_assets.simulator.query import QuerySyntaxError, compile_query
from twitter_assets.simulator.records import Tweet, User

ACCOUNT = User(id=1, username="AluraOnline", name="Alura", verified=True)
ANA = User(id=2, username="ana_dev", name="Ana")
BRUNO = User(id=3, username="bruno", name="Bruno")
USERS = {user.id: user for user in (ACCOUNT, ANA, BRUNO)}

TWEETS = {
    "mention": Tweet(
        id=10, created_ms=0, text="Amei o curso de Python da @AluraOnline! #carreira", author_id=2, lang="pt"
    ),
    "own": Tweet(id=11, created_ms=0, text="Inscrições abertas https://t.co/abc", author_id=1, lang="pt"),
    "reply": Tweet(
        id=12,
        created_ms=0,
        text="@ana_dev que bom!",
        author_id=1,
        in_reply_to_user_id=2,
        referenced_tweets=(("replied_to", 10),),
        lang="pt",
    ),
    "retweet": Tweet(
        id=13,
        created_ms=0,
        text="RT @AluraOnline: Inscrições abertas",
        author_id=3,
        referenced_tweets=(("retweeted", 11),),
        lang="pt",
    ),
    "quote": Tweet(
        id=14, created_ms=0, text="Data Science é demais", author_id=3, referenced_tweets=(("quoted", 11),), lang="en"
    ),
    "recorded_rt": Tweet(id=15, created_ms=0, text="RT @bruno: data science", author_id=2, referenced_tweets=None),
    "brand": Tweet(id=16, created_ms=0, text="Os podcasts da Alura são ótimos; $TWTR", author_id=3, conversation_id=10),
}


def matching(query: str) -> set[str]:
    matches = compile_query(query, USERS.get)
    return {name for name, tweet in TWEETS.items() if matches(tweet)}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # a bare keyword: a whole word of the text, or the author's or the replied-to user's handle
        ("AluraOnline", {"mention", "own", "reply", "retweet"}),
        ("aluraonline", {"mention", "own", "reply", "retweet"}),
        ("alura", {"brand"}),
        ("python", {"mention"}),
        ("pyth", set()),
        ("ana_dev", {"mention", "reply", "recorded_rt"}),
        ('"data science"', {"quote", "recorded_rt"}),
        ('"science data"', set()),
        ("@AluraOnline", {"mention", "retweet"}),
        ("#carreira", {"mention"}),
        ("$twtr", {"brand"}),
        ("from:AluraOnline", {"own", "reply"}),
        ("from:3", {"retweet", "quote", "brand"}),
        ("to:ana_dev", {"reply"}),
        ("AluraOnline is:retweet", {"retweet"}),
        ("AluraOnline -is:retweet", {"mention", "own", "reply"}),
        ("from:ana_dev is:retweet", {"recorded_rt"}),
        ("AluraOnline is:reply", {"reply"}),
        ("science is:quote", {"quote"}),
        ("from:bruno lang:en", {"quote"}),
        ("AluraOnline has:links", {"own"}),
        ("AluraOnline has:hashtags", {"mention"}),
        ("AluraOnline has:mentions -is:retweet", {"mention", "reply"}),
        ("AluraOnline has:media", set()),
        ("from:AluraOnline is:verified", {"own", "reply"}),
        ("retweets_of:AluraOnline", {"retweet"}),
        ("conversation_id:10", {"brand"}),
        ('url:"t.co/abc"', {"own"}),
        ("python OR podcasts", {"mention", "brand"}),
        ("python OR from:bruno lang:en", {"mention", "quote"}),  # AND binds tighter than OR
        ("(python OR podcasts) lang:pt", {"mention"}),
        ("AluraOnline -(is:retweet OR is:reply)", {"mention", "own"}),
        ("AluraOnline -python -inscrições", {"reply"}),
    ],
)
def test_matches(query, expected):
    assert matching(query) == expected


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("place:sp alura", "Reference to invalid operator 'place'"),
        ("alura has:polls", "Reference to invalid operator 'has:polls'"),
        ("((alura)", "expecting ')'"),
        ("alura))", "missing EOF at ')'"),
        ('alura "open', "no viable alternative"),
        ("lang:pt", "is/has/lang cannot be used as a standalone operator"),
        ("-alura -python", "positive, non-stopword clause"),
        ("alura OR", "no viable alternative at input '<EOF>'"),
        ("()", "no viable alternative at input ')'"),
        ("   ", "positive, non-stopword clause"),
    ],
)
def test_invalid_queries(query, fragment):
    with pytest.raises(
        QuerySyntaxError, match=r"^There were errors processing your request: .*\(at position \d+\)$"
    ) as raised:
        compile_query(query, USERS.get)
    assert fragment in str(raised.value)


def test_conjunction_operators_are_fine_beside_a_standalone_clause():
    assert matching("(is:retweet OR is:quote) from:bruno") == {"retweet", "quote"}
    with pytest.raises(QuerySyntaxError):
        compile_query("alura OR is:retweet", USERS.get)  # one alternative has nothing standalone
