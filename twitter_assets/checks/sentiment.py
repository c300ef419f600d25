"""Checks of the sentiment tables: every eligible tweet scored, scores in range, shares that add up,
and a drift warning when a day's label mix moves far from the days before it."""

import math
from datetime import date, timedelta

from dagster import AssetChecksDefinition, AssetCheckSeverity

from twitter_assets.assets.sentiment import DAILY_SENTIMENT_KEY, TWEET_SENTIMENT_KEY
from twitter_assets.checks.partitioned import DayCheck, DayVerdict, build_layer_checks
from twitter_assets.lake import Lake

LABELS = ("negative", "neutral", "positive")
DRIFT_TRAILING_DAYS = 7
DRIFT_THRESHOLD = 0.25  # absolute change of a label's share against the trailing mean
DRIFT_MIN_TWEETS = 30  # below this a day's shares are too noisy to call drift


def every_eligible_tweet_scored(lake: Lake, day: date) -> DayVerdict:
    with lake.connect() as db:
        missing, extra, eligible = db.execute(
            """
            WITH eligible AS (SELECT source, tweet_id FROM silver.tweets WHERE day = $day AND NOT is_retweet),
                 scored AS (SELECT source, tweet_id FROM gold.tweet_sentiment WHERE day = $day)
            SELECT (SELECT count(*) FROM (SELECT * FROM eligible EXCEPT SELECT * FROM scored)),
                   (SELECT count(*) FROM (SELECT * FROM scored EXCEPT SELECT * FROM eligible)),
                   (SELECT count(*) FROM eligible)
            """,
            {"day": day},
        ).fetchone()
        copies = db.execute(
            "SELECT count(*) - count(DISTINCT (source, tweet_id)) FROM gold.tweet_sentiment WHERE day = $day",
            {"day": day},
        ).fetchone()[0]
    metadata = {"eligible": eligible, "missing": missing, "not_eligible": extra, "duplicates": copies}
    if missing or extra or copies:
        return DayVerdict(
            False,
            f"{missing} eligible tweets unscored, {extra} scored rows not eligible (retweet or gone), "
            f"{copies} duplicates: re-materialize gold/tweet_sentiment for this day",
            metadata,
        )
    return DayVerdict(True, f"all {eligible} eligible tweets scored once (retweets excluded)", metadata)


def scores_in_range(lake: Lake, day: date) -> DayVerdict:
    with lake.connect() as db:
        bad = db.execute(
            """SELECT count(*) FILTER (WHERE score IS NULL OR NOT (score BETWEEN -1 AND 1) OR isnan(score)),
                      count(*) FILTER (WHERE label NOT IN ('negative', 'neutral', 'positive') OR label IS NULL)
               FROM gold.tweet_sentiment WHERE day = $day""",
            {"day": day},
        ).fetchone()
    if any(bad):
        return DayVerdict(False, f"{bad[0]} scores outside [-1, 1], {bad[1]} unknown labels")
    return DayVerdict(True, "every score in [-1, 1], every label known")


def shares_sum_to_one(lake: Lake, day: date) -> DayVerdict:
    with lake.connect() as db:
        rows = db.execute(
            """SELECT source, n_scored, share_positive + share_neutral + share_negative,
                      n_replies_to_account_scored,
                      replies_share_positive + replies_share_neutral + replies_share_negative
               FROM gold.daily_sentiment WHERE day = $day""",
            {"day": day},
        ).fetchall()
    problems = []
    for source, n, total, n_replies, replies_total in rows:
        for what, scored, shares in (("shares", n, total), ("reply shares", n_replies, replies_total)):
            if not scored:
                continue
            if shares is None or not math.isfinite(shares):  # a NULL or NaN share: the sum says nothing
                problems.append(f"{source}: {what} add up to {shares} (a share is missing or not a number)")
            elif abs(shares - 1) > 1e-9:
                problems.append(f"{source}: {what} add up to {shares:.6f}")
    if problems:
        return DayVerdict(False, "; ".join(problems) + ": re-materialize gold/daily_sentiment")
    return DayVerdict(True, f"shares add up to 1 for {len(rows)} sources")


def label_mix_stable(lake: Lake, day: date) -> DayVerdict:
    with lake.connect() as db:
        rows = db.execute(
            """
            WITH today AS (SELECT * FROM gold.daily_sentiment WHERE day = $day AND n_scored >= $min_n),
                 before AS (SELECT source, avg(share_positive) AS p, avg(share_negative) AS n, count(*) AS days
                            FROM gold.daily_sentiment
                            WHERE day BETWEEN $first AND $last AND n_scored >= $min_n GROUP BY source)
            SELECT t.source, t.share_positive, b.p, t.share_negative, b.n, b.days
            FROM today t JOIN before b USING (source) ORDER BY t.source
            """,
            {
                "day": day,
                "first": day - timedelta(days=DRIFT_TRAILING_DAYS),
                "last": day - timedelta(days=1),
                "min_n": DRIFT_MIN_TWEETS,
            },
        ).fetchall()
    moved = [
        f"{source}: positive {p:.0%} vs {p_mean:.0%}, negative {n:.0%} vs {n_mean:.0%} (trailing {days} days)"
        for source, p, p_mean, n, n_mean, days in rows
        if abs(p - p_mean) > DRIFT_THRESHOLD or abs(n - n_mean) > DRIFT_THRESHOLD
    ]
    if moved:
        return DayVerdict(
            False, "label mix moved more than 25 points: " + "; ".join(moved) + " (a campaign, or model drift?)"
        )
    return DayVerdict(
        True, f"label mix within {DRIFT_THRESHOLD:.0%} of the trailing mean ({len(rows)} sources compared)"
    )


def build_sentiment_checks() -> list[AssetChecksDefinition]:
    return [
        build_layer_checks(
            "gold_tweet_sentiment_checks",
            TWEET_SENTIMENT_KEY,
            [
                DayCheck(
                    "every_eligible_tweet_scored",
                    "Every silver tweet but retweets has exactly one sentiment row.",
                    every_eligible_tweet_scored,
                    blocking=False,
                ),
                DayCheck(
                    "scores_in_range", "Scores lie in [-1, 1]; labels are known.", scores_in_range, blocking=False
                ),
            ],
            table="gold.tweet_sentiment",
        ),
        build_layer_checks(
            "gold_daily_sentiment_checks",
            DAILY_SENTIMENT_KEY,
            [
                DayCheck("shares_sum_to_one", "Label shares add up to 1.", shares_sum_to_one, blocking=False),
                DayCheck(
                    "label_mix_stable",
                    "Warns when a day's positive or negative share moves more than 25 points from the trailing 7 days.",
                    label_mix_stable,
                    blocking=False,
                    severity=AssetCheckSeverity.WARN,
                ),
            ],
            table="gold.daily_sentiment",
        ),
    ]
