"""One self-contained HTML page of what the lake says: charts, per-day tables, top tweets, checks.

The page has inline CSS, charts as base64 PNG data URLs, no external URL and no JavaScript, so it
can be mailed, archived or opened from disk. Every piece of text from the lake or the checks is
HTML-escaped (tweets do contain `<script>`). It is written to a temporary file and renamed into
place, so a reader never sees half a report.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from html import escape
from pathlib import Path

import duckdb
import pandas as pd

from twitter_assets.report.charts import png_data_url, recent_days, render_source_chart
from twitter_assets.report.data import Account, AnsweredShare, accounts, answered_share, daily_frame, top_tweets
from twitter_assets.report.text import PARTIAL_MARK, Column, day_table_columns

CHART_DAYS = 30
TOP_DAYS = 7
TOP_LIMIT = 10

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto;
       max-width: 1200px; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { margin-bottom: .3rem; } h2 { border-bottom: 2px solid #ddd; padding-bottom: .2rem; margin-top: 2.5rem; }
h3 { margin-top: 1.6rem; }
.meta, .note { color: #666; font-size: .9rem; }
.empty { background: #fff8e1; border: 1px solid #f0c36d; padding: 1rem; border-radius: 4px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: .8rem; margin: .5rem 0; }
th, td { border-bottom: 1px solid #e5e5e5; padding: .25rem .4rem; vertical-align: top; }
th { background: #f5f5f5; text-align: left; white-space: nowrap; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.day { white-space: nowrap; }
tr.partial td { background: #fafafa; color: #555; font-style: italic; }
.badge { display: inline-block; font-size: .75rem; font-style: normal; padding: 0 .35rem; border-radius: 3px;
         background: #eee; color: #555; border: 1px dashed #999; }
.passed { color: #1b7a2f; font-weight: 600; } .failed { color: #b00020; font-weight: 700; }
td.text { white-space: pre-wrap; max-width: 36rem; overflow-wrap: anywhere; }
img.chart { display: block; max-width: 100%; height: auto; border: 1px solid #eee; }
"""

INTRO = (
    "Every day the pipeline fetches every tweet matching each tracked X search, lands the API's "
    "pages untouched, cleans them into DuckDB (silver) and counts the day's interactions (gold): "
    "tweets, conversations, replies to the account, retweets, quotes and the likes, retweets, "
    "replies and quotes those tweets received. Below, for each tracked search: its last {days} days "
    "as a chart and a table, the most engaging tweets of its last {top} days, and how many replies "
    "to the account the account answered; then the verdicts of the data checks. Days are UTC. A "
    "partial day is one whose fetched window does not cover the whole day (the API serves only the "
    "last 7 days), so its counts are a lower bound."
)


def write_report(
    db: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    check_verdicts: Sequence[Mapping] = (),
    now: datetime | None = None,
) -> Path:
    """Write the report for everything in `db` to `path` (atomically) and return `path`.

    `check_verdicts` are mappings with keys asset, check, partition, passed, description (as made
    by `twitter_assets.checks.report.check_verdicts`). Sentiment parts appear only when the
    sentiment tables exist; an empty lake gives a page saying what to materialize.
    """
    path = Path(path)
    now = now or datetime.now(timezone.utc)
    page = render_report(db, check_verdicts=check_verdicts, now=now)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(page)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def render_report(db: duckdb.DuckDBPyConnection, *, check_verdicts: Sequence[Mapping] = (), now: datetime) -> str:
    """The report page as a string (see `write_report`)."""
    frame = daily_frame(db)
    known = accounts(db)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(_title(known))}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{escape(_title(known))}</h1>",
        f"<p>{escape(INTRO.format(days=CHART_DAYS, top=TOP_DAYS))}</p>",
        f'<p class="meta">Generated {now.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC.'
        + (f" Sources: {escape(', '.join(sorted(frame['source'].unique())))}." if not frame.empty else "")
        + "</p>",
    ]
    if frame.empty:
        parts.append(
            '<p class="empty"><strong>No data yet: materialize gold/daily_interactions</strong> '
            "(for instance with <code>make demo</code>, or from the Dagster UI) and write the report again.</p>"
        )
    else:
        for source in sorted(frame["source"].unique()):
            parts.append(_source_section(db, frame, source, known.get(source)))
    parts.append(_verdicts_section(check_verdicts))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _title(known: Mapping[str, Account]) -> str:
    handles = sorted({f"@{a.username}" for a in known.values() if a.username})
    return f"Tweets about {', '.join(handles)}: daily interactions" if handles else "Tweets: daily interactions"


