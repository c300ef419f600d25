"""Gold sentiment: how positive the tweets about the brand are, per tweet and per day.

- `gold.tweet_sentiment`: one row per scored tweet of silver (source, tweet_id, day, label, score,
  model_version). Retweets are not scored: their text is the retweeted tweet's ("RT @x: ..."), which
  is scored once as itself when the search returned it; scoring the echo would count one opinion as
  many. Quotes and replies are scored (they are the quoting/replying person's own words).
- `gold.daily_sentiment`: per source and day, the mean score and the share of each label, for all
  scored tweets and for replies to the source's account (what people say *to* the brand).

The scorer is `twitter_assets.sentiment` in the mode `TWITTER_SENTIMENT_MODE` names (fast by default;
each mode writes its own model_version), offline and vectorised; texts are streamed from DuckDB in
batches so memory does not grow with the day.
"""

import tempfile
import time
from typing import TYPE_CHECKING

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, MaterializeResult, get_dagster_logger

from twitter_assets.assets.gold import write_by_source_day
from twitter_assets.assets.layers import describe
from twitter_assets.assets.silver import SILVER_TWEETS_KEY
from twitter_assets.assets.tables import (
    Column,
    column_names,
    column_schema,
    daily_table_asset,
    previews_by_day,
    report_partitions,
)
from twitter_assets.lake import Lake
from twitter_assets.partitions import parse_day

if TYPE_CHECKING:
    from twitter_assets.sentiment.model import Scorer

TWEET_SENTIMENT_KEY = AssetKey(["gold", "tweet_sentiment"])
DAILY_SENTIMENT_KEY = AssetKey(["gold", "daily_sentiment"])
SCORE_BATCH = 50_000

TWEET_SENTIMENT_COLUMNS: tuple[Column, ...] = (
    Column("source", "VARCHAR NOT NULL", "The tracked search."),
    Column("tweet_id", "VARCHAR NOT NULL", "The scored tweet (retweets are not scored)."),
    Column("day", "DATE NOT NULL", "The UTC day of the tweet."),
    Column("label", "VARCHAR NOT NULL", "negative, neutral or positive."),
    Column("score", "DOUBLE NOT NULL", "P(positive) - P(negative) from the model, in [-1, 1]."),
    Column("model_version", "VARCHAR NOT NULL", "The scorer that produced the row."),
)
_SHARES = "share of scored tweets labelled"
DAILY_SENTIMENT_COLUMNS: tuple[Column, ...] = (
    Column("source", "VARCHAR NOT NULL", "The tracked search."),
    Column("day", "DATE NOT NULL", "The UTC day."),
    Column("n_scored", "BIGINT NOT NULL", "Tweets scored (silver tweets of the day, retweets excluded)."),
    Column("mean_score", "DOUBLE", "Mean score in [-1, 1]; null when nothing was scored."),
    Column("share_positive", "DOUBLE", f"The {_SHARES} positive."),
    Column("share_neutral", "DOUBLE", f"The {_SHARES} neutral."),
    Column("share_negative", "DOUBLE", f"The {_SHARES} negative."),
    Column("n_replies_to_account_scored", "BIGINT NOT NULL", "Scored replies to the source's account."),
    Column("replies_mean_score", "DOUBLE", "Mean score of those replies."),
    Column("replies_share_positive", "DOUBLE", "Share of those replies labelled positive."),
    Column("replies_share_neutral", "DOUBLE", "Share of those replies labelled neutral."),
    Column("replies_share_negative", "DOUBLE", "Share of those replies labelled negative."),
    Column("model_version", "VARCHAR", "The scorer of the day's rows."),
)

_ELIGIBLE_SQL = """
SELECT source, tweet_id, day, text FROM silver.tweets
WHERE source = $source AND day = $day AND NOT is_retweet
"""

