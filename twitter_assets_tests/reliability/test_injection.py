"""Injection: queries and tweet texts full of quotes, semicolons, backslashes, NUL bytes and SQL
keywords go through unharmed, and no SQL is built by string formatting from data or config: every
f-string, `.format` or `%` inside an `execute(...)`/`sql(...)` call of the package interpolates only
a reviewed identifier construction (below, with why it is safe)."""

from __future__ import annotations

import ast
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from twitter_assets.sources import Source
from twitter_assets_tests.pipeline_fixtures import land, tweet

PACKAGE = Path(__file__).resolve().parents[2] / "twitter_assets"

# (file, interpolated expression) -> why it cannot carry data or config
REVIEWED = {
    ("assets/tables.py", "sql"): "a module-level SQL constant of silver/gold/sentiment; values go as $parameters",
    ("assets/tables.py", "sql_string(local)"): "a scratch path the lake built, quoted by lake.sql_string",
    ("checks/gold.py", "negatives"): "built from COUNT_COLUMNS, the gold table's constant column spec",
    ("checks/silver.py", "counts"): "built from REQUIRED_TWEET_COLUMNS, a constant",
    ("lake.py", "sql_string(tempfile.gettempdir() + '/twitter-duckdb')"): "the temp dir, quoted",
    ("lake.py", "table"): "a PARTITIONED_TABLES/DERIVED_VIEWS name, matched against the registry first",
    ("lake.py", "table.split('.')[0]"): "the schema of such a name",
    ("lake.py", "listed"): "lake.sql_string of each partition file the lake globbed",
    ("lake.py", "layer"): "the schema of a PARTITIONED_TABLES name",
    ("lake.py", "sql_string(pattern)"): "a glob the lake built, quoted",
    ("lake.py", "view"): "a DERIVED_VIEWS name (constant)",
    ("lake.py", "view.split('.')[0]"): "its schema",
    ("lake.py", "'OR REPLACE ' if replace else ''"): "a keyword chosen by a boolean",
    ("lake.py", "sql"): "the DERIVED_VIEWS SQL constant",
    ("report/data.py", "', '.join(select)"): "column names from constants, filtered by the columns present",
    ("report/data.py", "DAILY"): "a table name constant",
    ("report/data.py", "joins"): "a JOIN on constant table names, or ''",
    ("report/data.py", "username"): "'u.username' or 'NULL::VARCHAR'",
    ("report/data.py", "label"): "'ts.label' or 'NULL::VARCHAR'",
    ("report/data.py", "users_join"): "a constant JOIN or ''",
    ("report/data.py", "sentiment_join"): "a constant JOIN or ''",
}
SQL_METHODS = {"execute", "executemany", "sql", "query", "from_query"}


def _formatted_sql() -> set[tuple[str, str]]:
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args):
                continue
            if node.func.attr not in SQL_METHODS:
                continue
            first = node.args[0]
            if isinstance(first, ast.JoinedStr):
                for value in first.values:
                    if isinstance(value, ast.FormattedValue):
                        found.add((rel, ast.unparse(value.value)))
            elif isinstance(first, ast.BinOp) and isinstance(first.op, (ast.Mod, ast.Add)):
                found.add((rel, f"<{type(first.op).__name__} formatting> {ast.unparse(first)[:80]}"))
            elif isinstance(first, ast.Call) and isinstance(first.func, ast.Attribute) and first.func.attr == "format":
                found.add((rel, f"<.format> {ast.unparse(first)[:80]}"))
    return found


def test_no_sql_is_formatted_from_data_or_config():
    unreviewed = _formatted_sql() - set(REVIEWED)
    assert not unreviewed, f"SQL built by string formatting, not in the reviewed list: {sorted(unreviewed)}"


NASTY = [
    'it\'s "quoted"; DROP TABLE silver.tweets; --',
    "back\\slash \\' \\\" \\\\ and a NUL \x00 byte",
    "'); DELETE FROM gold.daily_interactions WHERE ('1'='1",
    "SELECT * FROM read_parquet('/etc/passwd') UNION ALL SELECT 1 /* */ ${day} $source ?",
    "emoji 🐍 and \u202e right-to-left \ud7ff \t\r\n newlines",
]


def test_nasty_tweet_texts_go_through_unharmed(pipeline):
    day = datetime.now(timezone.utc).date() - timedelta(days=20)  # outside the window: the landing is kept
    tweets = [tweet(str(1000 + n), day, text=text, author_id=f"9{n}") for n, text in enumerate(NASTY)]
    land(pipeline.lake, day, tweets)
    assert pipeline.backfill(day, day).success
    rows = dict(pipeline.query("SELECT tweet_id, text FROM silver.tweets"))
    assert rows == {t["id"]: t["text"] for t in tweets}
    assert pipeline.query("SELECT count(*) FROM gold.daily_interactions") == [(1,)]


@pytest.mark.parametrize("query", ['AluraOnline OR "it\'s; DROP TABLE x; --"', 'AluraOnline -"\\\\ \'; SELECT"'])
def test_nasty_queries_are_sent_and_stored_verbatim(make_pipeline, query):
    pipeline = make_pipeline(sources=[Source(name="nasty", query=query, account="AluraOnline")])
    day = datetime.now(timezone.utc).date() - timedelta(days=1)
    assert pipeline.backfill(day, day).success
    assert pipeline.lake.read_manifest("nasty", day)["query"] == query
    assert pipeline.query("SELECT query FROM silver.source_days") == [(query,)]
