"""The local setup shared by `make demo` and `make dev`: a simulator process and the environment.

Everything points at the simulator on 127.0.0.1 with a token of its own; nothing here is used when
the pipeline runs against the real API (set TWITTER_API_BASE_URL/TWITTER_BEARER_TOKEN yourself).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DAGSTER_HOME = REPO_ROOT / ".dagster_home"
SIMULATOR_TOKEN = "local-simulator-token"  # accepted only by the local simulator
LOG_DIR = REPO_ROOT / "build"
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")  # dagster colours its log lines even into a pipe

# Dagster's own warnings about the beta/preview/superseded APIs this repository uses on purpose
# (backfill policies, partitioned check specs, schema-change checks, the `asset materialize` CLI).
# Nothing to fix on our side, so they are kept out of the logs. PYTHONWARNINGS cannot name
# dagster's warning classes (it is read before site-packages is importable), hence message prefixes.
QUIET_WARNINGS = (
    "ignore:Parameter `backfill_policy` of function `asset` is currently in beta",
    "ignore:Parameter `include_sources` of function `AssetSelection.all` is currently in beta",
    "ignore:Specifying a partitions_def on an AssetCheckSpec is currently in preview",
    "ignore:Function `build_column_schema_change_checks` is currently in beta",
    "ignore:Function `asset_materialize_command` is superseded",
    "ignore:Function `dev_command` is superseded",
    "ignore:Function `run_request_for_partition` is deprecated",
    "ignore:The inplace keyword",
)


@contextmanager
def running_simulator(port: int = 0) -> Iterator[str]:
    """Start `python -m twitter_assets.simulator` and yield its base URL; stop it on exit."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "twitter_assets.simulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--token",
            SIMULATOR_TOKEN,
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        if "listening on " not in line:
            raise RuntimeError(f"the simulator did not start (exit code {process.poll()}): {line!r}")
        yield line.rsplit("listening on ", 1)[1].strip()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def local_environment(base_url: str) -> dict[str, str]:
    """The process environment for Dagster against the simulator, with a persistent instance."""
    DAGSTER_HOME.mkdir(exist_ok=True)
    shutil.copyfile(REPO_ROOT / "dagster.yaml", DAGSTER_HOME / "dagster.yaml")
    env = dict(os.environ)
    env.update(
        {
            "TWITTER_API_BASE_URL": base_url,
            "TWITTER_BEARER_TOKEN": SIMULATOR_TOKEN,
            "TWITTER_LAKE_DIR": os.environ.get("TWITTER_LAKE_DIR", str(REPO_ROOT / "lake")),
            "DAGSTER_HOME": str(DAGSTER_HOME),
            "PYTHONWARNINGS": ",".join(filter(None, [os.environ.get("PYTHONWARNINGS", ""), *QUIET_WARNINGS])),
        }
    )
    return env


def run_logged(command: list[str], env: dict[str, str], log_path: Path, echo: Callable[[str], str | None]) -> int:
    """Run `command`, writing all its output (stdout and stderr) to `log_path` and printing only
    `echo(line)` for lines where it is not None; return the exit code."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
            start_new_session=True,  # Ctrl-C reaches only this script, which forwards it once
        )
        try:
            assert process.stdout is not None
            for raw in process.stdout:
                line = ANSI_ESCAPE.sub("", raw)
                log.write(line)
                log.flush()
                shown = echo(line.rstrip("\n"))
                if shown is not None:
                    print(shown, flush=True)
            return process.wait()
        except KeyboardInterrupt:
            # Let the child shut down cleanly (dagster stops its run / its services on SIGINT).
            print(f"stopping (log: {log_path})...", flush=True)
            process.send_signal(signal.SIGINT)
            try:
                rest, _ = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                rest, _ = process.communicate()
            log.write(ANSI_ESCAPE.sub("", rest or ""))
            raise


def tail(path: Path, lines: int = 40) -> str:
    """The last `lines` lines of a text file."""
    with open(path, encoding="utf-8", errors="replace") as stream:
        return "".join(stream.readlines()[-lines:])
