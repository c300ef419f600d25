"""The pieces of a distributed deployment on one machine: instance YAML (PostgreSQL + queued runs +
pools), the Celery worker config, the workers, the daemon, run launching, per-process memory figures.

The lake root of the distributed runs is chosen in ONE place, `distributed_lake_root` below:
by default it is on the moto S3 server (`s3://<bucket>/<prefix>`, endpoint and keys in the standard
AWS variables); `TWITTER_DISTRIBUTED_LAKE=local` makes it a local directory shared by the workers.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# ---- the one switch for the object-store lake ---------------------------------------------------
LAKE_ENV = "TWITTER_DISTRIBUTED_LAKE"  # "s3" (default) or "local"


def lake_kind() -> str:
    return "local" if os.environ.get(LAKE_ENV, "s3") == "local" else "s3"


def distributed_lake_root(local_dir: Path, services_env: dict[str, str], name: str) -> str:
    """Where a distributed run's lake lives: the S3 server (default), or a local directory shared by
    the workers with `TWITTER_DISTRIBUTED_LAKE=local`."""
    if lake_kind() == "s3":
        return f"s3://{services_env['TWITTER_S3_BUCKET']}/{name}"
    return str(local_dir / name)


# ---- configuration files -----------------------------------------------------------------------
INSTANCE_YAML = """\
# Written by the distributed test: instance on PostgreSQL, runs through the queue, pools as in the
# repository's dagster.yaml. See deploy/dagster.yaml for the production version.
telemetry:
  enabled: false
storage:
  postgres:
    postgres_url:
      env: DAGSTER_PG_URL          # postgresql+psycopg2://... (psycopg 3 is not supported by Dagster)
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
  config:
    dequeue_interval_seconds: 1
concurrency:
  runs:
    max_concurrent_runs: {max_concurrent_runs}
  pools:
    default_limit: 1               # x_api: one step talks to the API at a time, across every worker
                                   # lake_duckdb: one writer of the DuckDB file at a time
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  poll_interval_seconds: 5
"""

# Workers and executor read the same file (`dagster-celery worker start -y`, TWITTER_CELERY_CONFIG).
CELERY_YAML = """\
execution:
  config:
    broker:
      env: TWITTER_CELERY_BROKER
    backend:
      env: TWITTER_CELERY_BACKEND
    config_source:
      # A step is acknowledged when it ends, not when a worker takes it: a worker lost mid-step
      # leaves its message unacknowledged and Redis hands it to another worker after the timeout.
      task_acks_late: true
      task_reject_on_worker_lost: true
      worker_prefetch_multiplier: 1
      broker_transport_options:
        visibility_timeout: {visibility_timeout}   # must exceed the longest step
        unacked_restore_interval: 2
        unacked_restore_throttle: 1
        max_retries: 3
        interval_start: 0
        interval_step: 0.2
        interval_max: 0.5
"""


def write_instance(home: Path, max_concurrent_runs: int = 1) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "dagster.yaml"
    path.write_text(INSTANCE_YAML.format(max_concurrent_runs=max_concurrent_runs))
    return path


def write_celery_config(path: Path, visibility_timeout: int = 20) -> Path:
    path.write_text(CELERY_YAML.format(visibility_timeout=visibility_timeout))
    return path


def base_env(**values: str) -> dict[str, str]:
    env = {**os.environ, **values}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"  # `celery` for dagster-celery worker start
    env["PYTHONPATH"] = f"{REPO_ROOT}{os.pathsep}{env['PYTHONPATH']}" if env.get("PYTHONPATH") else str(REPO_ROOT)
    return env


# ---- processes ---------------------------------------------------------------------------------
@dataclass
class Proc:
    """A child started in its own session, so it and everything it forks stop together."""

    name: str
    process: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def group(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def kill(self) -> None:
        """SIGKILL the whole process group: no goodbye to the broker, no cleanup."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(30)

    def stop(self, timeout: float = 20.0) -> None:
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.pid, signal.SIGTERM)
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        except ProcessLookupError:
            pass


def spawn(name: str, command: list[str], env: dict[str, str], log_dir: Path) -> Proc:
    log = log_dir / f"{name}.log"
    with open(log, "ab") as out:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Proc(name, process, log)


