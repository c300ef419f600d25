"""The documented one-run backfill, through the real `dagster` CLI, against the simulator: every
asset materializes for every day, every check passes (CI fails on a failed check, not only on a
failed run), and the UI's API shows each check's verdict per partition."""

import os
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from dagster import AssetKey, DagsterInstance

from twitter_assets.checks.report import failed_evaluations, run_check_evaluations
from twitter_assets.simulator import SimulatorServer, SyntheticCorpus

REPO_ROOT = Path(__file__).resolve().parents[1]
ASSETS = [
    "raw/aluraonline",
    "silver/tweets",
    "silver/users",
    "gold/daily_interactions",
    "gold/tweet_sentiment",
    "gold/daily_sentiment",
]
TOKEN = "cli-backfill-token"


@pytest.fixture(scope="module")
def cli_backfill(tmp_path_factory):
    """The documented backfill command, run once for this module: (DAGSTER_HOME, env, first, last)."""
    today = datetime.now(timezone.utc).date()
    first, last = today - timedelta(days=3), today - timedelta(days=1)
    tmp_path = tmp_path_factory.mktemp("cli_backfill")
    home = tmp_path / "dagster_home"
    home.mkdir()
    with SimulatorServer(SyntheticCorpus(), bearer_tokens={TOKEN}) as simulator:
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "TWITTER_API_BASE_URL": simulator.base_url,
            "TWITTER_BEARER_TOKEN": TOKEN,
            "TWITTER_LAKE_DIR": str(tmp_path / "lake"),
        }
        env.pop("TWITTER_SOURCES_FILE", None)
        command = [
            sys.executable, "-m", "dagster", "asset", "materialize", "-m", "twitter_assets.definitions",
            "--select", "*", "--partition-range", f"{first}...{last}",
        ]  # fmt: skip
        completed = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert TOKEN not in completed.stdout + completed.stderr
    return home, env, first, last


def test_cli_backfill_materializes_every_asset_and_passes_every_check(cli_backfill):
    home, _, first, last = cli_backfill
    days = {(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)}
    with DagsterInstance.from_config(str(home)) as instance:
        for asset in ASSETS:
            records = instance.fetch_materializations(AssetKey.from_user_string(asset), limit=100).records
            assert {record.partition_key for record in records} == days, asset
        (run,) = instance.get_runs()
        verdicts = run_check_evaluations(instance, run.run_id)
    # 17 partitioned checks, 3 column-schema checks and yesterday_landed
    assert len({(v.asset_key, v.check_name) for v in verdicts}) == 21
    assert not failed_evaluations(verdicts)
    assert {v.partition for v in verdicts if v.check_name == "complete_against_raw"} >= days


CHECK_STATUSES_QUERY = """
{ assetNodes { assetKey { path }
    assetChecksOrError { ... on AssetChecks { checks { name
        partitionStatuses { ... on AssetCheckTimePartitionStatuses { ranges { startKey endKey status } } } } } } } }
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_ui_shows_every_check_passed_per_partition(cli_backfill):
    """What the Dagster UI reads (its GraphQL API): each partitioned check, each day, SUCCEEDED."""
    home, env, first, last = cli_backfill
    port = _free_port()
    command = [sys.executable, "-m", "dagster_webserver", "-h", "127.0.0.1", "-p", str(port)]
    server = subprocess.Popen(
        [*command, "-m", "twitter_assets.definitions"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        body = _graphql(f"http://127.0.0.1:{port}", CHECK_STATUSES_QUERY)
    finally:
        server.terminate()
        server.wait(30)
    ranges = {
        ("/".join(node["assetKey"]["path"]), check["name"]): check["partitionStatuses"]["ranges"]
        for node in body["data"]["assetNodes"]
        for check in node["assetChecksOrError"]["checks"]
        if check["partitionStatuses"] is not None
    }
    assert len(ranges) == 17
    expected = [{"startKey": first.isoformat(), "endKey": last.isoformat(), "status": "SUCCEEDED"}]
    assert {key: value for key, value in ranges.items() if value != expected} == {}


def _graphql(base_url: str, query: str, attempts: int = 120) -> dict:
    for _ in range(attempts):
        try:
            response = requests.post(f"{base_url}/graphql", json={"query": query}, timeout=30)
            if response.ok:
                return response.json()
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"the Dagster webserver at {base_url} did not answer")


def test_a_report_built_alone_shows_the_verdicts_other_runs_recorded(cli_backfill):
    """The report lists the newest verdict of every check of the code location, not only of the checks its own
    run selected: built alone (or in a gold-and-report run) it listed none of the raw and silver ones.
    Runs last in this module: it adds a run to the backfill's instance."""
    home, env, _, last = cli_backfill
    report_key = AssetKey(["report", "daily_html"])
    with DagsterInstance.from_config(str(home)) as instance:
        before = instance.fetch_materializations(report_key, limit=1).records[0].asset_materialization.metadata
    command = [
        sys.executable, "-m", "dagster", "asset", "materialize", "-m", "twitter_assets.definitions",
        "--select", "report/daily_html", "--partition", last.isoformat(),
    ]  # fmt: skip
    completed = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    with DagsterInstance.from_config(str(home)) as instance:
        after = instance.fetch_materializations(report_key, limit=1).records[0].asset_materialization.metadata
    assert before["check_verdicts"].value > 0
    assert after["check_verdicts"].value == before["check_verdicts"].value
    assert after["failed_verdicts"].value == 0
