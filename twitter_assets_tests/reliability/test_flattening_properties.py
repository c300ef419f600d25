"""Property-based: for generated API pages, the flattening (`rows.py`) plus the silver SQL equals a
straightforward Python model of the rules stated in the README and silver.py."""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twitter_assets.assets.silver import _TWEETS_SQL
from twitter_assets.assets.tables import write_query_partition
from twitter_assets.lake import Lake
from twitter_assets.partitions import day_bounds

DAY = date(2026, 11, 10)
START = datetime(2026, 11, 10, tzinfo=timezone.utc)
METRICS = ("like_count", "retweet_count", "reply_count", "quote_count", "impression_count")


def _time(seconds: int) -> str:
    return (START + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


optional_id = st.one_of(st.none(), st.sampled_from(["42", "43", "99"]))
references = st.lists(
    st.tuples(st.sampled_from(["retweeted", "quoted", "replied_to"]), st.sampled_from(["500", "501", "502"])),
    max_size=3,
    unique_by=lambda r: r[0],
).map(lambda refs: [{"type": t, "id": i} for t, i in refs])


@st.composite
def api_tweet(draw):
    tweet = {
        "id": draw(st.sampled_from([str(n) for n in range(1, 25)])),  # small pool: duplicates across pages
        "text": draw(st.one_of(st.text(max_size=30), st.text(max_size=10).map(lambda t: "RT @x: " + t))),
        "created_at": _time(draw(st.integers(-7200, 26 * 3600))),  # some outside the day
    }
    for name in ("author_id", "conversation_id", "in_reply_to_user_id"):
        value = draw(optional_id)
        if value is not None:
            tweet[name] = value
    if draw(st.booleans()):
        tweet["lang"] = draw(st.sampled_from(["pt", "en", "und"]))
    if draw(st.booleans()):
        names = draw(st.lists(st.sampled_from(METRICS), unique=True))
        tweet["public_metrics"] = {n: draw(st.integers(0, 10**9)) for n in names}
    if draw(st.booleans()):
        tweet["referenced_tweets"] = draw(references)
    return tweet


pages = st.lists(st.lists(api_tweet(), max_size=8), min_size=1, max_size=4)


def model(pages: list[list[dict]]) -> dict[str, tuple]:
    """The rules, written out: first sighting wins, the UTC day only, retweet > quote > reply."""
    out: dict[str, tuple] = {}
    day_start, day_end = START, START + timedelta(days=1)
    for tweets in pages:
        for t in tweets:
            created = datetime.strptime(t["created_at"], "%Y-%m-%dT%H:%M:%S.000Z").replace(tzinfo=timezone.utc)
            if t["id"] in out or not (day_start <= created < day_end):
                continue
            types = {r["type"]: r["id"] for r in t.get("referenced_tweets", [])}
            metrics = t.get("public_metrics", {})
            refs = t.get("referenced_tweets") or []
            out[t["id"]] = (
                t["id"], created, t.get("author_id"), t.get("conversation_id"), t["text"], t.get("lang"),
                t.get("in_reply_to_user_id"),
                types.get("retweeted") or types.get("quoted") or types.get("replied_to"),
                *(metrics.get(n) for n in METRICS),
                "retweeted" in types or (not refs and t["text"].startswith("RT @")),
                "in_reply_to_user_id" in t or "replied_to" in types,
                "quoted" in types,
            )  # fmt: skip
    return out


COLUMNS = (
    "tweet_id, created_at, author_id, conversation_id, text, lang, in_reply_to_user_id, referenced_tweet_id, "
    "like_count, retweet_count, reply_count, quote_count, impression_count, is_retweet, is_reply, is_quote"
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated=pages)
def test_silver_equals_the_model(generated):
    with tempfile.TemporaryDirectory() as root:
        lake = Lake(root=root)
        bodies = [
            {"data": tweets, "meta": {"result_count": len(tweets)}} if tweets else {"meta": {"result_count": 0}}
            for tweets in generated
        ]
        manifest = lake.write_raw_day(
            "s", DAY, bodies, {"query": "q", "start_time": _time(0), "end_time": _time(86400), "clamped": False}
        )
        tweets_rows, _ = lake.raw_rows("s", DAY, manifest)
        start, end = day_bounds(DAY)
        with lake.connect() as db:
            params = {"source": "s", "day": DAY, "rows": tweets_rows, "start": start, "end": end}
            write_query_partition(lake, db, "silver.tweets", "s", DAY, _TWEETS_SQL, params)
        with lake.connect() as db:
            rows = db.execute(f"SELECT {COLUMNS} FROM silver.tweets").fetchall()
    assert {row[0]: row for row in rows} == model(generated)
    assert len(rows) == len({row[0] for row in rows})
