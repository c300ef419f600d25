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

from datetime import timedelta

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, MaterializeResult

from twitter_assets.assets.tables import column_schema, create_table_sql, daily_table_asset, preview, transaction
from twitter_assets.automation.lineage import GOLD_READS_SILVER_WEEK  # gold D reads silver D..D+6
from twitter_assets.lake import Lake

DAILY_INTERACTIONS_KEY = AssetKey(["gold", "daily_interactions"])

DAILY_INTERACTIONS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("source", "VARCHAR NOT NULL"),
    ("day", "DATE NOT NULL"),
    ("weekday", "VARCHAR NOT NULL"),
    ("n_tweets", "BIGINT NOT NULL"),
    ("n_conversations", "BIGINT NOT NULL"),
    ("n_replies_to_account", "BIGINT NOT NULL"),
    ("n_account_conversation_tweets", "BIGINT NOT NULL"),
    ("n_account_tweets", "BIGINT NOT NULL"),
    ("n_authors", "BIGINT NOT NULL"),
    ("n_replies", "BIGINT NOT NULL"),
    ("n_retweets", "BIGINT NOT NULL"),
    ("n_quotes", "BIGINT NOT NULL"),
    ("likes", "BIGINT NOT NULL"),
    ("retweets", "BIGINT NOT NULL"),
    ("replies", "BIGINT NOT NULL"),
    ("quotes", "BIGINT NOT NULL"),
)

# One statement, values as parameters ($first_day, $last_day).
DAILY_INTERACTIONS_SQL = """
WITH days AS (
    SELECT source, day, account_user_id
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
    coalesce(sum(t.like_count) FILTER (WHERE NOT t.is_retweet), 0) AS likes,
    coalesce(sum(t.retweet_count) FILTER (WHERE NOT t.is_retweet), 0) AS retweets,
    coalesce(sum(t.reply_count) FILTER (WHERE NOT t.is_retweet), 0) AS replies,
    coalesce(sum(t.quote_count) FILTER (WHERE NOT t.is_retweet), 0) AS quotes
FROM days d
LEFT JOIN tweets t ON t.source = d.source AND t.day = d.day
GROUP BY d.source, d.day
ORDER BY d.source, d.day
"""


def build_gold_assets() -> list[AssetsDefinition]:
    @daily_table_asset(
        key=DAILY_INTERACTIONS_KEY,
        table="gold.daily_interactions",
        columns=DAILY_INTERACTIONS_COLUMNS,
        deps=[GOLD_READS_SILVER_WEEK],
        description="Per source and UTC day: tweets, conversations, replies to the account, engagement.",
    )
    def daily_interactions(context: AssetExecutionContext, lake: Lake) -> MaterializeResult:
        window = context.partition_time_window
        params = {"first_day": window.start.date(), "last_day": (window.end - timedelta(days=1)).date()}
        with lake.connect() as db:
            db.execute(create_table_sql("gold.daily_interactions", DAILY_INTERACTIONS_COLUMNS))
            frame = db.execute(DAILY_INTERACTIONS_SQL, params).df()
            db.register("interactions_frame", frame)
            with transaction(db):
                db.execute("DELETE FROM gold.daily_interactions WHERE day BETWEEN $first_day AND $last_day", params)
                db.execute("INSERT INTO gold.daily_interactions BY NAME SELECT * FROM interactions_frame")
        return MaterializeResult(
            metadata={
                "dagster/row_count": len(frame),
                "tweets": int(frame["n_tweets"].sum()) if len(frame) else 0,
                "preview": preview(frame, [name for name, _ in DAILY_INTERACTIONS_COLUMNS[:8]], rows=10),
                "dagster/column_schema": column_schema(DAILY_INTERACTIONS_COLUMNS),
            }
        )

    return [daily_interactions]
