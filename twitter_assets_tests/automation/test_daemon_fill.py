"""Acceptance: only the daemon, an empty lake, two sources -> every complete day of the window through
silver and gold, and afterwards no finished day fetched again.

Real processes: `dagster-daemon run -w workspace.yaml` with $DAGSTER_HOME holding the repository's
dagster.yaml, the simulator over HTTP on 127.0.0.1, a sensor interval of a few seconds and a small
daily volume. The figures (time to fill, runs, refetches) are printed (`pytest -s` shows them).
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from dagster import AssetKey, AssetRecordsFilter, DagsterInstance, DagsterRunStatus

from twitter_assets.partitions import PARTITIONS_START_ENV, default_partitions_start
from twitter_assets.simulator import SyntheticCorpus
from twitter_assets_tests.conftest import REPO_ROOT

FILL_DEADLINE_S = 240
SETTLE_S = 30
KEYS = ["raw/alura", "raw/python", "silver/tweets", "silver/users", "gold/daily_interactions"]


def materializations(instance: DagsterInstance, key: str) -> Counter:
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey.from_user_string(key)), limit=10_000
    ).records
    return Counter(record.partition_key for record in records)


@pytest.mark.timeout(300) if hasattr(pytest.mark, "timeout") else (lambda f: f)
def test_daemon_alone_fills_the_window_for_two_sources_then_leaves_finished_days_alone(make_simulator, tmp_path):
    simulator = make_simulator(SyntheticCorpus(account_username="AluraOnline", seed=3, daily_volume=30))
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n  - {name: alura, query: AluraOnline, account: AluraOnline}\n  - {name: python, query: python}\n",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "TWITTER_API_BASE_URL": simulator.base_url,
        "TWITTER_BEARER_TOKEN": "test-token",
        "TWITTER_LAKE_DIR": str(tmp_path / "lake"),
        "TWITTER_SOURCES_FILE": str(sources),
        "TWITTER_AUTOMATION_INTERVAL_SECONDS": "5",
        "PYTHONPATH": str(REPO_ROOT),
    }
    env.pop(PARTITIONS_START_ENV, None)  # the default: the window's oldest day
    now = datetime.now(timezone.utc)
    today = now.date()
    window = [
        default_partitions_start(now) + timedelta(days=n) for n in range((today - default_partitions_start(now)).days)
    ]
    expected = {day.isoformat() for day in window}  # every complete day of the window, the clamped oldest included

    # Create the instance's storage before the daemon and its code server open it concurrently.
    DagsterInstance.from_config(str(home)).dispose()
    daemon = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "daemon.log", "w"),
        start_new_session=True,
    )
    started = time.monotonic()
    try:
        with DagsterInstance.from_config(str(home)) as instance:
            filled_after = None
            while time.monotonic() - started < FILL_DEADLINE_S:
                if all(expected <= set(materializations(instance, key)) for key in KEYS):
                    filled_after = time.monotonic() - started
                    break
                assert daemon.poll() is None, (tmp_path / "daemon.log").read_text()[-3000:]
                time.sleep(2)
            status = {key: sorted(set(materializations(instance, key))) for key in KEYS}
            assert filled_after is not None, f"not filled in {FILL_DEADLINE_S} s: {status}"
            runs_to_fill = len(instance.get_runs())
            before = {key: materializations(instance, key) for key in KEYS}

            time.sleep(SETTLE_S)  # several more ticks
            after = {key: materializations(instance, key) for key in KEYS}
            runs = instance.get_runs()
            failed = [run.run_id for run in runs if run.status == DagsterRunStatus.FAILURE]
            backfills = instance.get_backfills()
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        daemon.wait(timeout=60)

    # Today's partial day may be refreshed by its own cron tick, and yesterday finalised at 00:30:
    # neither is a finished day being fetched again by the gap filler.
    finished = expected - {(today - timedelta(days=1)).isoformat()}
    refetched = {
        key: {day: after[key][day] - before[key][day] for day in finished if after[key][day] != before[key][day]}
        for key in KEYS
    }
    print(
        f"\nfilled {len(expected)} days x 2 sources through gold in {filled_after:.0f} s; "
        f"{runs_to_fill} runs from {len(backfills)} backfills; after {SETTLE_S} s more: "
        f"{len(runs) - runs_to_fill} new runs, refetches {refetched}"
    )
    assert not failed
    assert all(not changes for changes in refetched.values()), refetched
    # Each day landed once per source, and silver/gold were built once per day.
    for key in KEYS:
        assert all(before[key][day] == 1 for day in finished), (key, before[key])
