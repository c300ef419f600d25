"""The local setup shared by `make demo` and `make dev`: a simulator process and the environment.

Everything points at the simulator on 127.0.0.1 with a token of its own; nothing here is used when
the pipeline runs against the real API (set TWITTER_API_BASE_URL/TWITTER_BEARER_TOKEN yourself).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DAGSTER_HOME = REPO_ROOT / ".dagster_home"
SIMULATOR_TOKEN = "local-simulator-token"  # accepted only by the local simulator


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
        }
    )
    return env
