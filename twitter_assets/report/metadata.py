"""What the report package gives Dagster's UI: the per-source charts as one markdown metadata entry.

The gold assets attach it to their run's materialization (`chart`), so the asset page shows the
last 30 days of every source without leaving Dagster; one chart per source per run, drawn from the
lake as it is after the run wrote its partitions (read through `Lake.connect()`).
"""

from __future__ import annotations

from dagster import MetadataValue

from twitter_assets.report.charts import chart_markdown, render_source_chart
from twitter_assets.report.data import accounts, daily_frame

CHART_DAYS = 30


def chart_metadata(lake) -> MetadataValue:
    """Markdown with, per source, a heading and its chart of the last `CHART_DAYS` days."""
    with lake.connect() as db:
        frame = daily_frame(db)
        known = accounts(db)
    if frame.empty:
        return MetadataValue.md("_no days in the lake yet: materialize gold/daily_interactions_")
    parts = []
    for source in sorted(frame["source"].unique()):
        account = known.get(source)
        png = render_source_chart(frame, source, account=account.username if account else None, days=CHART_DAYS)
        alt = f"{source}: tweets, replies to the account, retweets and likes per day, last {CHART_DAYS} days"
        parts.append(f"**{source}**\n\n{chart_markdown(png, alt)}")
    return MetadataValue.md("\n\n".join(parts))