DAILY_SENTIMENT_SQL = """
WITH scored AS (
    SELECT s.source, s.day, s.label, s.score, s.model_version,
           t.in_reply_to_user_id IS NOT DISTINCT FROM d.account_user_id AND d.account_user_id IS NOT NULL
               AS to_account
    FROM gold.tweet_sentiment s
    JOIN silver.tweets t USING (source, tweet_id)
    JOIN silver.source_days d ON d.source = s.source AND d.day = s.day
    WHERE s.day BETWEEN $first_day AND $last_day
),
days AS (
    SELECT source, day FROM silver.source_days WHERE day BETWEEN $first_day AND $last_day
)
SELECT
    d.source, d.day,
    count(s.label) AS n_scored,
    avg(s.score) AS mean_score,
    avg(CASE WHEN s.label = 'positive' THEN 1.0 ELSE 0.0 END) FILTER (WHERE s.label IS NOT NULL) AS share_positive,
    avg(CASE WHEN s.label = 'neutral' THEN 1.0 ELSE 0.0 END) FILTER (WHERE s.label IS NOT NULL) AS share_neutral,
    avg(CASE WHEN s.label = 'negative' THEN 1.0 ELSE 0.0 END) FILTER (WHERE s.label IS NOT NULL) AS share_negative,
    count(s.label) FILTER (WHERE s.to_account) AS n_replies_to_account_scored,
    avg(s.score) FILTER (WHERE s.to_account) AS replies_mean_score,
    avg(CASE WHEN s.label = 'positive' THEN 1.0 ELSE 0.0 END) FILTER (WHERE s.to_account) AS replies_share_positive,
    avg(CASE WHEN s.label = 'neutral' THEN 1.0 ELSE 0.0 END) FILTER (WHERE s.to_account) AS replies_share_neutral,
    avg(CASE WHEN s.label = 'negative' THEN 1.0 ELSE 0.0 END) FILTER (WHERE s.to_account) AS replies_share_negative,
    max(s.model_version) AS model_version
FROM days d
LEFT JOIN scored s ON s.source = d.source AND s.day = d.day
GROUP BY d.source, d.day
ORDER BY d.source, d.day
"""


def _tweet_sentiment_schema() -> "pa.Schema":  # noqa: F821 - pyarrow is imported where used (faster code location import)
    import pyarrow as pa

    return pa.schema(
        [
            ("source", pa.string()),
            ("tweet_id", pa.string()),
            ("day", pa.date32()),
            ("label", pa.string()),
            ("score", pa.float64()),
            ("model_version", pa.string()),
        ]
    )


