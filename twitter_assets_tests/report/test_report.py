"""The report package against a real DuckDB file: charts, the HTML page, the terminal table."""

import base64
import re
import struct
from datetime import datetime, timezone
from pathlib import Path

import pytest

from twitter_assets.report import (
    chart_markdown,
    daily_frame,
    format_day_table,
    render_source_chart,
    table_exists,
    write_report,
)
from twitter_assets.report.text import INTERACTIONS, SENTIMENT

from .conftest import SOURCES

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=timezone.utc)
VERDICTS = [
    {
        "asset": "raw/aluraonline",
        "check": "window_matches_partition",
        "partition": "2026-11-20",
        "passed": True,
        "description": "window is the day",
    },
    {
        "asset": "gold/daily_interactions",
        "check": "no_negative_counts",
        "partition": "2026-11-21",
        "passed": False,
        "description": "likes < 0 on <day>",
    },
]


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def report(db, tmp_path: Path, **options) -> str:
    path = write_report(db, tmp_path / "out" / "report.html", now=NOW, **options)
    assert path == tmp_path / "out" / "report.html"
    assert [p.name for p in path.parent.iterdir()] == ["report.html"], "no temporary file left behind"
    return path.read_text(encoding="utf-8")


def test_table_exists_sees_tables_and_views(make_lake, empty_db):
    db = make_lake()
    assert table_exists(db, "gold.daily_interactions")
    assert table_exists(db, "gold.tweet_sentiment")  # a view
    assert not table_exists(db, "gold.nothing")
    assert not table_exists(empty_db, "gold.daily_sentiment")


@pytest.mark.parametrize("sentiment", [True, False])
def test_chart_is_a_small_png_of_the_fixed_size(make_lake, sentiment):
    frame = daily_frame(make_lake(sentiment=sentiment))
    png = render_source_chart(frame, "aluraonline", account="AluraOnline")
    width, height = png_size(png)
    assert (width, height) == (900, 500)
    assert len(png) < 150_000


def test_chart_of_a_source_without_days_still_renders(make_lake):
    png = render_source_chart(daily_frame(make_lake()), "unknown_source")
    assert png_size(png) == (900, 500)


def test_chart_markdown_embeds_the_png():
    png = render_source_chart(daily_frame_empty(), "x")
    markdown = chart_markdown(png, "tweets [per] day")
    match = re.fullmatch(r"!\[([^\]]*)\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", markdown)
    assert match, markdown[:80]
    assert match[1] == "tweets (per) day"
    assert base64.b64decode(match[2]) == png


def daily_frame_empty():
    import pandas as pd

    return pd.DataFrame(columns=["source", "day", "complete"])


def test_html_report_is_self_contained_and_complete(make_lake, tmp_path):
    html = report(make_lake(), tmp_path, check_verdicts=VERDICTS)
    # self-contained: no script, no external resource or link (URLs may appear only as text)
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert "<link" not in html.lower() and "@import" not in html
    # one chart per source, as embedded PNGs
    images = re.findall(r'<img [^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == len(SOURCES)
    assert all(png_size(base64.b64decode(image)) == (900, 500) for image in images)
    for source in SOURCES:
        assert f'<section id="source-{source}">' in html
    # the per-day table with thousands separators and the partial-day marker on the one partial day
    assert html.count('<table class="days">') == len(SOURCES)
    assert "2026-11-20" in html and "2026-11-23" in html
    assert re.search(r'<tr class="partial"><td class="day">2026-11-20</td>', html)
    assert html.count('<tr class="partial">') == 1
    assert "1,324,590" in html  # likes of 23/11: (3,000 + 3,001 + 3,002 + 123,456) x 10
    # top tweets: escaped, with the author's username (escaped too), retweets excluded
    assert html.count('<table class="top">') == len(SOURCES)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "😀🚀 &amp; mais" in html
    assert "@ana_dev" in html and "@&lt;b&gt;bruno&lt;/b&gt;" in html
    assert "retweeted text" not in html
    # the answered share: one of the four replies to each account was answered
    assert html.count("25%</strong>: 1 of 4 replies to") == len(SOURCES)
    assert "lower bound" in html
    # sentiment parts
    assert "pos%" in html and "neg%" in html
    # the verdicts, failures first, descriptions escaped
    verdicts = html[html.index('<section id="checks">') :]
    assert "2 verdicts, 1 failed" in verdicts
    assert verdicts.index("no_negative_counts") < verdicts.index("window_matches_partition")
    assert "likes &lt; 0 on &lt;day&gt;" in verdicts
    assert '<span class="failed">failed</span>' in verdicts and '<span class="passed">passed</span>' in verdicts
    assert "Generated 2026-11-24 06:00 UTC" in html


def test_html_report_without_sentiment_tables_or_new_columns(make_lake, tmp_path):
    db = make_lake(sentiment=False, with_new_columns=False)
    assert not table_exists(db, "gold.daily_sentiment")
    html = report(db, tmp_path)
    assert len(re.findall(r'src="data:image/png;base64,', html)) == len(SOURCES)
    assert "pos%" not in html and "sentiment" not in html.lower()
    # `complete` missing from gold: taken from silver.source_days
    assert html.count('<tr class="partial">') == 1
    assert '<section id="checks">' not in html  # no verdicts given


def test_html_report_on_an_empty_database(empty_db, tmp_path):
    html = report(empty_db, tmp_path, check_verdicts=VERDICTS)
    assert "No data yet: materialize gold/daily_interactions" in html
    assert "<img" not in html
    assert "no_negative_counts" in html


def test_write_report_replaces_the_previous_report(make_lake, tmp_path):
    db = make_lake()
    first = report(db, tmp_path)
    second = report(db, tmp_path, check_verdicts=VERDICTS)
    assert first != second and "no_negative_counts" in second


def test_format_day_table_shows_every_column_and_separators(make_lake):
    text = format_day_table(daily_frame(make_lake()))
    header = next(line for line in text.splitlines() if line.startswith("day"))
    for column in [*INTERACTIONS, *SENTIMENT]:
        assert re.search(rf"(^|\s){re.escape(column.header)}(\s|$)", header), column.header
    assert "aluraonline (4 days)" in text and "alura_cursos (4 days)" in text
    assert "2026-11-20" in text and "1,324,590" in text
    partial_lines = [line for line in text.splitlines() if line.rstrip().endswith("partial")]
    assert len(partial_lines) == 1 and partial_lines[0].startswith("2026-11-20")
    assert "50%" in text and "30%" in text and "20%" in text


def test_format_day_table_without_sentiment_and_empty(make_lake, empty_db):
    text = format_day_table(daily_frame(make_lake(sentiment=False)))
    assert "pos%" not in text and "tweets" in text
    assert "no data yet" in format_day_table(daily_frame(empty_db))
