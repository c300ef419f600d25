"""The distributed deployment on one machine, started once for the module and stopped after (also
when a test fails): PostgreSQL, Redis, the moto S3 server, the X API simulator, a Dagster daemon
(queued runs) and two Celery workers; plus the same backfill on the embedded default for reference."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRun, RunsFilter

from twitter_assets.simulator import SimulatorServer, SyntheticCorpus
from twitter_assets_tests.clock import clear_of_the_window_edge
from twitter_assets_tests.distributed import harness
from twitter_assets_tests.distributed.services import Services

TOKEN = "distributed-test-token"
WORKERS = ("worker1", "worker2")
SOURCES_YAML = """\
sources:
  - {name: aluraonline, query: "AluraOnline", account: AluraOnline}
  - {name: python, query: "python"}
"""
FIGURES_PATH = harness.REPO_ROOT / "build" / "distributed-figures.json"


MODULE_DURATION = timedelta(minutes=4)  # from the first backfill to the last re-run: ~3.5 min here


def backfill_range() -> tuple[str, str]:
    """The last 7 complete UTC days (the oldest is only partly inside the API window: clamped), fetched
    again by later runs of the module, which therefore starts clear of the hour that day leaves the window."""
    today = clear_of_the_window_edge(MODULE_DURATION).date()
    return (today - timedelta(days=7)).isoformat(), (today - timedelta(days=1)).isoformat()


@dataclass
class World:
    root: Path
    services: Services
    simulator: SimulatorServer
    sources_file: Path
    first: str
    last: str

    def pipeline_env(self, home: Path, lake: str) -> dict[str, str]:
        env = harness.base_env(
            DAGSTER_HOME=str(home),
            TWITTER_API_BASE_URL=self.simulator.base_url,
            TWITTER_BEARER_TOKEN=TOKEN,
            TWITTER_LAKE_DIR=lake,
            TWITTER_SOURCES_FILE=str(self.sources_file),
            **self.services.env,
        )
        env.pop("TWITTER_EXECUTOR", None)
        return env


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    first, last = backfill_range()
    with Services(["postgres", "redis", "s3"]) as services:
        root = services.root / "work"
        root.mkdir()
        sources_file = root / "sources.yaml"
        sources_file.write_text(SOURCES_YAML)
        # This process reads the S3 lake too (comparing tables, emptying it): the same AWS_* variables.
        s3_env = {key: value for key, value in services.env.items() if key.startswith(("AWS_", "TWITTER_S3"))}
        saved = {key: os.environ.get(key) for key in s3_env}
        os.environ.update(s3_env)
        try:
            with SimulatorServer(SyntheticCorpus(), bearer_tokens={TOKEN}) as simulator:
                yield World(root, services, simulator, sources_file, first, last)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@dataclass
class Embedded:
    lake: str
    wall_seconds: float
    figures: dict


@pytest.fixture(scope="module")
def embedded(world) -> Embedded:
    """The documented CLI backfill on the default instance (SQLite) and executor (multiprocess)."""
    home = world.root / "embedded_home"
    home.mkdir()
    shutil.copyfile(harness.REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    lake = str(world.root / "embedded_lake")
    env = world.pipeline_env(home, lake)
    command = [str(harness.BIN / "dagster"), "asset", "materialize", "-m", "twitter_assets.definitions",
               "--select", "*", "--partition-range", f"{world.first}...{world.last}"]  # fmt: skip
    log = world.root / "embedded.log"
    started = time.monotonic()
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=harness.REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        run_pid = process.pid
        roles = {
            "run process (CLI, orchestrates)": harness.process_of(lambda: run_pid),
            "step subprocesses (multiprocess executor)": lambda: harness.tree(run_pid)()[1:],
        }
        with harness.MemorySampler(roles) as sampler:
            returncode = process.wait(600)
    wall = time.monotonic() - started
    assert returncode == 0, log.read_text()[-3000:]
    return Embedded(lake, wall, sampler.figures())


@dataclass
class Distributed:
    home: Path
    env: dict[str, str]
    lake: str
    workers: dict[str, harness.Proc]
    daemon: harness.Proc
    postgres_pid: int
    redis_pid: int
    runs: dict[str, str] = field(default_factory=dict)  # label -> run id
    wall_seconds: dict[str, float] = field(default_factory=dict)
    figures: dict = field(default_factory=dict)

    def instance(self) -> DagsterInstance:
        return DagsterInstance.from_config(str(self.home))

    def run(self, label: str) -> DagsterRun:
        with self.instance() as instance:
            return instance.get_run_by_id(self.runs[label])


def find_run(instance: DagsterInstance, label: str) -> DagsterRun | None:
    runs = instance.get_runs(RunsFilter(tags={"twitter/test": label}), limit=1)
    return runs[0] if runs else None


def wait_for_run(home: Path, label: str, timeout: float = 400.0) -> DagsterRun:
    deadline = time.monotonic() + timeout
    with DagsterInstance.from_config(str(home)) as instance:
        while time.monotonic() < deadline:
            run = find_run(instance, label)
            if run is not None and run.is_finished:
                return run
            time.sleep(0.5)
    raise AssertionError(f"run {label!r} did not finish within {timeout:.0f} s")


def run_start_pid(home: Path, label: str) -> int | None:
    """The pid Dagster recorded with the run's RUN_START event: the run worker process."""
    with DagsterInstance.from_config(str(home)) as instance:
        run = find_run(instance, label)
        if run is None:
            return None
        records = instance.get_records_for_run(run.run_id, of_type=DagsterEventType.RUN_START).records
        return records[0].event_log_entry.dagster_event.pid if records else None


