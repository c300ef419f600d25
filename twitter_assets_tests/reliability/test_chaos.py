"""Chaos: a 7-day, 2-source backfill against the simulator with ~20% of requests failing (503,
connection reset, truncated body, an answer slower than the client timeout, one window 429) lands
exactly what a fault-free simulator answers, and its metadata counts the retries.

Figures of the last run are written to build/reliability-chaos.json (quoted in the README).
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from dagster import AssetKey

from twitter_assets.sources import Source
from twitter_assets_tests.clock import clear_of_the_window_edge
from twitter_assets_tests.reliability.support import (
    TRANSIENT,
    count_faults,
    distinct_tweets_in_day,
    expected_pages,
    raw_dir_is_committed,
)

pytestmark = pytest.mark.reliability

SOURCES = (
    Source(name="aluraonline", query="AluraOnline", account="AluraOnline"),
    Source(name="replies", query="to:AluraOnline"),
)
FAULT_RATE = 0.2
FIGURES = Path(__file__).resolve().parents[2] / "build" / "reliability-chaos.json"
BACKFILL_DURATION = timedelta(minutes=2)  # at most: it takes 20-60 s here


def _raw_run_metadata(result, source: Source) -> dict:
    events = [e for e in result.get_asset_materialization_events() if e.asset_key == AssetKey(["raw", source.name])]
    return {k: v.value for k, v in events[0].materialization.metadata.items() if k.startswith("run_")}


@pytest.mark.timeout(600)  # 300 s of backfill at most, plus a wait of up to 4 min for midnight
def test_chaos_backfill_lands_exactly_the_fault_free_answers(make_simulator, make_x_api, make_pipeline):
    today = clear_of_the_window_edge(BACKFILL_DURATION).date()  # the range includes the day 7 back
    first, last = today - timedelta(days=7), today - timedelta(days=1)
    chaotic = make_simulator()
    faults = count_faults(chaotic)
    chaotic.faults.random(rate=FAULT_RATE, kinds=("503", "reset", "truncate", "slow"), seed=11)
    chaotic.faults.push("429", path="/2/tweets/search/recent", reset_after=1.0)
    pipeline = make_pipeline(sources=SOURCES, simulator=chaotic)
    # small pages -> many requests; a "slow" answer (1 s) is slower than the client's timeout
    pipeline.x_api = make_x_api(simulator=chaotic, page_size=20, timeout_seconds=0.5, max_attempts=8)

    started_at, started = datetime.now(timezone.utc), time.monotonic()
    result = pipeline.backfill(first, last, raise_on_error=False)
    wall = time.monotonic() - started
    assert result.success, [e.message for e in result.all_events if e.is_failure]

    # The fault-free answers, asked of a simulator whose clock stays at the backfill's start: the oldest day's
    # landing states a window starting 7 days before its fetch (plus the 2-minute margin), which a server on
    # the real clock stops serving when the backfill takes longer than that margin.
    calm = make_x_api(simulator=make_simulator(clock=lambda: started_at), page_size=20)
    rows = 0
    for source in SOURCES:
        for offset in range((last - first).days + 1):
            day = first + timedelta(days=offset)
            landed = pipeline.lake.read_raw_day(source.name, day)
            assert landed is not None, (source.name, day)
            pages = expected_pages(calm, landed.manifest)
            assert landed.pages == pages, f"{source.name} {day}: landed pages differ from the fault-free answers"
            assert raw_dir_is_committed(pipeline.lake, source.name, day) == []
            expected = distinct_tweets_in_day(pages, day)
            silver = pipeline.query(
                "SELECT tweet_id, text, author_id, like_count FROM silver.tweets WHERE source = $s AND day = $d",
                {"s": source.name, "d": day},
            )
            assert sorted(silver) == sorted(
                (t["id"], t["text"], t["author_id"], t["public_metrics"]["like_count"]) for t in expected.values()
            ), f"{source.name} {day}: silver lost or doubled rows"
            rows += len(silver)
    assert pipeline.query("SELECT count(*) FROM silver.tweets") == [(rows,)]
    assert pipeline.query("SELECT count(*) FROM gold.daily_interactions") == [(2 * 7,)]

    transient = sum(n for kind, n in faults.items() if kind in TRANSIENT)
    assert faults["429"] == 1 and transient > 0
    metadata = [_raw_run_metadata(result, source) for source in SOURCES]
    assert sum(m["run_retries"] for m in metadata) == transient, (faults, metadata)
    assert sum(m["run_rate_limit_waits"] for m in metadata) >= 1
    requests_made = sum(m["run_requests"] for m in metadata)
    served = len(chaotic.requests)
    assert transient / requests_made >= 0.1, "the chaos was too mild to prove anything"
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks), [(c.check_name, c.description) for c in checks if not c.passed]
    FIGURES.parent.mkdir(exist_ok=True)
    FIGURES.write_text(
        json.dumps(
            {
                "days": 7,
                "sources": len(SOURCES),
                "client_requests": requests_made,
                "server_requests_recorded": served,
                "faults": dict(faults),
                "retries": sum(m["run_retries"] for m in metadata),
                "rate_limit_waits": sum(m["run_rate_limit_waits"] for m in metadata),
                "silver_rows": rows,
                "wall_seconds": round(wall, 1),
            },
            indent=2,
        )
    )


def test_a_503_burst_longer_than_the_retry_budget_fails_cleanly_and_the_next_run_completes(
    make_simulator, make_x_api, make_pipeline
):
    day = datetime.now(timezone.utc).date() - timedelta(days=2)
    server = make_simulator()
    pipeline = make_pipeline(simulator=server)
    pipeline.x_api = make_x_api(simulator=server, page_size=50, max_attempts=3)
    assert pipeline.backfill(day, day, selection="raw").success
    before = pipeline.lake.read_raw_day("aluraonline", day)

    # the 2nd page of the day meets more 503s than the client may retry
    server.faults.push("slow", path="/2/tweets/search/recent", seconds=0.0)
    server.faults.push("503", path="/2/tweets/search/recent", count=5)
    failed = pipeline.backfill(day, day, raise_on_error=False)
    assert not failed.success
    (failure,) = [e for e in failed.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.event_specific_data.error.to_string()
    assert "503" in message and f"partition {day}" in message and "nothing of this attempt was landed" in message
    after = pipeline.lake.read_raw_day("aluraonline", day)
    assert after == before, "a failed fetch touched the previous landing"
    assert raw_dir_is_committed(pipeline.lake, "aluraonline", day) == []

    server.faults.clear()
    assert pipeline.backfill(day, day).success
    pages = expected_pages(make_x_api(simulator=server, page_size=50), before.manifest)
    assert pipeline.lake.read_raw_day("aluraonline", day).pages == pages
    assert pipeline.query("SELECT count(*) FROM silver.tweets") == [(len(distinct_tweets_in_day(pages, day)),)]
