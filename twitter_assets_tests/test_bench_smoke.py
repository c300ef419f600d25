"""The benchmark suite (`make bench`) at a tiny size, so it cannot rot: every step runs through the
same functions as the full run and the report is written. Nothing here asserts a duration; only
that the approaches agree on the data and the extraction made exactly one request per page."""

import math

import pytest

from benchmarks.run import run_suite


@pytest.mark.timeout(1200)
def test_bench_suite_runs_at_a_tiny_size(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_MAX_LOAD", "1000")  # no waiting for a quiet machine, no re-runs
    monkeypatch.setenv("BENCH_QUIET_WAIT", "0")
    monkeypatch.setenv("BENCH_REPEATS", "2")  # the median path, kept short
    results = tmp_path / "RESULTS.md"
    figures = run_suite(
        [10_000],
        results,
        workdir=tmp_path / "work",
        backfill_days=2,
        rl_size=2_000,
        rl_limit=5,
        rl_window=1.0,
        import_repeats=1,
    )
    (size,) = figures["sizes"]
    n = size["tweets"]
    assert n > 5_000
    assert size["land"].result["search_requests"] == math.ceil(n / 100)
    assert size["land"].result["search_429"] == 0
    for table in ("tweets", "users"):
        counts = {
            size[f"{table}:{approach}"].result["rows"]
            for approach in ("silver_project", "silver_pandas", "silver_naive_duckdb")
        }
        assert len(counts) == 1, (table, counts)
    assert size["tweets:silver_project"].result["rows"] == n  # the simulator never repeats a tweet
    assert size["sentiment"].result["scored"] > 0
    limited = figures["rate_limited"]["land"].result
    assert limited["search_requests"] == math.ceil(limited["tweets"] / 100)
    assert limited["fetch"]["rate_limit_waits"] >= 1
    assert figures["backfill"]["separate"].result["runs"] and len(figures["backfill"]["separate"].result["runs"]) == 2
    text = results.read_text()
    tiny = figures["tiny"]
    assert 0 < tiny["tweets"] < n
    assert tiny["land"].result["search_requests"] == math.ceil(tiny["tweets"] / 100)
    assert len(tiny["gold"].result["repeats"]) == 2
    assert len(figures["backfill"]["one"].result["tries"]) == 2
    for heading in ("## Targets", "## 1. raw -> silver", "## 2.", "## 3.", "## 4.", "## 5.", "## 6."):
        assert heading in text
    assert "load average" in text
