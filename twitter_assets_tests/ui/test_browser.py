"""What a person sees in the Dagster UI, in headless Chromium (`make test-ui`, marker `ui`).

One module-wide setup, as a person would have it after `make demo` + `make dev`: the X API
simulator, a 6-day backfill (the days the API serves in full, so no figure depends on the hour)
through the documented CLI command (its output filtered by the demo's own `progress_line`), then
`dagster-webserver` and `dagster-daemon` (queued runs from the UI need it) on 127.0.0.1 over a
temporary instance with the repository's dagster.yaml and a temporary lake. Debian's chromium is
driven by Playwright (no browser download). Screenshots go to build/screenshots/.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from twitter_assets.partitions import day_bounds
from twitter_assets.resources.x_api import XApiClient
from twitter_assets.simulator import SimulatorServer, SyntheticCorpus
from twitter_assets.sources import load_sources

pytestmark = pytest.mark.ui
playwright_api = pytest.importorskip("playwright.sync_api")

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "build" / "screenshots"
LOGS = REPO_ROOT / "build" / "test-ui"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
TOKEN = "ui-test-token"
ALURA_QUERY = next(source.query for source in load_sources() if source.name == "aluraonline")
DAYS = 6  # the whole days before yesterday...yesterday: every one served in full, whatever the hour
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}

sys.path.insert(0, str(REPO_ROOT / "scripts"))
import demo  # noqa: E402
from local import run_logged  # noqa: E402


@dataclass
class Ui:
    base_url: str
    days: list[date]
    lake_dir: Path
    echoed: list[str]
    page: "playwright_api.Page"
    api_tweets: dict[str, int]  # the oracle: what the API returns for each whole day, fetched apart from the assets

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        response = requests.post(
            f"{self.base_url}/graphql", json={"query": query, "variables": variables or {}}, timeout=60
        )
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def open(self, path: str) -> None:
        self.page.goto(f"{self.base_url}{path}")
        self.page.wait_for_load_state("networkidle")

    def shot(self, name: str, **options) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / name
        self.page.screenshot(path=str(path), **options)
        return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_graphql(base_url: str, process: subprocess.Popen, log: Path, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"dagster-webserver exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            body = requests.post(f"{base_url}/graphql", json={"query": "{ assetNodes { id } }"}, timeout=30).json()
            if body.get("data", {}).get("assetNodes"):
                return
        except (requests.ConnectionError, requests.Timeout, ValueError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"dagster-webserver did not answer within {seconds:.0f} s:\n{log.read_text()[-3000:]}")


def _api_tweets_per_day(days: list[date], at: datetime) -> dict[str, int]:
    """The oracle: what the API returns for each day, asked apart from the assets, of a simulator whose
    clock stays at the backfill's start (after midnight the oldest day would leave the window)."""
    with SimulatorServer(SyntheticCorpus(), bearer_tokens={TOKEN}, clock=lambda: at) as frozen:
        client = XApiClient(bearer_token=TOKEN, base_url=frozen.base_url)
        return {
            day.isoformat(): sum(
                len(page.body.get("data", [])) for page in client.search_recent(ALURA_QUERY, *day_bounds(day)).pages
            )
            for day in days
        }


