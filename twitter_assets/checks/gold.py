"""Checks of the gold table: it reconciles with silver, and no count is negative.

The reconciliation recomputes each day's totals from silver in pandas, independently of the SQL that
built gold, so a wrong join or filter in either shows up as a disagreement.
"""

from datetime import date

from dagster import AssetChecksDefinition

from twitter_assets.assets.gold import DAILY_INTERACTIONS_COLUMNS, DAILY_INTERACTIONS_KEY
from twitter_assets.checks.partitioned import DayCheck, DayVerdict, build_layer_checks
from twitter_assets.lake import Lake

COUNT_COLUMNS = [column.name for column in DAILY_INTERACTIONS_COLUMNS if column.sql_type.startswith("BIGINT")]


def expected_totals(tweets: "pd.DataFrame", source_days: "pd.DataFrame") -> "pd.DataFrame":  # noqa: F821
    """Per (source, day) totals straight from silver rows, for the reconciliation."""
    import pandas as pd  # here, not at module level: the code location imports faster

    rows = []
    for source_day in source_days.itertuples(index=False):
        day_tweets = tweets[(tweets["source"] == source_day.source) & (tweets["day"] == source_day.day)]
        own = day_tweets[~day_tweets["is_retweet"]]
        rows.append(
            {
                "source": source_day.source,
                "day": source_day.day,
                "n_tweets": day_tweets["tweet_id"].nunique(),
                "n_conversations": day_tweets["conversation_id"].nunique(),
                "n_replies_to_account": int((day_tweets["in_reply_to_user_id"] == source_day.account_user_id).sum()),
                "n_retweets": int(day_tweets["is_retweet"].sum()),
                "n_quotes": int(day_tweets["is_quote"].sum()),
                "likes": int(own["like_count"].fillna(0).sum()),
                "retweets": int(own["retweet_count"].fillna(0).sum()),
            }
        )
    return pd.DataFrame(rows)


def reconciles_with_silver(lake: Lake, day: date) -> DayVerdict:
    with lake.connect() as db:
        gold = db.execute("SELECT * FROM gold.daily_interactions WHERE day = $day", {"day": day}).df()
        tweets = db.execute(
            """SELECT source, day, tweet_id, conversation_id, in_reply_to_user_id, is_retweet, is_quote,
                      like_count, retweet_count FROM silver.tweets WHERE day = $day""",
            {"day": day},
        ).df()
        source_days = db.execute(
            "SELECT source, day, account_user_id FROM silver.source_days WHERE day = $day", {"day": day}
        ).df()
    expected = expected_totals(tweets, source_days)
    if expected.empty and gold.empty:
        return DayVerdict(True, "no landed source-day, no gold row")
    problems = []
    missing = set(expected.get("source", [])) - set(gold.get("source", []))
    extra = set(gold.get("source", [])) - set(expected.get("source", []))
    if missing:
        problems.append(f"no gold row for {sorted(missing)}")
    if extra:
        problems.append(f"gold rows for {sorted(extra)} that silver has no landed day for")
    if expected.empty or gold.empty:  # nothing to compare column by column (and no `source` column to join on)
        merged = expected.iloc[0:0]
    else:
        merged = expected.merge(gold, on="source", suffixes=("_silver", "_gold"))
    for row in merged.itertuples(index=False):
        for column in [c for c in expected.columns if c not in ("source", "day")]:
            want, have = getattr(row, f"{column}_silver"), getattr(row, f"{column}_gold")
            if int(want) != int(have):
                problems.append(f"{row.source} {column}: gold says {int(have)}, silver says {int(want)}")
    if problems:
        return DayVerdict(
            False, "; ".join(problems) + ": re-materialize gold for this day", {"differences": len(problems)}
        )
    return DayVerdict(True, f"{len(merged)} gold rows agree with silver", {"rows": len(merged)})


def no_negative_counts(lake: Lake, day: date) -> DayVerdict:
    negatives = " OR ".join(f"{column} < 0" for column in COUNT_COLUMNS)
    with lake.connect() as db:
        rows = db.execute(
            f"SELECT * FROM gold.daily_interactions WHERE day = $day AND ({negatives})", {"day": day}
        ).df()
    if len(rows):
        columns = sorted({column for column in COUNT_COLUMNS if (rows[column] < 0).any()})
        return DayVerdict(False, f"negative values in {columns} for {sorted(rows['source'])}", {"columns": columns})
    return DayVerdict(True, "no negative counts")


def build_gold_checks() -> list[AssetChecksDefinition]:
    return [
        build_layer_checks(
            "gold_daily_interactions_checks",
            DAILY_INTERACTIONS_KEY,
            [
                DayCheck(
                    "reconciles_with_silver",
                    "Each day's totals equal what silver says for that day.",
                    reconciles_with_silver,
                    blocking=False,
                ),
                DayCheck("no_negative_counts", "No count or metric is negative.", no_negative_counts, blocking=False),
            ],
            table="gold.daily_interactions",
        )
    ]
