"""The documented one-run backfill, through the real `dagster` CLI, against the simulator: every
asset materializes for every day and every check passes (CI fails on a failed check, not only on a
failed run)."""

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from dagster import AssetKey, DagsterInstance

from twitter_assets.checks.report import failed_evaluations, run_check_evaluations

REPO_ROOT = Path(__file__).resolve().parents[1]
ASSETS = ["raw/aluraonline", "silver/tweets", "silver/users", "gold/daily_interactions"]


def test_cli_backfill_materializes_every_asset_and_passes_every_check(simulator, simulator_token, tmp_path):
    today = datetime.now(timezone.utc).date()
    first, last = today - timedelta(days=3), today - timedelta(days=1)
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "TWITTER_API_BASE_URL": simulator.base_url,
        "TWITTER_BEARER_TOKEN": simulator_token,
        "TWITTER_LAKE_DIR": str(tmp_path / "lake"),
    }
    env.pop("TWITTER_SOURCES_FILE", None)
    command = [
        sys.executable,
        "-m",
        "dagster",
        "asset",
        "materialize",
        "-m",
        "twitter_assets.definitions",
        "--select",
        "*",
        "--partition-range",
        f"{first}...{last}",
    ]
    completed = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert simulator_token not in completed.stdout + completed.stderr

    instance = DagsterInstance.from_config(str(home))
    try:
        days = {(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)}
        for asset in ASSETS:
            records = instance.fetch_materializations(AssetKey.from_user_string(asset), limit=100).records
            assert {record.partition_key for record in records} == days, asset
        (run,) = instance.get_runs()
        verdicts = run_check_evaluations(instance, run.run_id)
        assert len({(v.asset_key, v.check_name) for v in verdicts}) == 16
        assert not failed_evaluations(verdicts)
        assert {v.partition for v in verdicts if v.check_name == "complete_against_raw"} >= days
    finally:
        instance.dispose()
