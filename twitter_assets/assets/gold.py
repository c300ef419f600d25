"""Gold: the daily interaction analysis per tracked search, computed from silver.

`gold.daily_interactions` has one row per (source, day) that was landed, zero rows included:
- n_tweets, n_conversations: distinct tweet ids / conversation ids created that day;
- n_replies_to_account: tweets replying to the source's account;
- n_account_conversation_tweets: tweets by others in conversations the account took part in
  (anywhere in silver), each tweet counted once (the original Spark job's left join could count a
  tweet several times; this one cannot);
- n_account_tweets, n_authors, n_retweets, n_quotes, n_replies;
- likes, retweets, replies, quotes: public metrics summed over the day's tweets *excluding
  retweets*, whose metrics echo the retweeted tweet and would count it again.
"""

from datetime import date, timedelta

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, MaterializeResult

from twitter_assets.assets.layers import describe
from twitter_assets.assets.tables import (
    Column,
    column_names,
    column_schema,
    daily_table_asset,
    previews_by_day,
    report_partitions,
)
from twitter_assets.automation.lineage import GOLD_READS_SILVER_WEEK  # gold D reads silver D..D+6
from twitter_assets.lake import Lake

DAILY_INTERACTIONS_KEY = AssetKey(["gold", "daily_interactions"])

_EXCL_RT = "summed over the day's tweets excluding retweets (a retweet echoes the original's metrics)"
DAILY_INTERACTIONS_COLUMNS: tuple[Column, ...] = (
    Column("source", "VARCHAR NOT NULL", "The tracked search."),
    Column("day", "DATE NOT NULL", "The UTC day."),
    Column("weekday", "VARCHAR NOT NULL", "Mon..Sun."),
    Column("n_tweets", "BIGINT NOT NULL", "Distinct tweets created that day (retweets included)."),
    Column("n_conversations", "BIGINT NOT NULL", "Distinct conversation ids among them."),
    Column("n_replies_to_account", "BIGINT NOT NULL", "Tweets replying to the source's account."),
    Column(
        "n_account_conversation_tweets",
        "BIGINT NOT NULL",
        "Tweets by others in conversations the account took part in (anywhere in silver), each once; "
        "can rise when later days land.",
    ),
    Column("n_account_tweets", "BIGINT NOT NULL", "Tweets by the account itself."),
    Column("n_authors", "BIGINT NOT NULL", "Distinct authors."),
    Column("n_replies", "BIGINT NOT NULL", "Replies (to anyone)."),
    Column("n_retweets", "BIGINT NOT NULL", "Retweets made that day."),
    Column("n_quotes", "BIGINT NOT NULL", "Quote tweets made that day."),
    Column("likes", "BIGINT NOT NULL", f"Likes received, {_EXCL_RT}; a snapshot at fetch time."),
    Column("retweets", "BIGINT NOT NULL", f"Retweets received, {_EXCL_RT}."),
    Column("replies", "BIGINT NOT NULL", f"Replies received, {_EXCL_RT}."),
    Column("quotes", "BIGINT NOT NULL", f"Quotes received, {_EXCL_RT}."),
    Column("complete", "BOOLEAN NOT NULL", "The fetched window covered the whole day; false marks a partial day."),
    Column("window_start", "TIMESTAMPTZ NOT NULL", "Start of the fetched window (UTC)."),
    Column("window_end", "TIMESTAMPTZ NOT NULL", "End of the fetched window (UTC)."),
)

