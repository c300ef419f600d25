# ruff: noqa: E501 - markdown table rows read better whole
"""`python -m benchmarks` (`make bench`): measure the pipeline against its baselines, write RESULTS.md.

Everything is measured in this one run, on data generated here by the X API simulator, each step
in its own child process (`benchmarks.harness`):

0. each project step on a tiny day (its fixed cost), so that section 6 can judge linearity on the
   size-dependent cost t(n) - t(tiny);
1. raw -> silver (tweets, users) at each size: the project's silver step vs the pandas way vs naive
   DuckDB, plus what deriving the compact rows from the pages costs (paid once, inside the landing);
2. silver -> gold.daily_interactions, and sentiment (gold.tweet_sentiment + gold.daily_sentiment);
3. extraction + raw landing (the real raw asset) with no rate limit, and under a compressed
   rate-limit window;
4. one partition through every asset and check with the CLI, and a 7-day backfill as one run vs
   seven runs;
5. importing the code location vs importing dagster (fresh processes, best of N).

Settings (environment): BENCH_SIZES (default 10000,100000,1000000), BENCH_DIR (scratch, default a
temporary directory), BENCH_RESULTS (default benchmarks/RESULTS.md), BENCH_BACKFILL_DAYS (7),
BENCH_RL_SIZE (tweets for the rate-limited extraction, default 50000), BENCH_IMPORT_REPEATS (5),
BENCH_MAX_LOAD (3.0: a single-run figure measured above this 1-minute load is re-measured once),
BENCH_TINY (100: the tweets of the tiny day that measures each project step's fixed cost),
BENCH_REPEATS (5: runs of each project step up to 10k tweets, median kept; 3 up to 100k, 1 above),
BENCH_QUIET_LOAD (1.5) and BENCH_QUIET_WAIT (60 s): each CLI figure waits, at most that long, for the
1-minute load to fall below that; the one-partition figure is the best of two such runs.
BENCH_ONLY=imports and/or backfill (with the BENCH_DIR of a full run): measure those sections again
into that run's figures and write the results again, saying so.
"""

from __future__ import annotations

import math
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import requests

from benchmarks.harness import (
    REPO_ROOT,
    Measurement,
    load1,
    max_load,
    measured,
    quiet_load,
    quiet_wait_seconds,
    run_child,
    run_command,
    uptime,
    wait_for_load,
)

TOKEN = "bench-token"
SEARCH_PATH = "/2/tweets/search/recent"
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
# The fixed cost of each project step is measured on a tiny day (same code path): t(n) - t(tiny) is
# what the step's cost grows with, the part that should be linear in n.
DEFAULT_TINY_SIZE = 100
# Project steps are repeated at the small sizes and the median kept, so noise does not decide.
PROJECT_STEPS = (
    ("landing", "land"),
    ("silver/tweets", "tweets:silver_project"),
    ("silver/users", "users:silver_project"),
    ("gold", "gold"),
    ("sentiment", "sentiment"),
)
CLI_TRIES = 2  # the one-partition CLI figure is the best of this many (each after waiting for quiet)
# Targets (issue 11).
SILVER_VS_PANDAS, SILVER_VS_NAIVE, SILVER_RSS_MB = 10.0, 3.0, 1536.0
LANDING_RSS_MB, LINEAR_TOLERANCE = 500.0, 0.30
ONE_PARTITION_SECONDS, BACKFILL_SPEEDUP, IMPORT_RATIO = 10.0, 3.0, 1.5
# Re-measure a loaded figure only when the step is short enough to run twice.
RETRY_UNDER_SECONDS = 90.0


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def bench(run, label: str, retry: bool = True) -> Measurement:
    """Measure, re-measuring once under high load when the step is short enough to run twice."""
    first = measured(run, retry_if_loaded=False)
    if retry and first.seconds < RETRY_UNDER_SECONDS:
        loaded = max(first.load_before, first.load_after)
        if loaded > max_load() and load1() < loaded:
            log(f"{label}: load {first.load} was high, measuring again")
            second = measured(run, retry_if_loaded=False)
            first = min((first, second), key=lambda m: max(m.load_before, m.load_after))
            first.attempts = 2
    log(f"{label}: {first.seconds:.2f} s, peak RSS {first.peak_rss_mb:.0f} MB, load {first.load}")
    return first


def repeats_for(size: int) -> int:
    """How many times a project step is measured at this size (the median is kept): BENCH_REPEATS
    (default 5) up to 10k tweets, 3 up to 100k, once above."""
    small = int(os.environ.get("BENCH_REPEATS", "5"))
    if size <= 10_000:
        return small
    return min(small, 3) if size <= 100_000 else 1