@pytest.fixture(scope="module")
def distributed(world, embedded) -> Iterator[Distributed]:
    """Daemon + 2 Celery workers over PostgreSQL/Redis; the 7-day backfill launched through the queue,
    with a second (1-day) run queued behind it (max_concurrent_runs: 1). Starts after the embedded
    backfill has finished, so neither measurement shares the machine with the other."""
    home = world.root / "distributed_home"
    harness.write_instance(home, max_concurrent_runs=1)
    celery_yaml = harness.write_celery_config(world.root / "celery.yaml")
    lake = harness.distributed_lake_root(world.root, world.services.env, "distributed_lake")
    env = world.pipeline_env(home, lake)
    env.update(TWITTER_EXECUTOR="celery", TWITTER_CELERY_CONFIG=str(celery_yaml))
    previous = os.environ.get("DAGSTER_PG_URL")
    os.environ["DAGSTER_PG_URL"] = env["DAGSTER_PG_URL"]  # this process reads the instance too
    logs = world.root / "logs"
    logs.mkdir()
    workers: dict[str, harness.Proc] = {}
    daemon = None
    try:
        for name in WORKERS:
            workers[name] = harness.start_worker(name, celery_yaml, env, logs)
        harness.stop_automation(env)
        daemon = harness.start_daemon(env, logs)
        harness.wait_for_workers(WORKERS, workers.values())
        state = Distributed(
            home, env, lake, workers, daemon,
            postgres_pid=world.services.servers["postgres"].pid,
            redis_pid=world.services.servers["redis"].pid,
        )  # fmt: skip
        roles = {
            "run process (orchestrates, submits steps)": harness.process_of(lambda: run_start_pid(home, "backfill")),
            **{f"celery {name} (all its processes)": harness.tree(proc.pid) for name, proc in workers.items()},
            "postgresql (all backends)": harness.tree(state.postgres_pid),
            "redis": harness.tree(state.redis_pid),
        }
        with harness.MemorySampler(roles) as sampler:
            started = time.monotonic()
            harness.launch(env, world.first, world.last, "backfill")
            harness.launch(env, world.last, world.last, "queued-second")
            backfill = wait_for_run(home, "backfill")
            state.wall_seconds["backfill"] = time.monotonic() - started
        state.figures = sampler.figures()
        second = wait_for_run(home, "queued-second")
        state.runs = {"backfill": backfill.run_id, "queued-second": second.run_id}
        yield state
    finally:
        for proc in [daemon, *workers.values()]:
            if proc is not None:
                proc.stop()
        if previous is None:
            os.environ.pop("DAGSTER_PG_URL", None)
        else:
            os.environ["DAGSTER_PG_URL"] = previous


def write_figures(embedded: Embedded, distributed: Distributed) -> dict:
    figures = {
        "backfill": {"days": 7, "sources": 2, "machine_cpus": os.cpu_count()},
        "embedded": {
            "setup": "dagster asset materialize; SQLite instance; multiprocess executor; lake in a local directory",
            "wall_seconds": round(embedded.wall_seconds, 1),
            "memory": embedded.figures,
        },
        "distributed": {
            "setup": "dagster job launch -> QueuedRunCoordinator -> daemon; PostgreSQL instance; "
            "celery executor, 2 workers x 1 slot, Redis broker; lake "
            + ("on the moto S3 server (s3fs)" if distributed.lake.startswith("s3://") else "in a local directory"),
            "lake": distributed.lake.split("://", 1)[0] if "://" in distributed.lake else "local",
            "wall_seconds": round(distributed.wall_seconds["backfill"], 1),
            "memory": distributed.figures,
        },
        "method": "wall: from the command to the run's end (distributed: launch, queue, daemon, run). "
        "peak_rss_sum_mib: highest sum of RSS over the role's processes, sampled every 0.25 s; "
        "peak_rss_single_process_mib: highest VmHWM (/proc/<pid>/status) of any one of them.",
    }
    FIGURES_PATH.parent.mkdir(parents=True, exist_ok=True)
    FIGURES_PATH.write_text(json.dumps(figures, indent=2) + "\n")
    _WRITTEN.append(FIGURES_PATH)
    return figures


_WRITTEN: list[Path] = []


def pytest_terminal_summary(terminalreporter) -> None:
    if _WRITTEN:
        terminalreporter.section("distributed figures")
        terminalreporter.write_line(f"written to {FIGURES_PATH.relative_to(harness.REPO_ROOT)}")
        terminalreporter.write_line(FIGURES_PATH.read_text())
