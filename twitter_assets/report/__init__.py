"""What a person sees: charts, the per-day table and the HTML report of the lake."""

from twitter_assets.report.charts import chart_markdown, render_source_chart
from twitter_assets.report.data import daily_frame, table_exists
from twitter_assets.report.html import write_report
from twitter_assets.report.text import format_day_table

__all__ = ["chart_markdown", "daily_frame", "format_day_table", "render_source_chart", "table_exists", "write_report"]