def _source_section(db: duckdb.DuckDBPyConnection, frame: pd.DataFrame, source: str, account: Account | None) -> str:
    rows = recent_days(frame, source, days=CHART_DAYS)
    last_day: date = rows["day"].iloc[-1]
    username = account.username if account else None
    png = render_source_chart(frame, source, account=username, days=CHART_DAYS)
    about = []
    if account and account.query:
        about.append(f"search <code>{escape(account.query)}</code>")
    if username:
        about.append(f"account @{escape(username)}")
    alt = f"{source}: tweets, replies to the account, retweets and likes per day"
    if "share_positive" in rows.columns and rows["share_positive"].notna().any():
        alt += ", mean sentiment and positive/negative shares"
    return "\n".join(
        [
            f'<section id="source-{escape(source, quote=True)}">',
            f"<h2>{escape(source)}</h2>",
            f'<p class="meta">{"; ".join(about)}</p>' if about else "",
            f'<img class="chart" width="900" height="500" alt="{escape(alt, quote=True)}" src="{png_data_url(png)}">',
            f"<h3>Per day (last {CHART_DAYS} days)</h3>",
            _day_table(rows),
            _top_tweets(db, source, last_day),
            _answered(db, account, last_day),
            "</section>",
        ]
    )


def _cell(column: Column, value: object) -> str:
    if pd.isna(value):
        return '<td class="n">&ndash;</td>'
    if column.kind == "share":
        return f'<td class="n">{float(value) * 100:.0f}%</td>'
    if column.kind == "score":
        return f'<td class="n">{float(value):+.2f}</td>'
    return f'<td class="n">{int(value):,}</td>'


def _window(value: object) -> str:
    """A window bound as HH:MM UTC (empty when unknown)."""
    if value is None or pd.isna(value):
        return ""
    stamp = pd.Timestamp(value)
    return f"{stamp.tz_convert('UTC') if stamp.tzinfo else stamp:%H:%M}"


def _day_table(rows: pd.DataFrame) -> str:
    columns = day_table_columns(rows)
    has_window = "window_start" in rows.columns and "window_end" in rows.columns
    head = ["<th>day</th>", "<th>weekday</th>"]
    head += [f'<th title="{escape(c.meaning, quote=True)}">{escape(c.header)}</th>' for c in columns]
    if has_window:
        head.append('<th title="the part of the day the API returned (UTC)">window</th>')
    head.append("<th></th>")
    body = []
    for _, row in rows.sort_values("day", ascending=False).iterrows():
        partial = not bool(row.get("complete", True))
        cells = [
            f'<td class="day">{pd.Timestamp(row["day"]):%Y-%m-%d}</td>',
            f"<td>{escape(str(row.get('weekday', '')))}</td>",
        ]
        cells += [_cell(c, row[c.name]) for c in columns]
        if has_window:
            start, end = _window(row["window_start"]), _window(row["window_end"])
            cells.append(f'<td class="day">{escape(start)}&ndash;{escape(end)}</td>' if start or end else "<td></td>")
        cells.append(f'<td><span class="badge">{PARTIAL_MARK}</span></td>' if partial else "<td></td>")
        row_class = ' class="partial"' if partial else ""
        body.append(f"<tr{row_class}>{''.join(cells)}</tr>")
    legend = "; ".join(f"<strong>{escape(c.header)}</strong> = {escape(c.meaning)}" for c in columns)
    return (
        f'<div class="scroll"><table class="days"><thead><tr>{"".join(head)}</tr></thead>'
        f'<tbody>{"".join(body)}</tbody></table></div><p class="note">{legend}.</p>'
    )


