"""A run that needs the database while another process holds it. DuckDB takes one writer process per
file: without the lake's lock the run would fail at once with "Could not set lock on file"; with it,
the run waits its turn and succeeds."""

import multiprocessing
import time
from datetime import datetime, timedelta, timezone

from dagster import AssetSelection

from twitter_assets.lake import Lake

HOLD_SECONDS = 3.0


def _hold_database(root: str, ready, seconds: float) -> None:
    with Lake(root=root).connect() as db:
        db.execute("CREATE SCHEMA IF NOT EXISTS scratch")
        ready.set()
        time.sleep(seconds)


def test_a_run_waits_for_another_process_holding_the_database(pipeline):
    day = datetime.now(timezone.utc).date() - timedelta(days=1)
    assert pipeline.backfill(day, day, selection="raw").success

    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    holder = context.Process(target=_hold_database, args=(pipeline.lake.root, ready, HOLD_SECONDS))
    holder.start()
    try:
        assert ready.wait(60)
        started = time.monotonic()
        tables = AssetSelection.groups("silver", "gold")
        result = pipeline.backfill(day, day, selection=tables, raise_on_error=False)
        waited = time.monotonic() - started
    finally:
        holder.join(60)
    assert result.success
    assert waited >= HOLD_SECONDS / 2, "the run did not wait for the holder: was the database really shared?"
    assert pipeline.query("SELECT count(*) FROM gold.daily_interactions") == [(1,)]