@pytest.fixture(scope="module")
def ui(tmp_path_factory) -> Iterator[Ui]:
    root = tmp_path_factory.mktemp("ui")
    home, lake = root / "dagster_home", root / "lake"
    home.mkdir()
    shutil.copyfile(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    LOGS.mkdir(parents=True, exist_ok=True)
    started_at = datetime.now(timezone.utc)
    days = [started_at.date() - timedelta(days=n) for n in range(DAYS, 0, -1)]
    processes: list[subprocess.Popen] = []
    with SimulatorServer(SyntheticCorpus(), bearer_tokens={TOKEN}) as simulator:
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "TWITTER_API_BASE_URL": simulator.base_url,
            "TWITTER_BEARER_TOKEN": TOKEN,
            "TWITTER_LAKE_DIR": str(lake),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        }
        env.pop("TWITTER_SOURCES_FILE", None)
        echoed: list[str] = []

        def echo(line: str) -> None:
            if (shown := demo.progress_line(line)) is not None:
                echoed.append(shown)

        command = [
            sys.executable, "-m", "dagster", "asset", "materialize", "-m", "twitter_assets.definitions",
            "--select", "*", "--partition-range", f"{days[0]}...{days[-1]}",
        ]  # fmt: skip
        returncode = run_logged(command, env, LOGS / "backfill.log", echo)
        assert returncode == 0, (LOGS / "backfill.log").read_text()[-3000:]
        api_tweets = _api_tweets_per_day(days, started_at)

        port = _free_port()
        base_url = f"http://127.0.0.1:{port}"
        location = ["-m", "twitter_assets.definitions"]
        try:
            for name, argv in (
                ("webserver", [sys.executable, "-m", "dagster_webserver", "-h", "127.0.0.1", "-p", str(port)]),
                ("daemon", [sys.executable, "-m", "dagster._daemon", "run"]),
            ):
                log = open(LOGS / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
                processes.append(
                    subprocess.Popen([*argv, *location], cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
                )
            _wait_for_graphql(base_url, processes[0], LOGS / "webserver.log")
            requests.post(f"{base_url}/graphql", json={"query": "mutation { setNuxSeen }"}, timeout=30)
            with playwright_api.sync_playwright() as playwright:
                context = playwright.chromium.launch_persistent_context(
                    tempfile.mkdtemp(prefix="chromium-profile-", dir=root),
                    executable_path=CHROMIUM,
                    headless=True,
                    args=CHROMIUM_ARGS,
                    viewport={"width": 1400, "height": 1000},
                )
                try:
                    page = context.new_page()
                    page.set_default_timeout(60_000)
                    # the "join the community" dialog, which the UI shows once on 127.0.0.1
                    page.add_init_script("window.localStorage.setItem('communityNux', JSON.stringify('1'))")
                    yield Ui(base_url, days, lake, echoed, page, api_tweets)
                finally:
                    context.close()
        finally:
            for process in reversed(processes):
                process.terminate()
            for process in processes:
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()


def test_the_demo_prints_one_line_per_landed_day(ui):
    """`make demo` shows what `demo.progress_line` keeps of the real CLI output: a line per day."""
    landed = [line for line in ui.echoed if line.startswith("  landed ")]
    assert [line.split()[2].rstrip(":") for line in landed] == [day.isoformat() for day in ui.days], ui.echoed
    assert all(" tweets in " in line for line in landed)
    assert not [line for line in ui.echoed if "FAILED" in line or "failed" in line]


def test_the_asset_graph_shows_every_asset(ui):
    nodes = ui.graphql("{ assetNodes { assetKey { path } } }")["assetNodes"]
    keys = sorted("/".join(node["assetKey"]["path"]) for node in nodes)
    assert "report/daily_html" in keys and len(keys) == 6 + len(load_sources())
    ui.open("/asset-groups")
    graph = ui.page.locator("foreignObject")
    graph.first.wait_for()
    graph.first.hover()
    ui.page.keyboard.press("Alt+e")  # "Expand all groups"
    for key in keys:
        ui.page.get_by_text(key.rsplit("/", 1)[1], exact=True).first.wait_for(state="visible")
    for group in ("raw", "silver", "gold", "report"):
        assert ui.page.get_by_text(group, exact=True).count() >= 1
    ui.shot("01-asset-graph.png")


def _show_markdown(ui: Ui, label: str):
    """Open the `[Show Markdown]` dialog of the metadata row `label`; return the dialog."""
    row = ui.page.locator("tr").filter(has=ui.page.get_by_text(label, exact=True)).filter(has_text="[Show Markdown]")
    row.first.get_by_text("[Show Markdown]").click()
    dialog = ui.page.get_by_role("dialog").filter(has_text=label)
    dialog.wait_for()
    return dialog


def _close(dialog) -> None:
    dialog.get_by_role("button", name="Close").click()
    dialog.wait_for(state="detached")


def test_the_gold_page_shows_the_chart_and_the_engagement_columns(ui):
    ui.open("/assets/gold/daily_interactions")
    dialog = _show_markdown(ui, "chart")
    images = dialog.locator("img[src^='data:image/png']")
    images.first.wait_for()
    assert images.count() == len(load_sources())  # one chart per source
    assert images.first.evaluate("image => [image.complete, image.naturalWidth, image.naturalHeight]") == [
        True,
        900,
        500,
    ]
    ui.shot("02-gold-chart.png")
    _close(dialog)

    # The latest partition's preview: its own day, one row per source, short enough to be shown inline.
    preview = (
        ui.page.locator("tr")
        .filter(has=ui.page.get_by_text("preview", exact=True))
        .filter(has=ui.page.locator("table"))
    )
    preview.first.locator("th").first.wait_for()
    header = preview.first.locator("th").all_text_contents()
    assert {"likes", "retweets", "replies", "quotes", "n_tweets"} <= {h.strip() for h in header}
    rows = preview.first.locator("tbody tr")
    assert rows.count() == len(load_sources())
    cells = preview.first.locator("tbody td").all_text_contents()
    days = {cell.strip() for cell in cells if re.fullmatch(r"\d{4}-\d{2}-\d{2}", cell.strip())}  # not a count of 20
    assert len(days) == 1, days
    preview.first.scroll_into_view_if_needed()
    ui.shot("03-gold-preview.png")


PARTITION_FIGURES = """
query ($key: AssetKeyInput!, $partitions: [String!]) {
  assetOrError(assetKey: $key) { ... on Asset {
    assetMaterializations(partitions: $partitions) {
      partition
      metadataEntries { label ... on IntMetadataEntry { intValue } }
    } } } }
"""


def _figure_by_day(ui: Ui, asset: str, label: str) -> dict[str, int]:
    data = ui.graphql(
        PARTITION_FIGURES, {"key": {"path": asset.split("/")}, "partitions": [d.isoformat() for d in ui.days]}
    )
    figures: dict[str, int] = {}
    for event in data["assetOrError"]["assetMaterializations"]:  # newest first
        value = next(e["intValue"] for e in event["metadataEntries"] if e["label"] == label)
        figures.setdefault(event["partition"], value)
    return figures


def test_each_backfilled_day_has_its_own_tweet_count_in_the_ui(ui):
    raw = _figure_by_day(ui, "raw/aluraonline", "tweets")
    gold = _figure_by_day(ui, "gold/daily_interactions", "n_tweets")
    assert sorted(raw) == sorted(gold) == [d.isoformat() for d in ui.days]
    assert raw == ui.api_tweets  # each day's own count, exactly as the API returns it (not the run's total 6 times)
    assert gold == raw  # one source: gold counts what raw landed

    # What the partitions view shows for each day, read from the page itself.
    shown = {}
    for day in reversed(ui.days):
        ui.open(f"/assets/raw/aluraonline?view=partitions&partition={day.isoformat()}")
        ui.page.get_by_text("Latest materialization").first.wait_for()
        ui.page.get_by_text("rate_limit_waits", exact=True).first.wait_for()
        match = re.search(r"(?m)^tweets\s+(\d+)\s*$", ui.page.inner_text("body"))
        assert match, f"no tweets figure on the {day} partition page"
        shown[day.isoformat()] = int(match.group(1))
        if day == ui.days[-1]:
            ui.shot("04-raw-partitions.png")
    assert shown == raw


LAUNCHED_RUN = "launchPipelineExecution"
RUN_STATUS = "query ($id: ID!) { runOrError(runId: $id) { ... on Run { status tags { key value } } } }"


def test_execute_all_on_a_checks_tab_does_not_fail(ui):
    ui.open("/assets/gold/daily_interactions?view=checks")
    with ui.page.expect_response(lambda r: LAUNCHED_RUN in (r.request.post_data or "")) as launched:
        ui.page.get_by_role("button", name="Execute all").click()
    request = json.loads(launched.value.request.post_data)
    selector = request["variables"]["executionParams"]["selector"]
    # gold's checks: column_schema_change, no_negative_counts, reconciles_with_silver, yesterday_landed
    assert selector["assetSelection"] == [] and len(selector["assetCheckSelection"]) == 4
    run_id = launched.value.json()["data"][LAUNCHED_RUN]["run"]["id"]

    deadline, status = time.monotonic() + 240, None
    while time.monotonic() < deadline:
        status = ui.graphql(RUN_STATUS, {"id": run_id})["runOrError"]["status"]
        if status in TERMINAL:
            break
        time.sleep(1)
    assert status == "SUCCESS", f"run {run_id}: {status}; see build/test-ui/daemon.log"
    ui.open(f"/runs/{run_id}")
    ui.page.get_by_text("Success", exact=True).first.wait_for()
    ui.page.get_by_text("ASSET_CHECK_EVALUATION", exact=True).first.wait_for()
    ui.shot("05-checks-run.png")


def test_the_html_report_shows_one_chart_per_source(ui):
    report = ui.lake_dir / "report.html"
    ui.page.goto(report.as_uri())
    sources = load_sources()
    for source in sources:
        section = ui.page.locator(f"section#source-{source.name}")
        assert section.locator("img.chart").count() == 1
        assert section.locator("img.chart").evaluate("image => image.naturalWidth") == 900
    assert ui.page.locator("img.chart").count() == len(sources)
    ui.shot("06-html-report.png")
    ui.shot("06-html-report-full.png", full_page=True)