def _top_tweets(db: duckdb.DuckDBPyConnection, source: str, last_day: date) -> str:
    first_day = last_day - timedelta(days=TOP_DAYS - 1)
    title = f"<h3>Top tweets by engagement, {first_day:%d/%m} to {last_day:%d/%m/%Y}</h3>"
    tweets = top_tweets(db, source, last_day, days=TOP_DAYS, limit=TOP_LIMIT)
    if tweets.empty:
        return title + '<p class="note">No tweets in these days.</p>'
    has_sentiment = tweets["sentiment"].notna().any()
    head = "<th>#</th><th>day</th><th>author</th><th>tweet</th><th>likes</th><th>retweets</th><th>replies</th>"
    head += "<th>quotes</th><th>engagement</th>" + ("<th>sentiment</th>" if has_sentiment else "")
    body = []
    for rank, row in enumerate(tweets.itertuples(index=False), start=1):
        author = f"@{row.username}" if isinstance(row.username, str) and row.username else f"user {row.author_id}"
        kind = " (reply)" if row.is_reply else " (quote)" if row.is_quote else ""
        cells = [
            f'<td class="n">{rank}</td>',
            f'<td class="day">{pd.Timestamp(row.day):%Y-%m-%d}</td>',
            f"<td>{escape(author)}{escape(kind)}</td>",
            f'<td class="text">{escape(str(row.text))}</td>',
            *(
                f'<td class="n">{0 if pd.isna(v) else int(v):,}</td>'
                for v in (row.likes, row.retweets, row.replies, row.quotes)
            ),
            f'<td class="n"><strong>{int(row.engagement):,}</strong></td>',
        ]
        if has_sentiment:
            cells.append(f"<td>{escape(str(row.sentiment)) if isinstance(row.sentiment, str) else '&ndash;'}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    note = "Engagement = likes + retweets + replies + quotes at the time of the fetch; retweets excluded."
    return (
        f'{title}<p class="note">{note}</p><div class="scroll"><table class="top">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _answered(db: duckdb.DuckDBPyConnection, account: Account | None, last_day: date) -> str:
    if account is None or not account.user_id:
        return ""
    first_day = last_day - timedelta(days=TOP_DAYS - 1)
    result: AnsweredShare | None = answered_share(db, account, first_day, last_day)
    if result is None or not result.replies:
        return ""
    handle = f"@{account.username}" if account.username else "the account"
    return (
        f"<h3>Replies to {escape(handle)} that it answered, {first_day:%d/%m} to {last_day:%d/%m/%Y}</h3>"
        f"<p><strong>{result.share:.0%}</strong>: {result.answered:,} of {result.replies:,} replies to "
        f"{escape(handle)} got a later reply from {escape(handle)}.</p>"
        '<p class="note">Only tweets the search returned are seen: an answer the search did not return is '
        "not counted, so this is a lower bound; replies from the last days may still be answered.</p>"
    )


def _verdicts_section(verdicts: Iterable[Mapping]) -> str:
    verdicts = list(verdicts)
    if not verdicts:
        return ""
    failed = [v for v in verdicts if not v.get("passed")]
    ordered = sorted(
        verdicts,
        key=lambda v: (
            bool(v.get("passed")),
            str(v.get("asset", "")),
            str(v.get("check", "")),
            str(v.get("partition") or ""),
        ),
    )
    body = []
    for v in ordered:
        passed = bool(v.get("passed"))
        status = '<span class="passed">passed</span>' if passed else '<span class="failed">failed</span>'
        body.append(
            "<tr>"
            f"<td>{escape(str(v.get('asset', '')))}</td>"
            f"<td>{escape(str(v.get('check', '')))}</td>"
            f'<td class="day">{escape(str(v.get("partition") or "whole run"))}</td>'
            f"<td>{status}</td>"
            f"<td>{escape(str(v.get('description') or ''))}</td>"
            "</tr>"
        )
    summary = f"{len(verdicts):,} verdicts, {len(failed):,} failed" + (" (listed first)." if failed else ".")
    return (
        '<section id="checks"><h2>Check verdicts</h2>'
        f'<p class="{"failed" if failed else "meta"}">{summary}</p>'
        '<div class="scroll"><table class="verdicts"><thead><tr><th>asset</th><th>check</th><th>partition</th>'
        f"<th>verdict</th><th>description</th></tr></thead><tbody>{''.join(body)}</tbody></table></div></section>"
    )
