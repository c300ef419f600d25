"""A run while another process holds the published database, the way a notebook or the UI would.

DuckDB takes one writer process per file and a reader blocks writers. The lake keeps its rows in
per-partition files and only publishes views in `twitter.duckdb`, so a reader holding the file
neither blocks nor fails a run; without that design this test fails with "Could not set lock on file".
"""

import multiprocessing
import time
from datetime import datetime, timedelta, timezone

from dagster import AssetSelection

HOLD_SECONDS = 20.0


def _hold_database(path: str, ready, release) -> None:
    import duckdb

    reader = duckdb.connect(path, read_only=True)
    reader.execute("SELECT count(*) FROM silver.tweets").fetchone()
    ready.set()
    release.wait(HOLD_SECONDS)
    reader.close()


def test_a_run_is_not_blocked_by_a_process_reading_the_database(pipeline):
    day = datetime.now(timezone.utc).date() - timedelta(days=1)
    assert pipeline.backfill(day, day).success
    before = pipeline.query("SELECT count(*) FROM silver.tweets")

    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_database, args=(str(pipeline.lake.database_path), ready, release))
    holder.start()
    try:
        assert ready.wait(60)
        started = time.monotonic()
        result = pipeline.backfill(day, day, selection=AssetSelection.groups("silver", "gold"), raise_on_error=False)
        waited = time.monotonic() - started
        assert holder.is_alive(), "the reader let go before the run ended: the test proves nothing"
    finally:
        release.set()
        holder.join(60)
    assert result.success
    assert waited < HOLD_SECONDS
    assert pipeline.query("SELECT count(*) FROM silver.tweets") == before
    assert pipeline.query("SELECT count(*) FROM gold.daily_interactions") == [(1,)]
