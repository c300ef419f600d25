"""Crash: the run's whole process group is SIGKILLed (a) while raw pages are being fetched and
written, (b) between two raw files and the manifest that commits them, (c) inside the silver
rebuild, (d) inside gold. After each crash nothing half-written is visible and the earlier
landing is whole; after a re-run nothing is duplicated or missing and every check passes.

The run is the documented CLI (`dagster asset materialize`) in its own session; the kill is
`os.killpg(pgid, SIGKILL)`. Crash points: a "slow" simulator answer (a), and for the renames that
commit files, the test-only hook in hooks/sitecustomize.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from dagster import DagsterInstance

from twitter_assets.checks.report import failed_evaluations, run_check_evaluations
from twitter_assets.lake import Lake
from twitter_assets.simulator import SimulatorServer, SyntheticCorpus
from twitter_assets.simulator.faults import Fault
from twitter_assets_tests.reliability.support import landing_state, raw_dir_is_committed

pytestmark = pytest.mark.reliability

REPO_ROOT = Path(__file__).resolve().parents[2]
HOOKS = Path(__file__).with_name("hooks")
TOKEN = "crash-test-token"
SEARCH = "/2/tweets/search/recent"
# The layers the crash points are in (sentiment, downstream of gold, adds only time here).
CORE = "raw/aluraonline,silver/tweets,silver/users,gold/daily_interactions"


class Cli:
    def __init__(self, tmp_path: Path, base_url: str):
        self.home = tmp_path / "home"
        self.home.mkdir()
        self.lake = Lake(root=str(tmp_path / "lake"))
        self.marker = tmp_path / "paused"
        self.env = {
            **os.environ,
            "DAGSTER_HOME": str(self.home),
            "TWITTER_API_BASE_URL": base_url,
            "TWITTER_BEARER_TOKEN": TOKEN,
            "TWITTER_LAKE_DIR": self.lake.root,
            "PYTHONPATH": os.pathsep.join([str(HOOKS), str(REPO_ROOT)]),
        }
        self.env.pop("TWITTER_SOURCES_FILE", None)

    def start(self, select: str, first, last, **hook: str) -> subprocess.Popen:
        env = dict(self.env)
        if hook:
            env |= {"RELIAB_PAUSE_AT": hook["at"], "RELIAB_PAUSE_SKIP": hook.get("skip", "0")}
            env["RELIAB_PAUSE_MARKER"] = str(self.marker)
        self.marker.unlink(missing_ok=True)
        command = [sys.executable, "-m", "dagster", "asset", "materialize", "-m", "twitter_assets.definitions",
                   "--select", select, "--partition-range", f"{first}...{last}"]  # fmt: skip
        return subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )

    def run(self, select: str, first, last) -> str:
        process = self.start(select, first, last)
        output, _ = process.communicate(timeout=300)
        assert process.returncode == 0, output.decode()[-4000:]
        return output.decode()

    def kill_when(self, process: subprocess.Popen, ready, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if process.poll() is not None:
                raise AssertionError("the run ended before the crash point:\n" + process.stdout.read().decode()[-4000:])
            assert time.monotonic() < deadline, "the crash point was never reached"
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)

    def paused(self) -> bool:
        return self.marker.exists() and self.marker.read_text().strip() != ""


def _slow_after(server: SimulatorServer, n: int, reached: threading.Event) -> None:
    """The n-th search request (1-based) from now on answers only after 60 s."""
    take, seen = server.faults.take, {"n": 0}

    def take_slow(path: str):
        if path.startswith(SEARCH):
            seen["n"] += 1
            if seen["n"] == n:
                reached.set()
                return Fault("slow", seconds=60)
        return take(path)

    server.faults.take = take_slow  # type: ignore[method-assign]


def _assert_committed_everywhere(lake: Lake, days) -> None:
    for day in days:
        assert raw_dir_is_committed(lake, "aluraonline", day) == [], day


def test_sigkill_at_every_commit_point_loses_and_doubles_nothing(tmp_path):
    today = datetime.now(timezone.utc).date()
    first, last = today - timedelta(days=3), today - timedelta(days=2)
    days = [first, last]
    with (
        SimulatorServer(SyntheticCorpus(), bearer_tokens={TOKEN}) as server,
        SimulatorServer(SyntheticCorpus(seed=8, daily_volume=400), bearer_tokens={TOKEN}) as other,
    ):
        cli = Cli(tmp_path, server.base_url)
        cli.run(CORE, first, last)
        with cli.lake.connect() as db:
            baseline = db.execute("SELECT * FROM silver.tweets ORDER BY source, tweet_id").fetchall()
            gold = db.execute("SELECT * FROM gold.daily_interactions ORDER BY source, day").fetchall()
        landed = landing_state(cli.lake)

        # (a) mid-fetch: pages of the first day are in the scratch file when the 3rd request hangs
        reached = threading.Event()
        _slow_after(server, 3, reached)
        cli.kill_when(cli.start("raw/aluraonline", first, last), reached.is_set)
        assert landing_state(cli.lake) == landed, "(a) a killed fetch changed a landing"
        _assert_committed_everywhere(cli.lake, days)

        # (b) raw files of a *different* answer are published, the manifest is not
        cli.env["TWITTER_API_BASE_URL"] = other.base_url
        cli.kill_when(cli.start("raw/aluraonline", first, last, at="manifest.json"), cli.paused)
        cli.env["TWITTER_API_BASE_URL"] = server.base_url
        for day in days:  # the earlier landing still reads whole
            assert cli.lake.read_raw_day("aluraonline", day).manifest == Lake(root=cli.lake.root).read_manifest(
                "aluraonline", day
            )

        # (c) silver: the first day's file is replaced, the second's not yet
        cli.kill_when(cli.start("silver/tweets", first, last, at="/silver/tweets/", skip="1"), cli.paused)
        # (d) gold: killed before its first file
        cli.kill_when(cli.start("gold/daily_interactions", first, last, at="/gold/daily_interactions/"), cli.paused)
        with cli.lake.connect() as db:  # readers meanwhile see whole files only
            assert db.execute("SELECT count(*) FROM silver.tweets").fetchone()[0] == len(baseline)

        cli.run(CORE, first, last)
    _assert_committed_everywhere(cli.lake, days)
    # the killed processes' scratch files (a partial day of pages, a landing's files) were swept by the re-run
    assert not [path for path in (Path(cli.lake.root) / ".incoming").rglob("*") if path.is_file()]
    assert landing_state(cli.lake) == landed, "the re-run did not restore the landing"
    with cli.lake.connect() as db:
        assert db.execute("SELECT * FROM silver.tweets ORDER BY source, tweet_id").fetchall() == baseline
        assert db.execute("SELECT * FROM gold.daily_interactions ORDER BY source, day").fetchall() == gold
        assert db.execute("SELECT count(*) - count(DISTINCT (source, tweet_id)) FROM silver.tweets").fetchone() == (0,)
    with DagsterInstance.from_config(str(cli.home)) as instance:
        runs = instance.get_runs(limit=1)
        # yesterday_landed judges yesterday's freshness, whatever days the run covers: not this test's subject
        verdicts = [v for v in run_check_evaluations(instance, runs[0].run_id) if v.check_name != "yesterday_landed"]
    assert verdicts and not failed_evaluations(verdicts)
