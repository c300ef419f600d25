"""Fixtures for the client and the asset graph: a fast-retrying client bound to a simulator, and a
`Pipeline` (temporary lake + temporary Dagster instance) that runs real materializations."""

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from dagster import AssetSelection, DagsterInstance, ExecuteInProcessResult, instance_for_test, materialize

from twitter_assets.assets.raw import raw_asset_key
from twitter_assets.definitions import build_asset_checks, build_assets
from twitter_assets.lake import Lake
from twitter_assets.partitions import format_api_time
from twitter_assets.resources.x_api import XApiClient
from twitter_assets.sources import Source

DEFAULT_SOURCES = (Source(name="aluraonline", query="AluraOnline", account="AluraOnline"),)


@dataclass
class Pipeline:
    """The whole asset graph over one lake, one instance and one simulator."""

    sources: Sequence[Source]
    x_api: XApiClient
    lake: Lake
    instance: DagsterInstance

    def backfill(
        self, first: date, last: date, selection: str | AssetSelection | None = None, raise_on_error: bool = True
    ) -> ExecuteInProcessResult:
        """One run over `first..last` (the single-run backfill), like `--partition-range`."""
        if selection == "raw":
            selection = AssetSelection.assets(*(raw_asset_key(source) for source in self.sources))
        tags = {
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        }
        return materialize(
            [*build_assets(self.sources), *build_asset_checks(self.sources)],
            resources={"x_api": self.x_api, "lake": self.lake},
            instance=self.instance,
            tags=tags,
            selection=selection,
            raise_on_error=raise_on_error,
        )

    def query(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple]:
        with self.lake.connect() as db:
            return db.execute(sql, params or {}).fetchall()


@pytest.fixture
def make_x_api(simulator, simulator_token):
    default_simulator = simulator

    def make(simulator=None, **overrides) -> XApiClient:
        settings = {
            "bearer_token": simulator_token,
            "base_url": (simulator or default_simulator).base_url,
            "backoff_initial_seconds": 0.05,
            "backoff_max_seconds": 0.2,
            "timeout_seconds": 10.0,
        }
        return XApiClient(**{**settings, **overrides})

    return make


@pytest.fixture
def dagster_instance() -> Iterator[DagsterInstance]:
    with instance_for_test() as instance:
        yield instance


@pytest.fixture
def make_pipeline(tmp_path: Path, make_x_api, dagster_instance):
    def make(sources: Sequence[Source] = DEFAULT_SOURCES, simulator=None) -> Pipeline:
        return Pipeline(
            sources=list(sources),
            x_api=make_x_api(simulator=simulator),
            lake=Lake(root=str(tmp_path / "lake"), lock_timeout_seconds=60),
            instance=dagster_instance,
        )

    return make


@pytest.fixture
def pipeline(make_pipeline) -> Pipeline:
    return make_pipeline()


@pytest.fixture
def seed_gold(seed_pages) -> list[dict]:
    """The original project's gold table (one JSON object per line), beside the seed pages."""
    path = Path(seed_pages[0]).parents[1] / "gold" / "tweet_insight.ndjson"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def land(lake: Lake, day: date, tweets: list[dict], source: str = "aluraonline", **manifest: Any) -> None:
    """Write a consistent one-page landing, as if it had been fetched earlier for the whole day."""
    pages = [{"data": tweets, "meta": {"result_count": len(tweets)}} if tweets else {"meta": {"result_count": 0}}]
    start = datetime.combine(day, time.min, tzinfo=timezone.utc)
    lake.write_raw_day(
        source,
        day,
        pages,
        {
            "query": "AluraOnline",
            "start_time": format_api_time(start),
            "end_time": format_api_time(start + timedelta(days=1)),
            "clamped": False,
            "pagination_tokens": [None],
            "tweet_count": len(tweets),
            **manifest,
        },
    )


def tweet(tweet_id: str, day: date, **fields: Any) -> dict:
    """A minimal API tweet object created at noon of `day`."""
    return {
        "id": tweet_id,
        "text": "Curti o curso da @AluraOnline",
        "created_at": f"{day.isoformat()}T12:00:00.000Z",
        "author_id": "42",
        "conversation_id": tweet_id,
        "public_metrics": {"like_count": 1, "retweet_count": 0, "reply_count": 0, "quote_count": 0},
        **fields,
    }
