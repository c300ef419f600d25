"""Acceptance: only the daemon, an empty lake, two sources -> every complete day of the window through
silver and gold, and afterwards no finished day fetched again.

Real processes: `dagster-daemon run -w workspace.yaml` with $DAGSTER_HOME holding the repository's
dagster.yaml, the simulator over HTTP on 127.0.0.1, a sensor interval of a few seconds and a small
daily volume. The figures (time to fill, runs, refetches) are printed (`pytest -s` shows them).

The daemon runs on the wall clock, so the test starts where no clock event can fall inside it: a
today's-refresh or final-fetch tick (their runs rebuild gold for the six days before: finished days
"fetched again"), the oldest day leaving the API window (23:58) or the day changing (00:00).
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from datetime import time as day_time
from pathlib import Path

import pytest
from dagster import AssetKey, AssetRecordsFilter, DagsterInstance, DagsterRunStatus
from dagster._utils.schedules import get_next_cron_tick

from twitter_assets.automation.conditions import FINALISE_CRON, TODAY_REFRESH_CRON
from twitter_assets.partitions import PARTITIONS_START_ENV, WINDOW_START_MARGIN, default_partitions_start
from twitter_assets.simulator import SyntheticCorpus
from twitter_assets_tests.conftest import REPO_ROOT

FILL_DEADLINE_S = 240
SETTLE_S = 30
KEYS = ["raw/alura", "raw/python", "silver/tweets", "silver/users", "gold/daily_interactions"]
# From the daemon's start to the last snapshot: start-up, the fill, the settling ticks.
CLOCK_SPAN_S = FILL_DEADLINE_S + SETTLE_S + 30
AFTER_EVENT_S = 30  # past a tick or midnight (yesterday's window reaches its end 15 s after midnight)


def materializations(instance: DagsterInstance, key: str) -> Counter:
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey.from_user_string(key)), limit=10_000
    ).records
    return Counter(record.partition_key for record in records)


def clock_events(now: datetime) -> list[datetime]:
    """The next moments at which the daemon's work changes by the clock alone."""
    midnight = datetime.combine(now.date() + timedelta(days=1), day_time.min, tzinfo=timezone.utc)
    return [
        get_next_cron_tick(TODAY_REFRESH_CRON, now, "UTC"),  # today refreshed -> gold of the 6 days before rebuilt
        get_next_cron_tick(FINALISE_CRON, now, "UTC"),  # yesterday's final fetch -> the same for its 6 days before
        midnight - WINDOW_START_MARGIN,  # the oldest day of the window can no longer be fetched
        midnight,  # today becomes yesterday
    ]


def wait_until_clear_of_clock_events() -> datetime:
    """Sleep past any clock event due within CLOCK_SPAN_S (at most once a few minutes); return now."""
    while True:
        now = datetime.now(timezone.utc)
        due = [event for event in clock_events(now) if (event - now).total_seconds() < CLOCK_SPAN_S]
        if not due:
            return now
        time.sleep((max(due) - now).total_seconds() + AFTER_EVENT_S)


def test_clock_events_are_the_ticks_and_the_end_of_the_day():
    events = clock_events(datetime(2026, 11, 24, 21, 59, 30, tzinfo=timezone.utc))
    assert events == [
        datetime(2026, 11, 24, 22, 0, tzinfo=timezone.utc),
        datetime(2026, 11, 25, 0, 30, tzinfo=timezone.utc),
        datetime(2026, 11, 24, 23, 58, tzinfo=timezone.utc),
        datetime(2026, 11, 25, 0, 0, tzinfo=timezone.utc),
    ]


@pytest.mark.timeout(300 + CLOCK_SPAN_S + AFTER_EVENT_S)
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
    now = wait_until_clear_of_clock_events()
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

    # No refresh or final-fetch tick fell inside the test (see wait_until_clear_of_clock_events), so
    # every day of the window, yesterday included, is finished: fetched once by the gap filler.
    finished = expected
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
