"""Run one step in a fresh child process and measure it: seconds, peak RSS, machine load.

The child (`python -m benchmarks.child <step> <kwargs-json> <result-file>`) imports what the step
needs, times the step itself (`step_seconds`, imports excluded) and writes its result as JSON; the
parent reaps it with `os.wait4`, whose rusage is that child's alone (peak RSS included, with any
descendants it waited for, e.g. the CLI's step processes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]


def max_load() -> float:
    """Above this 1-minute load (2 cores, shared machine) a figure is re-measured once, the quieter kept."""
    return float(os.environ.get("BENCH_MAX_LOAD", "3.0"))


def load_wait_seconds() -> float:
    """Before a step, wait up to this long for the load to fall under `max_load()`."""
    return float(os.environ.get("BENCH_LOAD_WAIT", "20"))


def quiet_load() -> float:
    """The CLI figures are timed only once the 1-minute load is below this (or the wait is over)."""
    return float(os.environ.get("BENCH_QUIET_LOAD", "1.5"))


def quiet_wait_seconds() -> float:
    """How long to wait, at most, for `quiet_load()` before a CLI figure."""
    return float(os.environ.get("BENCH_QUIET_WAIT", "60"))


def wait_for_load(below: float, timeout: float) -> float:
    """Wait (at most `timeout` s) for the 1-minute load to fall below `below`; the seconds waited."""
    started = time.monotonic()
    while load1() >= below and time.monotonic() - started < timeout:
        time.sleep(min(3.0, max(0.0, timeout - (time.monotonic() - started))))
    return time.monotonic() - started


def load1() -> float:
    return os.getloadavg()[0]


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: " + ", ".join(f"{value:.2f}" for value in os.getloadavg())


@dataclass
class Measurement:
    step: str
    seconds: float  # the step itself, timed in the child (imports excluded)
    wall_seconds: float  # the whole child process, as the parent saw it
    peak_rss_mb: float
    load_before: float
    load_after: float
    result: dict[str, Any] = field(default_factory=dict)
    attempts: int = 1

    @property
    def load(self) -> str:
        return f"{self.load_before:.1f}/{self.load_after:.1f}"


def _wait_for_quiet() -> None:
    deadline = time.monotonic() + load_wait_seconds()
    while load1() > max_load() and time.monotonic() < deadline:
        time.sleep(3)


def run_child(step: str, kwargs: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> Measurement:
    """Run `benchmarks.steps.<step>(**kwargs)` in a fresh interpreter; raise if it fails."""
    with tempfile.TemporaryDirectory(prefix="bench-child-") as scratch:
        out = Path(scratch) / "result.json"
        command = [sys.executable, "-m", "benchmarks.child", step, json.dumps(kwargs or {}), str(out)]
        child_env = dict(env if env is not None else os.environ)
        child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), child_env.get("PYTHONPATH")]))
        return _measure(step, command, child_env, out)


def run_command(
    label: str, command: list[str], env: dict[str, str] | None = None, cwd: Path = REPO_ROOT
) -> Measurement:
    """Run any command (e.g. the dagster CLI) as the measured child; its wall time is its seconds."""
    return _measure(label, command, dict(env if env is not None else os.environ), None, cwd)


def _measure(
    step: str, command: list[str], env: dict[str, str], out: Path | None, cwd: Path = REPO_ROOT
) -> Measurement:
    before = load1()
    started = time.perf_counter()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        wall = time.perf_counter() - started
        if process.returncode != 0:
            log.seek(0)
            tail = log.read().decode("utf-8", "replace")[-4000:]
            raise RuntimeError(f"benchmark step {step!r} failed (exit {process.returncode}):\n{tail}")
    result = json.loads(out.read_text()) if out is not None else {}
    return Measurement(
        step=step,
        seconds=float(result.pop("step_seconds", wall)),
        wall_seconds=wall,
        peak_rss_mb=usage.ru_maxrss / 1024,  # KiB on Linux
        load_before=before,
        load_after=load1(),
        result=result,
    )


def measured(run, *, retry_if_loaded: bool = True) -> Measurement:
    """`run()` -> Measurement, after waiting (a while) for a quiet machine; if the load was high and
    has since dropped, re-run once and keep the quieter of the two."""
    _wait_for_quiet()
    first = run()
    loaded = max(first.load_before, first.load_after)
    if not retry_if_loaded or loaded <= max_load():
        return first
    _wait_for_quiet()
    if load1() >= loaded:  # still as busy: a second run would not be quieter
        return first
    second = run()
    best = min((first, second), key=lambda m: max(m.load_before, m.load_after))
    best.attempts = 2
    return best