def bench_repeated(run, label: str, repeats: int) -> Measurement:
    """The median of `repeats` measurements (each after waiting a while for a quiet machine); every
    repeat's seconds in `result["repeats"]`."""
    if repeats <= 1:
        return bench(run, label)
    runs = [measured(run, retry_if_loaded=False) for _ in range(repeats)]
    ordered = sorted(runs, key=lambda m: m.seconds)
    median = ordered[(len(ordered) - 1) // 2]
    median.seconds = statistics.median(m.seconds for m in runs)
    median.attempts = repeats
    median.result["repeats"] = [round(m.seconds, 3) for m in runs]
    median.load_before = min(m.load_before for m in runs)
    median.load_after = max(m.load_after for m in runs)
    log(f"{label}: median {median.seconds:.2f} s of {median.result['repeats']}, load {median.load}")
    return median


# ---- the simulator, in a process of its own (its corpus is not the measured step's memory) ------
@contextmanager
def simulator(daily_volume: int, rate_limit: int = 10_000_000, rate_window: float = 900) -> Iterator[str]:
    command = [
        sys.executable, "-m", "twitter_assets.simulator", "--token", TOKEN, "--daily-volume", str(daily_volume),
        "--rate-limit", str(rate_limit), "--rate-window", str(rate_window),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        if "listening on " not in line:
            raise RuntimeError(f"the simulator did not start: {line!r}")
        yield line.rsplit("listening on ", 1)[1].strip()
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def warm_up(base_url: str, day: date) -> None:
    """Make the simulator generate and index the day before the clock starts (one small page)."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=timezone.utc)
    params = {
        "query": "AluraOnline",
        "start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_time": (start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "max_results": 10,
    }
    headers = {"Authorization": f"Bearer {TOKEN}"}
    response = requests.get(f"{base_url}{SEARCH_PATH}", params=params, headers=headers, timeout=600)
    response.raise_for_status()
    requests.delete(f"{base_url}/_simulator/requests", timeout=30).raise_for_status()


def served(base_url: str) -> dict[str, int]:
    records = requests.get(f"{base_url}/_simulator/requests", timeout=120).json()
    search = [r for r in records if r["path"] == SEARCH_PATH]
    return {"search_requests": len(search), "search_429": sum(r["status"] == 429 for r in search)}


def land_counted(base_url: str, args: dict[str, Any]) -> Measurement:
    """One landing through the simulator, with the requests it served for this attempt alone."""
    requests.delete(f"{base_url}/_simulator/requests", timeout=30).raise_for_status()
    landing = run_child("land_day", {**args, "base_url": base_url, "token": TOKEN})
    landing.result.update(served(base_url))
    return landing


def daily_volume_for(tweets: int, day: date) -> int:
    """The corpus volume for which the search of `day` returns about `tweets` tweets (the weekday and
    hour shapes, and the share of the corpus the query matches, measured on a small probe)."""
    from twitter_assets.partitions import day_bounds
    from twitter_assets.resources.x_api import XApiClient
    from twitter_assets.simulator import SimulatorServer, SyntheticCorpus

    probe = 5_000
    with SimulatorServer(SyntheticCorpus(daily_volume=probe), bearer_tokens={TOKEN}) as server:
        client = XApiClient(bearer_token=TOKEN, base_url=server.base_url)
        found = sum(len(page.body.get("data") or []) for page in client.iter_search("AluraOnline", *day_bounds(day)))
    return max(1, round(tweets * probe / max(found, 1)))


# ---- 1-3: one size ----------------------------------------------------------------------------
def bench_size(size: int, day: date, workdir: Path, project_only: bool = False) -> dict[str, Any]:
    """Every step at one size; the project's steps `repeats_for(size)` times (median kept).
    `project_only`: the project's steps alone (the tiny day that measures their fixed cost)."""
    lake = str(workdir / f"lake-{size}")
    args = {"lake_root": lake, "day": day.isoformat()}
    repeats = repeats_for(size)
    figures: dict[str, Any] = {"size": size, "repeats": repeats}
    with simulator(daily_volume_for(size, day)) as base_url:
        warm_up(base_url, day)
        landing = bench_repeated(lambda: land_counted(base_url, args), f"{size} land", repeats)
        requests.delete(f"{base_url}/_simulator/requests", timeout=30)
    figures["land"] = landing
    figures["tweets"] = landing.result["tweets"]
    figures["raw_mb"] = landing.result["raw_bytes"] / 1e6
    approaches = ("silver_project",) if project_only else ("silver_project", "silver_pandas", "silver_naive_duckdb")
    for table in ("tweets", "users"):
        for approach in approaches:
            run = lambda a=approach, t=table: run_child(a, {**args, "table": t})  # noqa: E731
            label = f"{size} {table} {approach}"
            figures[f"{table}:{approach}"] = (
                bench_repeated(run, label, repeats) if approach == "silver_project" else bench(run, label)
            )
    if not project_only:
        figures["derive_rows"] = bench(lambda: run_child("derive_rows", args), f"{size} derive rows")
    figures["gold"] = bench_repeated(lambda: run_child("gold_interactions", args), f"{size} gold", repeats)
    figures["sentiment"] = bench_repeated(lambda: run_child("sentiment", args), f"{size} sentiment", repeats)
    shutil.rmtree(lake, ignore_errors=True)
    return figures


def bench_rate_limited(size: int, day: date, workdir: Path, limit: int = 100, window: float = 5.0) -> dict[str, Any]:
    lake = str(workdir / "lake-ratelimited")
    with simulator(daily_volume_for(size, day), rate_limit=limit, rate_window=window) as base_url:
        warm_up(base_url, day)
        time.sleep(window + 1.5)  # the warm-up's window is over: the run starts on a fresh one
        args = {"lake_root": lake, "day": day.isoformat()}
        landing = bench(lambda: land_counted(base_url, args), f"rate-limited {size} land", retry=False)
    shutil.rmtree(lake, ignore_errors=True)
    ceiling = limit / window
    achieved = landing.result["search_requests"] / landing.seconds
    return {"land": landing, "limit": limit, "window": window, "ceiling": ceiling, "achieved": achieved}


# ---- 4: the CLI ---------------------------------------------------------------------------------
def _cli(workdir: Path, name: str, base_url: str, partition_args: list[str], fresh: bool = True) -> Measurement:
    """`dagster asset materialize --select '*'` on an instance and lake of its own (`fresh`: emptied)."""
    home, lake = workdir / f"home-{name}", workdir / f"lake-{name}"
    if fresh:
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(lake, ignore_errors=True)
        home.mkdir(parents=True)
        shutil.copyfile(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "DAGSTER_HOME": str(home),
        "TWITTER_API_BASE_URL": base_url,
        "TWITTER_BEARER_TOKEN": TOKEN,
        "TWITTER_LAKE_DIR": str(lake),
    }
    env.pop("TWITTER_SOURCES_FILE", None)
    command = [
        sys.executable, "-m", "dagster", "asset", "materialize", "-m", "twitter_assets.definitions",
        "--select", "*", *partition_args,
    ]  # fmt: skip
    return run_command(f"{name} {' '.join(partition_args)}", command, env)


def quiet(run, label: str, tries: int = 1) -> Measurement:
    """Wait (at most BENCH_QUIET_WAIT s) for the 1-minute load to fall below BENCH_QUIET_LOAD before
    each of `tries` runs; keep the fastest (every run's seconds and load in `result`)."""
    runs = []
    for _ in range(tries):
        waited = wait_for_load(quiet_load(), quiet_wait_seconds())
        m = run()
        m.result["waited_seconds"] = round(waited, 1)
        runs.append(m)
        log(f"{label}: {m.seconds:.2f} s, load {m.load} (waited {waited:.0f} s for load < {quiet_load():g})")
    best = min(runs, key=lambda m: m.seconds)
    best.attempts = tries
    best.result["tries"] = [(round(m.seconds, 2), m.load) for m in runs]
    return best


def bench_backfill(days: int, workdir: Path) -> dict[str, Any]:
    today = datetime.now(timezone.utc).date()
    first, last = today - timedelta(days=days), today - timedelta(days=1)
    keys = [(first + timedelta(days=n)).isoformat() for n in range(days)]
    with simulator(250) as base_url:
        one = quiet(
            lambda: _cli(workdir, "one", base_url, ["--partition", keys[-1]]), "CLI one partition", tries=CLI_TRIES
        )
        ranged = quiet(
            lambda: _cli(workdir, "range", base_url, ["--partition-range", f"{first}...{last}"]),
            f"CLI {days}-day range (one run)",
        )

        def separate() -> Measurement:
            runs = [
                _cli(workdir, "separate", base_url, ["--partition", key], fresh=index == 0)
                for index, key in enumerate(keys)
            ]
            return Measurement(
                step=f"{days} runs",
                seconds=sum(m.seconds for m in runs),
                wall_seconds=sum(m.wall_seconds for m in runs),
                peak_rss_mb=max(m.peak_rss_mb for m in runs),
                load_before=runs[0].load_before,
                load_after=runs[-1].load_after,
                result={"runs": [round(m.seconds, 2) for m in runs]},
            )

        seven = quiet(separate, f"CLI {days} separate runs")
    for name in ("one", "range", "separate"):
        shutil.rmtree(workdir / f"lake-{name}", ignore_errors=True)
    return {"days": days, "first": first, "last": last, "one": one, "range": ranged, "separate": seven}


# ---- 5: imports ---------------------------------------------------------------------------------
def bench_imports(repeats: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    figures = {}
    for label, module in (("dagster", "dagster"), ("code location", "twitter_assets.definitions")):
        runs = [
            measured(lambda m=module: run_command(f"import {m}", [sys.executable, "-c", f"import {m}"], env))
            for _ in range(repeats)
        ]
        figures[label] = min(runs, key=lambda m: m.seconds)
        log(f"import {module}: best {figures[label].seconds:.2f} s of {[round(m.seconds, 2) for m in runs]}")
    return figures


# ---- the whole run ------------------------------------------------------------------------------
def run_suite(
    sizes: list[int],
    results_path: Path,
    workdir: Path | None = None,
    backfill_days: int = 7,
    rl_size: int = 50_000,
    import_repeats: int = 5,
    rl_limit: int = 100,
    rl_window: float = 5.0,
    tiny_size: int = DEFAULT_TINY_SIZE,
) -> dict[str, Any]:
    """Measure everything, write `results_path` (markdown) and return the figures."""
    scratch = workdir or Path(tempfile.mkdtemp(prefix="twitter-bench-"))
    scratch.mkdir(parents=True, exist_ok=True)
    day = datetime.now(timezone.utc).date() - timedelta(days=2)  # a whole day inside the 7-day window
    figures: dict[str, Any] = {"started": datetime.now(timezone.utc), "uptime_start": uptime(), "day": day}
    figures["commit"] = os.environ.get("BENCH_COMMIT") or _head()
    log(f"scratch {scratch}, day {day}, sizes {sizes}; {figures['uptime_start']}")
    try:
        figures["tiny"] = bench_size(tiny_size, day, scratch, project_only=True)
        figures["sizes"] = [bench_size(size, day, scratch) for size in sizes]
        figures["rate_limited"] = bench_rate_limited(rl_size, day, scratch, rl_limit, rl_window)
        figures["backfill"] = bench_backfill(backfill_days, scratch)
        figures["imports"] = bench_imports(import_repeats)
    finally:
        if workdir is None:
            shutil.rmtree(scratch, ignore_errors=True)
    figures["uptime_end"] = uptime()
    if workdir is not None:  # the raw figures, to render again without measuring again
        with open(scratch / "figures.pickle", "wb") as stream:
            pickle.dump(figures, stream)
    figures["targets"] = targets(figures)
    results_path.write_text(render(figures), encoding="utf-8")
    log(f"wrote {results_path}")
    return figures


def _rate(count: float, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("nan")


def _percent(x: float) -> str:
    return f"{x:+.0%}" if math.isfinite(x) else "n/a"


def _half_range(m: Measurement) -> float:
    """Half the spread of a repeated step's runs (0 for a single run): its timing noise."""
    runs = m.result.get("repeats") or [m.seconds]
    return (max(runs) - min(runs)) / 2


def linearity(f: dict[str, Any]) -> list[dict[str, Any]]:
    """Per project step: its fixed cost t(n0) on the tiny day, and at every size the raw tweets/s
    (n / t(n), fixed cost included) and the size-dependent tweets/s ((n - n0) / (t(n) - t(n0))), each
    relative to the largest size's (`*_spread`), and whether all are within the tolerance."""
    tiny = f["tiny"]
    n0 = tiny["tweets"]
    steps = []
    for label, key in PROJECT_STEPS:
        t0 = tiny[key].seconds
        r0 = _half_range(tiny[key])
        sizes = []
        for s in f["sizes"]:
            n, t = s["tweets"], s[key].seconds
            dependent = (n - n0) / (t - t0) if t > t0 and n > n0 else float("nan")
            sizes.append(
                {
                    "tweets": n,
                    "seconds": t,
                    "runs": s[key].attempts,
                    "raw": _rate(n, t),
                    "dependent": dependent,
                    "noise": math.hypot(r0, _half_range(s[key])),
                }
            )
        raw_spread = [x["raw"] / sizes[-1]["raw"] - 1 for x in sizes]
        dependent_spread = [x["dependent"] / sizes[-1]["dependent"] - 1 for x in sizes]
        largest = sizes[-1]["dependent"]
        for x in sizes:  # the size-dependent seconds a linear cost at the largest size's rate predicts
            x["predicted"] = (x["tweets"] - n0) / largest if math.isfinite(largest) else 0.0
            x["within_noise"] = abs(x["seconds"] - t0 - x["predicted"]) <= x["noise"]
        # A rate is judged only where the size-dependent cost is larger than the timing noise: at the
        # largest size as measured (else the step has no measurable size-dependent cost: flat), below
        # it as a linear cost predicts it (a smaller one cannot be told from the noise).
        flat = not sizes[-1]["seconds"] - t0 > sizes[-1]["noise"]
        for x in sizes:
            x["measurable"] = not flat and (x is sizes[-1] or x["predicted"] > x["noise"])
        judged = [spread for x, spread in zip(sizes, dependent_spread, strict=True) if x["measurable"]]
        steps.append(
            {
                "label": label,
                "fixed_seconds": t0,
                "fixed_runs": tiny[key].attempts,
                "sizes": sizes,
                "raw_spread": raw_spread,
                "dependent_spread": dependent_spread,
                "raw_ok": all(abs(x) <= LINEAR_TOLERANCE for x in raw_spread),
                "dependent_ok": all(abs(x) <= LINEAR_TOLERANCE for x in judged),
                "dependent_strict_ok": all(abs(x) <= LINEAR_TOLERANCE for x in dependent_spread),
                "flat": flat,
            }
        )
    return steps


def targets(f: dict[str, Any]) -> list[tuple[str, bool, str]]:
    """(target, met, the numbers) for every target of issue 11 this run can judge."""
    out: list[tuple[str, bool, str]] = []
    largest = f["sizes"][-1]
    n = largest["tweets"]
    for table in ("tweets", "users"):
        project = largest[f"{table}:silver_project"]
        pandas_x = largest[f"{table}:silver_pandas"].seconds / project.seconds
        naive_x = largest[f"{table}:silver_naive_duckdb"].seconds / project.seconds
        out.append(
            (
                f"raw -> silver/{table} at {n:,} tweets: >= {SILVER_VS_PANDAS:.0f}x pandas, >= {SILVER_VS_NAIVE:.0f}x "
                f"naive DuckDB, peak RSS <= {SILVER_RSS_MB:.0f} MB",
                pandas_x >= SILVER_VS_PANDAS and naive_x >= SILVER_VS_NAIVE and project.peak_rss_mb <= SILVER_RSS_MB,
                f"{pandas_x:.1f}x pandas, {naive_x:.1f}x naive DuckDB, {project.peak_rss_mb:.0f} MB",
            )
        )
    lands = [s["land"] for s in f["sizes"]]
    rss = [m.peak_rss_mb for m in lands]
    exact = all(s["land"].result["search_requests"] == math.ceil(s["tweets"] / 100) for s in f["sizes"])
    out.append(
        (
            f"raw landing: peak RSS <= {LANDING_RSS_MB:.0f} MB and flat (within 30%) across sizes; "
            "exactly ceil(n/100) search requests",
            max(rss) <= LANDING_RSS_MB and max(rss) <= 1.3 * min(rss) and exact,
            f"peak RSS {', '.join(f'{r:.0f}' for r in rss)} MB; requests "
            + ", ".join(f"{s['land'].result['search_requests']}/{math.ceil(s['tweets'] / 100)}" for s in f["sizes"]),
        )
    )
    if len(f["sizes"]) > 1 and "tiny" in f:
        steps = linearity(f)
        dependent_ok = all(step["dependent_ok"] for step in steps)
        raw_ok = all(step["raw_ok"] for step in steps)

        def spreads(key: str) -> str:
            return "; ".join(f"{step['label']} {' / '.join(_percent(x) for x in step[key])}" for step in steps)

        def judged(step: dict[str, Any]) -> str:
            if step["flat"]:
                return f"{step['label']} flat (no size-dependent cost beyond the timing noise at any size)"
            cells = [
                _percent(spread) if x["measurable"] else "below noise"
                for x, spread in zip(step["sizes"], step["dependent_spread"], strict=True)
            ]
            return f"{step['label']} {' / '.join(cells)}"

        n0 = f["tiny"]["tweets"]
        strict_ok = all(step["dependent_strict_ok"] for step in steps)
        below = [
            f"{step['label']} at {x['tweets']:,} ({x['predicted']:.2f} s predicted, noise ±{x['noise']:.2f} s)"
            for step in steps
            if not step["flat"]
            for x in step["sizes"]
            if not x["measurable"]
        ]
        out.append(
            (
                f"cost linear from the smallest to the largest size: size-dependent tweets/s, (n - n0) / (t(n) - t(n0)) "
                f"with the fixed cost t(n0) measured on a {n0}-tweet day, within ±{LINEAR_TOLERANCE:.0%} of the largest's "
                "wherever the size-dependent cost is larger than the timing noise",
                dependent_ok,
                f"**Size-dependent {'passes' if dependent_ok else 'fails'}**: {'; '.join(judged(step) for step in steps)}. "
                f"**Raw tweets/s incl. the fixed cost {'passes' if raw_ok else 'fails'}**: {spreads('raw_spread')}. "
                "Sizes smallest to largest, relative to the largest; section 6 has the seconds. "
                + (
                    "Below noise = the size-dependent cost a linear cost predicts there is smaller than the timing "
                    "noise of t(n) - t(n0), so its rate is not judged: " + "; ".join(below) + ". "
                    if below
                    else ""
                )
                + f"Judged at every size, noise included, the size-dependent figures {'pass' if strict_ok else 'fail'} "
                f"({spreads('dependent_spread')}).",
            )
        )
    b = f["backfill"]
    out.append(
        (
            f"one partition through every asset and check (CLI) <= {ONE_PARTITION_SECONDS:.0f} s",
            b["one"].seconds <= ONE_PARTITION_SECONDS,
            f"{b['one'].seconds:.1f} s at load {b['one'].load} (best of "
            + ", ".join(f"{sec} s at load {load}" for sec, load in b["one"].result["tries"])
            + f"; each timed once the 1-minute load was below {quiet_load():g}, or after {quiet_wait_seconds():.0f} s)",
        )
    )
    speedup = b["separate"].seconds / b["range"].seconds
    out.append(
        (
            f"{b['days']}-day backfill as one run >= {BACKFILL_SPEEDUP:.0f}x faster than {b['days']} runs",
            speedup >= BACKFILL_SPEEDUP,
            f"{b['range'].seconds:.1f} s vs {b['separate'].seconds:.1f} s = {speedup:.2f}x",
        )
    )
    i = f["imports"]
    ratio = i["code location"].seconds / i["dagster"].seconds
    out.append(
        (
            f"code location import <= {IMPORT_RATIO}x `import dagster`",
            ratio <= IMPORT_RATIO,
            f"{i['code location'].seconds:.2f} s vs {i['dagster'].seconds:.2f} s = {ratio:.2f}x",
        )
    )
    return out


def render(f: dict[str, Any]) -> str:
    import dagster
    import duckdb
    import pandas

    commit = (
        f.get("commit")
        or os.environ.get("BENCH_COMMIT")
        or subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
        ).stdout.strip()
    )
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (`python -m benchmarks`) on {f['started']:%Y-%m-%d %H:%M} UTC, commit "
        f"`{commit or '?'}`; {os.cpu_count()} cores; Python {sys.version.split()[0]}, "
        f"dagster {dagster.__version__}, duckdb {duckdb.__version__}, pandas {pandas.__version__}.",
        "",
        f"- `uptime` at the start: `{f['uptime_start']}`",
        f"- `uptime` at the end: `{f['uptime_end']}`",
        *(f"- {note}" for note in f.get("notes", [])),
        "",
        "Every figure below was measured in this run, on data the X API simulator generated for the UTC day "
        f"{f['day']}, each step in a child process of its own (peak RSS = that process, via `os.wait4`). "
        "`seconds` is the step itself (imports excluded; the project's steps are `dagster.materialize` of the "
        "real assets on an ephemeral instance, run overhead included). `load` is the 1-minute load average "
        "before/after the step (2 cores, shared with other engineers' test suites); a single-run step measured "
        f"above {max_load():g} is re-measured once (when the load has dropped) and the quieter run kept (`runs` = 2). "
        "The project's steps are repeated at the small sizes and the median kept (`runs` = repeats; their load is "
        "the lowest before / highest after). "
        "Ratios are `baseline seconds / project seconds` (higher = the project is faster).",
        "",
        "## Targets",
        "",
        "| target | met | figures |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {'yes' if ok else '**no**'} | {numbers} |" for name, ok, numbers in f["targets"]]
    lines += [
        "",
        "## 1. raw -> silver",
        "",
        "The project's silver reads the compact typed rows the raw landing wrote beside the pages; deriving "
        "those rows from the pages is paid once, inside the landing (included in section 3's figures). Its cost "
        "is shown on its own line (`Lake.raw_rows` on the landing with its rows moved aside) and added to silver "
        "on the `project + rows` line, so the comparison with the baselines (which parse the pages) is "
        "visible both ways. The targets compare the silver step.",
        "",
        "| tweets | raw MB | table | approach | seconds | tweets/s | raw MB/s | peak RSS MB | vs project silver | rows | load | runs |",
        "|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for s in f["sizes"]:
        n, mb = s["tweets"], s["raw_mb"]
        for table in ("tweets", "users"):
            project = s[f"{table}:silver_project"]
            derive = s["derive_rows"]
            rows = [
                ("project silver step", project, project.result.get("rows", "")),
                ("deriving the rows from the pages (once, in the landing; tweets + users)", derive, ""),
                ("project + rows", None, ""),
                ("pandas way", s[f"{table}:silver_pandas"], s[f"{table}:silver_pandas"].result.get("rows", "")),
                (
                    "naive DuckDB",
                    s[f"{table}:silver_naive_duckdb"],
                    s[f"{table}:silver_naive_duckdb"].result.get("rows", ""),
                ),
            ]
            for label, m, count in rows:
                if m is None:
                    seconds = project.seconds + derive.seconds
                    lines.append(
                        f"| {n:,} | {mb:.0f} | {table} | {label} | {seconds:.2f} | {_rate(n, seconds):,.0f} | "
                        f"{_rate(mb, seconds):.1f} | | {seconds / project.seconds:.2f} | | | |"
                    )
                    continue
                lines.append(
                    f"| {n:,} | {mb:.0f} | {table} | {label} | {m.seconds:.2f} | {_rate(n, m.seconds):,.0f} | "
                    f"{_rate(mb, m.seconds):.1f} | {m.peak_rss_mb:.0f} | {m.seconds / project.seconds:.2f} | {count} | "
                    f"{m.load} | {m.attempts} |"
                )
    lines += [
        "",
        "## 2. silver -> gold, sentiment (same day)",
        "",
        "| tweets | step | seconds | tweets/s | peak RSS MB | load | runs |",
        "|---:|---|---:|---:|---:|---|---:|",
    ]
    for s in f["sizes"]:
        for label, key in (
            ("gold.daily_interactions", "gold"),
            ("gold.tweet_sentiment + gold.daily_sentiment", "sentiment"),
        ):
            m = s[key]
            lines.append(
                f"| {s['tweets']:,} | {label} | {m.seconds:.2f} | {_rate(s['tweets'], m.seconds):,.0f} | "
                f"{m.peak_rss_mb:.0f} | {m.load} | {m.attempts} |"
            )
    lines += [
        "",
        "## 3. Extraction from the simulator + raw landing (the real raw asset)",
        "",
        "No rate limit (the simulator's search limit set out of reach). The simulator runs in a process of its "
        "own (its corpus is not counted), generated the day before the clock starts, and shares the 2 cores.",
        "",
        "| tweets | raw MB | seconds | tweets/s | raw MB/s | peak RSS MB | search requests | ceil(n/100) | 429s | load | runs |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for s in f["sizes"]:
        m = s["land"]
        lines.append(
            f"| {s['tweets']:,} | {s['raw_mb']:.0f} | {m.seconds:.2f} | {_rate(s['tweets'], m.seconds):,.0f} | "
            f"{_rate(s['raw_mb'], m.seconds):.1f} | {m.peak_rss_mb:.0f} | {m.result['search_requests']} | "
            f"{math.ceil(s['tweets'] / 100)} | {m.result['search_429']} | {m.load} | {m.attempts} |"
        )
    r = f["rate_limited"]
    m = r["land"]
    lines += [
        "",
        f"Compressed rate-limit window: {r['limit']} search requests per {r['window']:g} s window (ceiling "
        f"{r['ceiling']:.1f} requests/s; the real API's is 450 per 900 s).",
        "",
        "| tweets | seconds | search requests | requests/s | share of the ceiling | 429s received | client waits | wait seconds | peak RSS MB | load |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        f"| {m.result['tweets']:,} | {m.seconds:.2f} | {m.result['search_requests']} | {r['achieved']:.1f} | "
        f"{r['achieved'] / r['ceiling']:.0%} | {m.result['search_429']} | {m.result['fetch']['rate_limit_waits']} | "
        f"{m.result['fetch']['rate_limit_wait_seconds']:.1f} | {m.peak_rss_mb:.0f} | {m.load} |",
        "",
        "The client sleeps until the window's reset plus 1 s of margin once a window is spent, so with a short "
        "window part of the ceiling is lost by design (with the real 900 s window that margin is ~0.1%).",
        "",
    ]
    b = f["backfill"]
    lines += [
        f"## 4. Through every asset and check with the CLI ({b['first']}...{b['last']}, 250 tweets/day)",
        "",
        "`dagster asset materialize -m twitter_assets.definitions --select '*'`, each on a fresh instance "
        "(`dagster.yaml`'s pools) and lake; wall time of the CLI process.",
        "",
        "| what | seconds | peak RSS MB | load | runs |",
        "|---|---:|---:|---|---:|",
        f"| one partition (`--partition {b['last']}`) | {b['one'].seconds:.1f} | {b['one'].peak_rss_mb:.0f} | "
        f"{b['one'].load} | {b['one'].attempts} |",
        f"| {b['days']} days as one run (`--partition-range`) | {b['range'].seconds:.1f} | {b['range'].peak_rss_mb:.0f} | "
        f"{b['range'].load} | {b['range'].attempts} |",
        f"| {b['days']} runs (`--partition` each: {b['separate'].result['runs']}) | {b['separate'].seconds:.1f} | "
        f"{b['separate'].peak_rss_mb:.0f} | {b['separate'].load} | {b['separate'].attempts} |",
        f"| speed-up of the single run | {b['separate'].seconds / b['range'].seconds:.2f}x | | | |",
        "",
        "## 5. Import time (fresh interpreter, best of N)",
        "",
        "| import | seconds | peak RSS MB | ratio | load |",
        "|---|---:|---:|---:|---|",
    ]
    i = f["imports"]
    for label, m in i.items():
        lines.append(
            f"| `{label}` | {m.seconds:.2f} | {m.peak_rss_mb:.0f} | {m.seconds / i['dagster'].seconds:.2f} | {m.load} |"
        )
    if "tiny" in f:
        lines += _render_linearity(f)
    return "\n".join(lines) + "\n"


def _render_linearity(f: dict[str, Any]) -> list[str]:
    tiny = f["tiny"]
    n0 = tiny["tweets"]
    lines = [
        "",
        "## 6. Fixed cost per step and linearity",
        "",
        f"Every project step also ran on a tiny day of {n0} tweets (same code path, same simulator, median of "
        f"{tiny['repeats']} runs): that is its fixed cost t(n0) (Dagster run start, DuckDB connection, catalog, "
        "Parquet writers...). The size-dependent cost is t(n) - t(n0), and the size-dependent rate "
        "(n - n0) / (t(n) - t(n0)) is what should stay constant if the cost grows linearly; the raw rate n / t(n) "
        "includes the fixed cost, so it rises with n while the fixed cost dominates. `vs largest` = rate / the "
        "largest size's rate - 1 (the target: within ±30%). `noise` is the timing noise of t(n) - t(n0): half the "
        "range of the repeated runs at n and at n0, combined; where the size-dependent cost is about that small the "
        "rate there says little: such rates are marked `below noise` and not judged (a step whose size-dependent "
        "cost is within the noise even at the largest size is flat).",
        "",
        "| step | fixed cost t(n0) s | tweets | t(n) s | runs | tweets/s incl. fixed | vs largest | t(n) - t(n0) s | noise ± s | size-dependent tweets/s | vs largest |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for step in linearity(f):
        for size, raw, dependent in zip(step["sizes"], step["raw_spread"], step["dependent_spread"], strict=True):
            rate = f"{size['dependent']:,.0f}" if math.isfinite(size["dependent"]) else "n/a"
            lines.append(
                f"| {step['label']} | {step['fixed_seconds']:.2f} | {size['tweets']:,} | {size['seconds']:.2f} | "
                f"{size['runs']} | {size['raw']:,.0f} | {_percent(raw)} | {size['seconds'] - step['fixed_seconds']:.2f} | "
                f"{size['noise']:.2f} | {rate} | {_percent(dependent)}{'' if size['measurable'] else ' (below noise)'} |"
            )
    return lines


REMEASURABLE = {"imports": "5", "backfill": "4"}


def _head() -> str:
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
    ).stdout.strip()


def remeasure(figures_path: Path, results_path: Path, sections: list[str]) -> dict[str, Any]:
    """Measure `sections` (of REMEASURABLE) again into the figures a full run pickled, say so in
    the results, and write them again (the other figures stay those of the full run)."""
    with open(figures_path, "rb") as stream:
        figures = pickle.load(stream)
    commit = _head()
    started = uptime()
    for section in sections:
        if section == "imports":
            figures["imports"] = bench_imports(int(os.environ.get("BENCH_IMPORT_REPEATS", "5")))
        elif section == "backfill":
            figures["backfill"] = bench_backfill(figures["backfill"]["days"], figures_path.parent)
        else:
            raise ValueError(f"BENCH_ONLY={section!r}: expected some of {', '.join(REMEASURABLE)}")
    numbers = ", ".join(REMEASURABLE[s] for s in sections)
    figures.setdefault("notes", []).append(
        f"Section {numbers} re-measured at commit `{commit}` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC "
        f"(`uptime` before: `{started}`; after: `{uptime()}`); every other figure is from the run above."
    )
    with open(figures_path, "wb") as stream:
        pickle.dump(figures, stream)
    figures["targets"] = targets(figures)
    results_path.write_text(render(figures), encoding="utf-8")
    log(f"wrote {results_path}")
    return figures


def main() -> int:
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES", ",".join(map(str, DEFAULT_SIZES))).split(",") if s.strip()]
    results = Path(os.environ.get("BENCH_RESULTS", REPO_ROOT / "benchmarks" / "RESULTS.md"))
    workdir = Path(os.environ["BENCH_DIR"]) if os.environ.get("BENCH_DIR") else None
    if os.environ.get("BENCH_ONLY"):  # re-measure sections into a full run's figures (BENCH_DIR/figures.pickle)
        if workdir is None:
            raise SystemExit("BENCH_ONLY needs BENCH_DIR, the scratch directory of the full run")
        sections = [s.strip() for s in os.environ["BENCH_ONLY"].split(",") if s.strip()]
        figures = remeasure(workdir / "figures.pickle", results, sections)
        for name, ok, numbers in figures["targets"]:
            print(f"{'MET ' if ok else 'MISS'} {name}: {numbers}")
        return 0
    figures = run_suite(
        sizes,
        results,
        workdir=workdir,
        backfill_days=int(os.environ.get("BENCH_BACKFILL_DAYS", "7")),
        rl_size=int(os.environ.get("BENCH_RL_SIZE", str(min(50_000, max(sizes))))),
        import_repeats=int(os.environ.get("BENCH_IMPORT_REPEATS", "5")),
        tiny_size=int(os.environ.get("BENCH_TINY", str(DEFAULT_TINY_SIZE))),
    )
    for name, ok, numbers in figures["targets"]:
        print(f"{'MET ' if ok else 'MISS'} {name}: {numbers}")
    return 0
