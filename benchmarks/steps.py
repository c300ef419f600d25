"""The measured steps, each run alone in a child process by `benchmarks.harness`.

Heavy imports (and one trivial materialization) happen here at module level, so a step's
`step_seconds` is the work itself; its peak RSS includes the interpreter and those imports (the same
for every approach).

The project's steps go through its real code paths: the raw asset against the simulator, and the
silver/gold/sentiment assets, all via `dagster.materialize` on an ephemeral instance. The baselines
are what one would write without the project: the pandas way and naive DuckDB over the pages.
"""

from __future__ import annotations

import json
import os
import time
from datetime import date
from typing import Any

import duckdb
import pandas as pd
from dagster import AssetKey, AssetSelection, DagsterInstance, materialize

from twitter_assets.assets.gold import DAILY_INTERACTIONS_KEY
from twitter_assets.assets.sentiment import DAILY_SENTIMENT_KEY, TWEET_SENTIMENT_KEY
from twitter_assets.assets.silver import SILVER_TWEETS_KEY, SILVER_USERS_KEY
from twitter_assets.definitions import build_assets
from twitter_assets.lake import Lake
from twitter_assets.resources.x_api import XApiClient
from twitter_assets.sources import Source

SOURCE = Source(name="aluraonline", query="AluraOnline", account="AluraOnline")
UNUSED_API = {"bearer_token": "unused", "base_url": "http://127.0.0.1:9"}  # silver and gold call no API


def _warm_up() -> None:
    """Materialize a trivial asset once, so the step's timing does not include the first-use imports
    of Dagster's execution machinery (~1-4 s here): a forked production step has them preloaded."""
    from dagster import asset

    @asset
    def warm_up() -> None:
        return None

    materialize([warm_up], instance=DagsterInstance.ephemeral())
    import pyarrow.compute  # noqa: F401 - and what the lake imports where it uses it
    import pyarrow.parquet  # noqa: F401

    import twitter_assets.report.metadata  # noqa: F401 - the gold and sentiment steps' charts (matplotlib)


_warm_up()


def _materialize(keys: list[AssetKey], day: str, lake_root: str, x_api: dict[str, Any] | None = None) -> float:
    lake = Lake(root=lake_root, lock_timeout_seconds=600)
    started = time.perf_counter()
    result = materialize(
        build_assets([SOURCE]),
        selection=AssetSelection.assets(*keys),
        partition_key=day,
        resources={"lake": lake, "x_api": XApiClient(**(x_api or UNUSED_API))},
        instance=DagsterInstance.ephemeral(),
    )
    seconds = time.perf_counter() - started
    if not result.success:  # pragma: no cover - materialize raises first
        raise RuntimeError(f"materializing {keys} for {day} failed")
    return seconds


def _pages_path(lake_root: str, day: str) -> str:
    return Lake(root=lake_root).raw_pages_path(SOURCE.name, date.fromisoformat(day))


# ---- raw landing (extraction) ------------------------------------------------------------------
def land_day(lake_root: str, day: str, base_url: str, token: str) -> dict[str, Any]:
    """The real raw asset for one day, paging the simulator."""
    x_api = {"bearer_token": token, "base_url": base_url, "backoff_initial_seconds": 0.2, "timeout_seconds": 60}
    seconds = _materialize([AssetKey(["raw", SOURCE.name])], day, lake_root, x_api)
    lake = Lake(root=lake_root)
    manifest = lake.read_manifest(SOURCE.name, date.fromisoformat(day))
    return {
        "step_seconds": seconds,
        "tweets": manifest["tweet_count"],
        "pages": manifest["page_count"],
        "fetch": manifest["fetch"],
        "raw_bytes": os.path.getsize(lake.raw_pages_path(SOURCE.name, date.fromisoformat(day), manifest)),
    }


# ---- raw -> silver: the project ----------------------------------------------------------------
def silver_project(lake_root: str, day: str, table: str) -> dict[str, Any]:
    key = {"tweets": SILVER_TWEETS_KEY, "users": SILVER_USERS_KEY}[table]
    seconds = _materialize([key], day, lake_root)
    stored = {"tweets": "silver.tweets", "users": "silver.users_seen"}[table]
    with Lake(root=lake_root).connect() as db:
        rows = db.execute(
            f"SELECT count(*) FROM {stored} WHERE day = $day", {"day": date.fromisoformat(day)}
        ).fetchone()
    return {"step_seconds": seconds, "rows": rows[0]}


