"""The same code on Dagster's own integrations: instance on PostgreSQL, runs through the
QueuedRunCoordinator and the daemon, steps on two Celery workers over Redis. The 7-day, 2-source
backfill must pass every check and give the same silver and gold rows as the embedded default;
losing a worker mid-step must still end with exact tables."""

from __future__ import annotations

import json
import shutil
import time
from datetime import datetime
from pathlib import Path

import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus

from twitter_assets.checks.report import failed_evaluations, run_check_evaluations
from twitter_assets.lake import Lake
from twitter_assets_tests.distributed import harness
from twitter_assets_tests.distributed.conftest import WORKERS, find_run, wait_for_run, write_figures

pytestmark = [pytest.mark.distributed, pytest.mark.timeout(900)]  # the setup may first wait ~6 min (clock.py)

SEARCH_PATH = "/2/tweets/search/recent"


# ---- reading the lakes and the event log --------------------------------------------------------
def clamped_days(*lakes: str) -> set[str]:
    """Days whose fetch was clamped to the moving 7-day API window in any lake: their content
    depends on when the run happened, so they cannot be compared across runs minutes apart."""
    days: set[str] = set()
    for root in lakes:
        with Lake(root=root).connect() as db:
            found = db.execute("SELECT DISTINCT day FROM silver.source_days WHERE clamped").fetchall()
            days |= {str(day) for (day,) in found}
    return days


def comparable_tables(root: str, skip_days: set[str]) -> dict[str, list[tuple]]:
    skip = sorted(skip_days) or ["0001-01-01"]
    with Lake(root=root).connect() as db:

        def rows(sql: str) -> list[tuple]:
            return db.execute(sql, [skip]).fetchall()

        return {
            "gold.daily_interactions": rows(
                "SELECT * FROM gold.daily_interactions WHERE NOT list_contains(?, CAST(day AS VARCHAR)) "
                "ORDER BY source, day"
            ),
            "silver.tweets": rows(
                "SELECT * FROM silver.tweets WHERE NOT list_contains(?, CAST(day AS VARCHAR)) ORDER BY source, tweet_id"
            ),
            "silver.users": rows(
                "SELECT user_id, username, name, created_at FROM silver.users WHERE user_id IN ("
                " SELECT author_id FROM silver.tweets WHERE NOT list_contains(?, CAST(day AS VARCHAR)))"
                " ORDER BY user_id"
            ),
            "silver.source_days": rows(
                "SELECT source, day, query, account_username, account_user_id, window_start, window_end, clamped, "
                "raw_pages, raw_tweets FROM silver.source_days WHERE NOT list_contains(?, CAST(day AS VARCHAR)) "
                "ORDER BY source, day"
            ),
        }


def assert_same_tables(distributed_lake: str, embedded_lake: str) -> None:
    skip = clamped_days(distributed_lake, embedded_lake)
    assert len(skip) <= 1, f"more than the oldest day was clamped: {skip}"
    ours, reference = comparable_tables(distributed_lake, skip), comparable_tables(embedded_lake, skip)
    for table in reference:
        assert reference[table], f"{table} is empty in the embedded lake: nothing was compared"
        assert ours[table] == reference[table], f"{table} differs from the embedded default"
    with Lake(root=distributed_lake).connect() as db:  # the clamped day was landed and checked too
        assert db.execute("SELECT count(DISTINCT day) FROM gold.daily_interactions").fetchone() == (7,)


def step_workers(instance: DagsterInstance, run_id: str) -> list[tuple[str, str]]:
    """(step key, worker name) for every step a Celery worker took, in order. The celery task logs
    the engine event "Executing steps <key> in celery worker" with metadata `Celery worker` =
    the worker's node name (`worker1@<host>`, from `celery.Task.request.hostname`)."""
    taken = []
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        event = entry.dagster_event
        metadata = event.engine_event_data.metadata if event and event.engine_event_data else {}
        if "Celery worker" not in metadata:
            continue
        hostname = metadata["Celery worker"].value
        taken.append((event.step_key, str(hostname).split("@", 1)[0]))
    return taken


def step_intervals(instance: DagsterInstance, run_id: str, prefix: str) -> list[tuple[float, float, str]]:
    starts: dict[str, float] = {}
    intervals = []
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if not event or not event.step_key or not event.step_key.startswith(prefix):
            continue
        if event.event_type == DagsterEventType.STEP_START:
            starts[event.step_key] = entry.timestamp
        elif event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            intervals.append((starts[event.step_key], entry.timestamp, event.step_key))
    return intervals


# ---- the backfill ---------------------------------------------------------------------------------
def test_distributed_backfill_passes_every_check(distributed):
    with distributed.instance() as instance:
        run = instance.get_run_by_id(distributed.runs["backfill"])
        assert run.status == DagsterRunStatus.SUCCESS
        verdicts = run_check_evaluations(instance, run.run_id)
    assert not failed_evaluations(verdicts)
    # 4 raw checks per source (2 sources), 5+2 silver, 2 gold, 4 sentiment, 3 schema-change checks and
    # gold's yesterday_landed
    assert len({(v.asset_key, v.check_name) for v in verdicts}) == 25


def test_silver_and_gold_equal_the_embedded_default(distributed, embedded):
    assert_same_tables(distributed.lake, embedded.lake)