def start_worker(name: str, celery_yaml: Path, env: dict[str, str], log_dir: Path) -> Proc:
    """`dagster-celery worker start` with one execution slot, named `<name>@<host>`."""
    command = [str(BIN / "dagster-celery"), "worker", "start", "-n", name, "-y", str(celery_yaml),
               "-A", "dagster_celery.app", "-l", "INFO", "--", "--concurrency=1"]  # fmt: skip
    return spawn(name, command, env, log_dir)


def wait_for_workers(names: Iterable[str], procs: Iterable[Proc], timeout: float = 90.0) -> None:
    """Until every worker logged `ready` (it consumes from the broker)."""
    procs = list(procs)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.process.poll() is not None:
                raise RuntimeError(f"worker {proc.name} exited: {proc.log.read_text()[-2000:]}")
        if all(" ready." in proc.log.read_text(errors="replace") for proc in procs):
            return
        time.sleep(0.3)
    raise RuntimeError(f"workers {list(names)} not ready in {timeout:.0f} s")


AUTOMATION_SENSOR = "keep_partitions_up_to_date"


def stop_automation(env: dict[str, str]) -> None:
    """Record the automation sensor as stopped in the instance (as an operator would with the CLI), so the
    daemon only runs what a test launches: automation runs would write into the lake while a test empties
    or compares it."""
    command = [str(BIN / "dagster"), "sensor", "stop", AUTOMATION_SENSOR, "-m", "twitter_assets.definitions"]
    completed = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=180)
    if completed.returncode:
        raise RuntimeError(f"dagster sensor stop failed: {completed.stderr[-3000:]}")


def start_daemon(env: dict[str, str], log_dir: Path) -> Proc:
    return spawn("daemon", [str(BIN / "dagster-daemon"), "run", "-m", "twitter_assets.definitions"], env, log_dir)


def launch(env: dict[str, str], first: str, last: str, label: str) -> subprocess.CompletedProcess:
    """Submit the backfill of every asset and check over first..last as ONE run through the queue."""
    tags = {
        "dagster/asset_partition_range_start": first,
        "dagster/asset_partition_range_end": last,
        "twitter/test": label,
    }
    command = [str(BIN / "dagster"), "job", "launch", "-m", "twitter_assets.definitions", "-j", "daily_refresh",
               "--tags", json.dumps(tags)]  # fmt: skip
    completed = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=180)
    if completed.returncode:
        raise RuntimeError(f"dagster job launch failed: {completed.stderr[-3000:]}")
    return completed


# ---- memory figures ----------------------------------------------------------------------------
@dataclass
class MemorySampler:
    """Samples, every `interval` s, the RSS of each role's processes; keeps per role the peak of the
    summed RSS and the largest single-process high-water mark (VmHWM, the kernel's own peak)."""

    roles: dict[str, Callable[[], list[psutil.Process]]]
    interval: float = 0.25
    peak_sum: dict[str, int] = field(default_factory=dict)
    peak_single: dict[str, int] = field(default_factory=dict)
    pids: dict[str, set[int]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _sample(self) -> None:
        for role, find in self.roles.items():
            total = 0
            for process in find():
                try:
                    rss = process.memory_info().rss
                    hwm = _vm_hwm(process.pid) or rss
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                total += rss
                self.pids.setdefault(role, set()).add(process.pid)
                self.peak_single[role] = max(self.peak_single.get(role, 0), hwm)
            self.peak_sum[role] = max(self.peak_sum.get(role, 0), total)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> MemorySampler:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(10)

    def figures(self) -> dict[str, dict[str, float]]:
        mib = 1024 * 1024
        return {
            role: {
                "peak_rss_sum_mib": round(self.peak_sum.get(role, 0) / mib, 1),
                "peak_rss_single_process_mib": round(self.peak_single.get(role, 0) / mib, 1),
                "processes_seen": len(self.pids.get(role, ())),
            }
            for role in self.roles
        }


def _vm_hwm(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def tree(pid: int) -> Callable[[], list[psutil.Process]]:
    """A role made of a process and all its descendants."""

    def find() -> list[psutil.Process]:
        try:
            root = psutil.Process(pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    return find


def process_of(pid: Callable[[], int | None]) -> Callable[[], list[psutil.Process]]:
    """A role made of one process whose pid becomes known later (e.g. from the run's RUN_START)."""
    known: list[psutil.Process] = []

    def find() -> list[psutil.Process]:
        if not known:
            value = pid()
            if value is None:
                return []
            try:
                known.append(psutil.Process(value))
            except psutil.NoSuchProcess:
                return []
        return [process for process in known if process.is_running()]

    return find