def derive_rows(lake_root: str, day: str) -> dict[str, Any]:
    """What the compact rows cost to derive from the pages: `Lake.raw_rows` on a landing whose rows
    were moved aside (the same work the landing does page by page). The landed rows are put back."""
    lake = Lake(root=lake_root)
    the_day = date.fromisoformat(day)
    manifest = lake.read_manifest(SOURCE.name, the_day)
    directory = lake.raw_day_dir(SOURCE.name, the_day)
    sha = manifest["pages_sha256"][:16]
    landed = [f"{directory}/tweets-{sha}.parquet", f"{directory}/users-{sha}.parquet"]
    for path in landed:
        os.replace(path, path + ".bench-aside")
    try:
        started = time.perf_counter()
        tweets, users = lake.raw_rows(SOURCE.name, the_day, manifest)
        seconds = time.perf_counter() - started
    finally:
        for path in landed:
            os.replace(path + ".bench-aside", path)
    return {"step_seconds": seconds}


# ---- raw -> silver: the baselines --------------------------------------------------------------
def silver_pandas(lake_root: str, day: str, table: str) -> dict[str, Any]:
    """json.loads of every page, pandas.json_normalize, drop_duplicates, into a DuckDB table."""
    started = time.perf_counter()
    records: list[dict[str, Any]] = []
    with open(_pages_path(lake_root, day), "rb") as stream:
        for line in stream:
            page = json.loads(line)
            if table == "tweets":
                records.extend(page.get("data") or [])
            else:
                records.extend((page.get("includes") or {}).get("users") or [])
    frame = pd.json_normalize(records)
    del records
    frame = frame.drop_duplicates(subset="id", keep="first")
    # Nested lists (referenced_tweets, entities.*) go to DuckDB as JSON text.
    for name in frame.columns:
        if frame[name].dtype == object and frame[name].map(lambda v: isinstance(v, (list, dict))).any():
            frame[name] = frame[name].map(lambda v: json.dumps(v) if isinstance(v, (list, dict)) else v)
    db = duckdb.connect()
    db.register("frame", frame)
    db.execute(f"CREATE TABLE {table} AS SELECT * FROM frame")
    rows = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return {"step_seconds": time.perf_counter() - started, "rows": rows}


def silver_naive_duckdb(lake_root: str, day: str, table: str) -> dict[str, Any]:
    """read_json of the NDJSON pages, unnest, dedupe by id, into a DuckDB table."""
    started = time.perf_counter()
    column = "data" if table == "tweets" else "includes.users"
    db = duckdb.connect()
    db.execute(
        f"""
        CREATE TABLE {table} AS
        WITH items AS (
            SELECT unnest({column}) AS item
            FROM read_json($path, format = 'newline_delimited', maximum_object_size = 268435456)
        )
        SELECT unnest(item) FROM (SELECT item FROM items QUALIFY row_number() OVER (PARTITION BY item.id) = 1)
        """,
        {"path": _pages_path(lake_root, day)},
    )
    rows = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return {"step_seconds": time.perf_counter() - started, "rows": rows}


# ---- silver -> gold, sentiment -----------------------------------------------------------------
def gold_interactions(lake_root: str, day: str) -> dict[str, Any]:
    return {"step_seconds": _materialize([DAILY_INTERACTIONS_KEY], day, lake_root)}


def sentiment(lake_root: str, day: str) -> dict[str, Any]:
    seconds = _materialize([TWEET_SENTIMENT_KEY, DAILY_SENTIMENT_KEY], day, lake_root)
    with Lake(root=lake_root).connect() as db:
        scored = db.execute(
            "SELECT count(*) FROM gold.tweet_sentiment WHERE day = $day", {"day": date.fromisoformat(day)}
        ).fetchone()[0]
    return {"step_seconds": seconds, "scored": scored}