def test_steps_ran_on_both_workers(distributed):
    with distributed.instance() as instance:
        taken = step_workers(instance, distributed.runs["backfill"])
    assert {worker for _, worker in taken} == set(WORKERS), taken
    assert len(taken) >= 15  # every asset step and every per-layer check step went through a worker


def test_pools_keep_one_api_step_at_a_time_across_workers(distributed):
    """`x_api` has one slot: the two raw steps (two sources) never overlapped, whichever worker ran them."""
    with distributed.instance() as instance:
        run_id = distributed.runs["backfill"]
        raw = sorted((start, end, key) for start, end, key in step_intervals(instance, run_id, "raw__") if
                     key in ("raw__aluraonline", "raw__python"))  # fmt: skip
    assert len(raw) == 2
    assert raw[0][1] <= raw[1][0], raw


def test_the_run_queue_holds_a_second_run_until_the_first_ends(distributed):
    """max_concurrent_runs: 1 — the second run, launched right after the backfill, waited in the queue."""
    with distributed.instance() as instance:
        first = instance.get_run_record_by_id(distributed.runs["backfill"])
        second = instance.get_run_record_by_id(distributed.runs["queued-second"])
        queued = instance.all_logs(second.dagster_run.run_id, of_type=DagsterEventType.PIPELINE_ENQUEUED)
    assert second.dagster_run.status == DagsterRunStatus.SUCCESS
    assert queued, "the second run did not go through the queue"
    assert second.start_time >= first.end_time, (first.end_time, second.start_time)


def test_only_the_tests_runs_ran(distributed):
    """The automation sensor is stopped in this instance: no run of its own wrote into the lake."""
    with distributed.instance() as instance:
        runs = instance.get_runs()
    assert runs and all("twitter/test" in run.tags for run in runs), [run.tags for run in runs]


def test_figures_are_written(distributed, embedded):
    figures = write_figures(embedded, distributed)
    print("\n" + json.dumps(figures, indent=2))  # noqa: T201
    assert figures["distributed"]["memory"]
    for role, values in figures["distributed"]["memory"].items():
        assert values["processes_seen"] >= 1, role


# ---- worker loss ----------------------------------------------------------------------------------
def test_losing_a_worker_mid_step_still_ends_with_exact_tables(world, distributed, embedded):
    """SIGKILL one worker (its whole process group) while it runs a raw step; the message was not
    acknowledged, so Redis hands it to the other worker after the visibility timeout. The run then
    ends; if it did not succeed, the same backfill is launched again. Either way: exact tables."""
    assert all(proc.process.poll() is None for proc in distributed.workers.values())
    # A fresh lake at the same path (the workers and the run read it from their environment).
    _empty_lake(distributed.lake)
    # The first search request of the run answers only after 20 s: the step is surely in flight.
    world.simulator.faults.push("slow", path=SEARCH_PATH, seconds=20)
    harness.launch(distributed.env, world.first, world.last, "worker-loss")
    victim, step = _wait_for_step_on_a_worker(distributed.home, "worker-loss", "raw__")
    time.sleep(1.0)  # inside the slow request
    distributed.workers[victim].kill()
    survivor = next(name for name in WORKERS if name != victim)

    run = wait_for_run(distributed.home, "worker-loss", timeout=300)
    with distributed.instance() as instance:
        taken = step_workers(instance, run.run_id)
        if run.status != DagsterRunStatus.SUCCESS:  # the re-run
            harness.launch(distributed.env, world.first, world.last, "worker-loss-rerun")
            rerun = wait_for_run(distributed.home, "worker-loss-rerun", timeout=300)
            assert rerun.status == DagsterRunStatus.SUCCESS
            verdicts = run_check_evaluations(instance, rerun.run_id)
        else:
            verdicts = run_check_evaluations(instance, run.run_id)
    print(
        f"\nworker loss: killed {victim} inside {step}; run {run.status.value}"  # noqa: T201
        + (", the lost step was redelivered" if run.status == DagsterRunStatus.SUCCESS else ", re-run launched")
    )
    assert (step, victim) in taken, "the killed worker was not the one running the step"
    assert not failed_evaluations(verdicts)
    assert_same_tables(distributed.lake, embedded.lake)
    if run.status == DagsterRunStatus.SUCCESS:  # redelivered: the survivor ran the lost step again
        assert (step, survivor) in taken, taken


def _empty_lake(root: str) -> None:
    if root.startswith("s3://"):  # every object under the prefix, with the lake's own filesystem
        lake = Lake(root=root)
        if lake.fs.exists(lake.base):
            lake.fs.rm(lake.base, recursive=True)
        assert not lake.fs.find(lake.base)
        return
    shutil.rmtree(root, ignore_errors=True)
    Path(root).mkdir(parents=True)


def _wait_for_step_on_a_worker(home: Path, label: str, prefix: str, timeout: float = 120.0) -> tuple[str, str]:
    deadline = time.monotonic() + timeout
    with DagsterInstance.from_config(str(home)) as instance:
        while time.monotonic() < deadline:
            run = find_run(instance, label)
            if run is not None:
                for step, worker in step_workers(instance, run.run_id):
                    if step.startswith(prefix):
                        return worker, step
            time.sleep(0.2)
    raise AssertionError(f"no {prefix}* step reached a worker within {timeout:.0f} s ({datetime.now()})")
