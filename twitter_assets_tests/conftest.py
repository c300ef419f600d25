"""Shared fixtures: a running X API simulator (real HTTP on 127.0.0.1) and the recorded seed pages."""

import os
from datetime import datetime, timedelta, timezone

# The tests use days before the recent-search window (to see them refused, or fetched with
# `endpoint: all`), so their partitions start well before it; set before the package is imported.
os.environ.setdefault("TWITTER_PARTITIONS_START", (datetime.now(timezone.utc) - timedelta(days=40)).date().isoformat())

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from twitter_assets.simulator import SimulatorServer, SyntheticCorpus
from twitter_assets.simulator.records import Corpus

REPO_ROOT = Path(__file__).resolve().parents[1]
SEED_PAGES_DIR = REPO_ROOT.parent / "shared" / "fixtures" / "seed_datalake" / "bronze"
SIMULATOR_TOKEN = "test-token"

try:  # the distributed tests (pytest -m distributed) need the `distributed` extra
    import dagster_celery  # noqa: F401
    import dagster_postgres  # noqa: F401
    import psutil  # noqa: F401
except ImportError:
    collect_ignore = ["distributed"]

# The client, lake and pipeline fixtures (they build on the simulator fixtures below).
pytest_plugins = ["twitter_assets_tests.pipeline_fixtures"]


@pytest.fixture(scope="session")
def synthetic_corpus() -> SyntheticCorpus:
    """The default synthetic corpus; immutable, so one instance serves every test."""
    return SyntheticCorpus(account_username="AluraOnline", seed=7, daily_volume=250)


@pytest.fixture
def simulator_token() -> str:
    return SIMULATOR_TOKEN


@pytest.fixture
def make_simulator(synthetic_corpus, simulator_token) -> Iterator[Callable[..., SimulatorServer]]:
    """Start simulators with any SimulatorServer keyword (default: the synthetic corpus, the test token)."""
    started: list[SimulatorServer] = []

    def make(corpus: Corpus | None = None, **settings) -> SimulatorServer:
        settings.setdefault("bearer_tokens", {simulator_token})
        server = SimulatorServer(corpus if corpus is not None else synthetic_corpus, **settings).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def simulator(make_simulator) -> SimulatorServer:
    """A started simulator over the synthetic corpus, accepting `simulator_token`."""
    return make_simulator()


@pytest.fixture
def seed_pages() -> list[Path]:
    """The original project's recorded API pages (2021-12-09..15), from shared/ beside the repo."""
    pages = sorted(SEED_PAGES_DIR.glob("*.ndjson"))
    if not pages:
        pytest.skip(f"recorded seed pages not found in {SEED_PAGES_DIR} (shared/fixtures is not beside the repo)")
    return pages