def score_source_day(lake: Lake, db, source: str, day, model: "Scorer | None" = None) -> dict[str, int]:
    """Score one (source, day) of silver in batches into its gold.tweet_sentiment file (``model``: the
    configured mode's scorer by default, see ``TWITTER_SENTIMENT_MODE``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from twitter_assets import sentiment

    model = model or sentiment.scorer()
    log = get_dagster_logger()
    schema = _tweet_sentiment_schema()
    counts = {"negative": 0, "neutral": 0, "positive": 0}
    batch_size = min(SCORE_BATCH, model.chunk_size)  # the accurate mode's 2,000: a progress line every ~30 s
    reader = db.sql(_ELIGIBLE_SQL, params={"source": source, "day": day}).to_arrow_reader(batch_size)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="twitter-sentiment-", dir=lake._scratch_dir()) as scratch:
        local = f"{scratch}/part.parquet"
        with pq.ParquetWriter(local, schema, compression="zstd") as writer:
            for batch in reader:
                texts = batch.column("text").to_pylist()
                labels, scores = model.score(texts)
                for label in labels:
                    counts[label] += 1
                writer.write_batch(
                    pa.RecordBatch.from_arrays(
                        [
                            batch.column("source"),
                            batch.column("tweet_id"),
                            batch.column("day"),
                            pa.array(labels, pa.string()),
                            pa.array(scores, pa.float64()),
                            pa.array([model.model_version] * len(labels), pa.string()),
                        ],
                        schema=schema,
                    )
                )
                done = sum(counts.values())
                log.info(
                    f"scored {source} {day}: {done} tweets with {model.model_version} "
                    f"({done / max(time.perf_counter() - started, 1e-9):,.0f} tweets/s)"
                )
        lake._publish(local, lake.partition_path("gold.tweet_sentiment", source, day))
    lake._ensure_catalog("gold.tweet_sentiment")
    return counts


def build_sentiment_assets() -> list[AssetsDefinition]:
    @daily_table_asset(
        key=TWEET_SENTIMENT_KEY,
        table="gold.tweet_sentiment",
        columns=TWEET_SENTIMENT_COLUMNS,
        deps=[SILVER_TWEETS_KEY],
        description=(
            describe(
                "gold",
                "the sentiment of every silver tweet but retweets (Portuguese, offline model in "
                "twitter_assets/sentiment): label and a score in [-1, 1] per tweet.",
            )
        ),
    )
    def tweet_sentiment(context: AssetExecutionContext, lake: Lake) -> MaterializeResult:
        from twitter_assets import sentiment

        model = sentiment.scorer()  # a wrong TWITTER_SENTIMENT_MODE or a missing extra fails here, before any write
        per_day: dict[str, dict[str, int]] = {}
        with lake.connect() as db:
            pairs = db.execute(
                "SELECT source, day FROM silver.source_days WHERE day BETWEEN $first AND $last ORDER BY day, source",
                {"first": parse_day(context.partition_keys[0]), "last": parse_day(context.partition_keys[-1])},
            ).fetchall()
            for source, day in pairs:
                counts = score_source_day(lake, db, source, day, model)
                totals = per_day.setdefault(day.isoformat(), {"negative": 0, "neutral": 0, "positive": 0})
                for label, count in counts.items():
                    totals[label] += count
        report_partitions(
            context,
            {
                key: {"dagster/row_count": sum(c.values()), **{f"n_{label}": n for label, n in c.items()}}
                for key, c in per_day.items()
            },
        )
        return MaterializeResult(
            metadata={
                "model_version": model.model_version,
                "run_scored": sum(sum(c.values()) for c in per_day.values()),
                "dagster/column_schema": column_schema(TWEET_SENTIMENT_COLUMNS),
            }
        )

    @daily_table_asset(
        key=DAILY_SENTIMENT_KEY,
        table="gold.daily_sentiment",
        columns=DAILY_SENTIMENT_COLUMNS,
        deps=[TWEET_SENTIMENT_KEY],
        description=(
            describe(
                "gold",
                "the mean sentiment and the share of positive, neutral and negative "
                "tweets, overall and for replies to the brand's account.",
            )
        ),
    )
    def daily_sentiment(context: AssetExecutionContext, lake: Lake) -> MaterializeResult:
        window = context.partition_time_window
        params = {"first_day": window.start.date(), "last_day": parse_day(context.partition_keys[-1])}
        with lake.connect() as db:
            rows = db.sql(DAILY_SENTIMENT_SQL, params=params).to_arrow_table()
        write_by_source_day(lake, "gold.daily_sentiment", rows)
        frame = rows.to_pandas()
        previews = previews_by_day(frame, column_names(DAILY_SENTIMENT_COLUMNS[:7]), rows=10)
        report_partitions(
            context,
            {day.isoformat(): _day_figures(frame[frame["day"] == day]) for day in set(frame["day"])},
            previews,
        )
        return MaterializeResult(
            metadata={
                "run_rows": len(frame),
                "dagster/column_schema": column_schema(DAILY_SENTIMENT_COLUMNS),
                "chart": _chart(lake),
            }
        )

    return [tweet_sentiment, daily_sentiment]


def _day_figures(rows) -> dict[str, object]:
    scored = int(rows["n_scored"].sum())
    figures: dict[str, object] = {"dagster/row_count": len(rows), "n_scored": scored}
    if scored:
        weights = rows["n_scored"] / scored
        for name in ("mean_score", "share_positive", "share_neutral", "share_negative"):
            figures[name] = round(float((rows[name].fillna(0) * weights).sum()), 4)
    return figures


def _chart(lake: Lake):
    """The run's chart metadata; the report package (matplotlib, pandas) is imported here, when a
    step draws it, so importing the code location stays fast for every Dagster process."""
    from twitter_assets.report.metadata import chart_metadata

    return chart_metadata(lake)