# One statement, values as parameters ($first_day, $last_day).
DAILY_INTERACTIONS_SQL = """
WITH days AS (
    SELECT source, day, account_user_id, complete, window_start, window_end
    FROM silver.source_days
    WHERE day BETWEEN $first_day AND $last_day
),
account_conversations AS (
    SELECT DISTINCT t.source, t.conversation_id
    FROM silver.tweets t
    JOIN (SELECT DISTINCT source, account_user_id FROM silver.source_days) a
      ON a.source = t.source AND t.author_id = a.account_user_id
),
tweets AS (
    SELECT t.*, d.account_user_id,
           ac.conversation_id IS NOT NULL AS in_account_conversation
    FROM silver.tweets t
    JOIN days d ON d.source = t.source AND d.day = t.day
    LEFT JOIN account_conversations ac ON ac.source = t.source AND ac.conversation_id = t.conversation_id
)
SELECT
    d.source,
    d.day,
    strftime(d.day, '%a') AS weekday,
    count(DISTINCT t.tweet_id) AS n_tweets,
    count(DISTINCT t.conversation_id) AS n_conversations,
    count(DISTINCT t.tweet_id) FILTER (WHERE t.in_reply_to_user_id = d.account_user_id) AS n_replies_to_account,
    count(DISTINCT t.tweet_id) FILTER (
        WHERE t.in_account_conversation AND t.author_id IS DISTINCT FROM d.account_user_id
    ) AS n_account_conversation_tweets,
    count(DISTINCT t.tweet_id) FILTER (WHERE t.author_id = d.account_user_id) AS n_account_tweets,
    count(DISTINCT t.author_id) AS n_authors,
    count(DISTINCT t.tweet_id) FILTER (WHERE t.is_reply) AS n_replies,
    count(DISTINCT t.tweet_id) FILTER (WHERE t.is_retweet) AS n_retweets,
    count(DISTINCT t.tweet_id) FILTER (WHERE t.is_quote) AS n_quotes,
    coalesce(sum(t.like_count) FILTER (WHERE NOT t.is_retweet), 0)::BIGINT AS likes,
    coalesce(sum(t.retweet_count) FILTER (WHERE NOT t.is_retweet), 0)::BIGINT AS retweets,
    coalesce(sum(t.reply_count) FILTER (WHERE NOT t.is_retweet), 0)::BIGINT AS replies,
    coalesce(sum(t.quote_count) FILTER (WHERE NOT t.is_retweet), 0)::BIGINT AS quotes,
    d.complete,
    d.window_start,
    d.window_end
FROM days d
LEFT JOIN tweets t ON t.source = d.source AND t.day = d.day
GROUP BY d.source, d.day, d.complete, d.window_start, d.window_end
ORDER BY d.source, d.day
"""


def build_gold_assets() -> list[AssetsDefinition]:
    @daily_table_asset(
        key=DAILY_INTERACTIONS_KEY,
        table="gold.daily_interactions",
        columns=DAILY_INTERACTIONS_COLUMNS,
        deps=[GOLD_READS_SILVER_WEEK],
        description=(
            describe(
                "gold",
                "the daily interaction analysis: tweets, conversations, replies to the account, "
                "engagement received (retweets excluded from the sums); `complete` false marks a partial day.",
            )
        ),
    )
    def daily_interactions(context: AssetExecutionContext, lake: Lake) -> MaterializeResult:
        window = context.partition_time_window
        params = {"first_day": window.start.date(), "last_day": (window.end - timedelta(days=1)).date()}
        with lake.connect() as db:
            rows = db.sql(DAILY_INTERACTIONS_SQL, params=params).to_arrow_table()
        write_by_source_day(lake, "gold.daily_interactions", rows)
        frame = rows.to_pandas()
        previews = previews_by_day(frame, column_names(DAILY_INTERACTIONS_COLUMNS[:16]), rows=10)
        report_partitions(
            context,
            {day.isoformat(): _day_figures(frame[frame["day"] == day]) for day in sorted(set(frame["day"]))},
            previews,
        )
        return MaterializeResult(
            metadata={
                "run_rows": len(frame),
                "run_tweets": int(frame["n_tweets"].sum()) if len(frame) else 0,
                "dagster/column_schema": column_schema(DAILY_INTERACTIONS_COLUMNS),
                # run-level: the chart covers the last 30 days, not one partition
                "chart": _chart(lake),
            }
        )

    return [daily_interactions]


def _day_figures(day_rows) -> dict[str, object]:
    """One day's own numbers (summed over sources) for its partition: what the Plots tab charts."""
    figures: dict[str, object] = {"dagster/row_count": len(day_rows)}
    for name in ("n_tweets", "n_replies_to_account", "n_retweets", "n_conversations", "likes", "retweets"):
        figures[name] = int(day_rows[name].sum())
    figures["complete"] = bool(day_rows["complete"].all())
    return figures


def write_by_source_day(lake: Lake, table: str, rows: "pa.Table") -> list[tuple[str, date]]:  # noqa: F821
    """Split a query result on (source, day) and replace each of those partition files."""
    import pyarrow as pa  # here, not at module level: the code location imports faster
    import pyarrow.compute as pc

    keys = sorted(set(zip(rows["source"].to_pylist(), rows["day"].to_pylist(), strict=True)))
    for source, day in keys:
        mask = pc.and_(pc.equal(rows["source"], source), pc.equal(rows["day"], pa.scalar(day, pa.date32())))
        lake.write_partition(table, source, day, rows.filter(mask))
    return keys


def _chart(lake: Lake):
    """The run's chart metadata; the report package (matplotlib, pandas) is imported here, when a
    step draws it, so importing the code location stays fast for every Dagster process."""
    from twitter_assets.report.metadata import chart_metadata

    return chart_metadata(lake)
