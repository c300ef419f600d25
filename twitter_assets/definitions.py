"""The code location: the only module that knows every asset, check, resource and automation.

Resources come from the environment (see README, "Contract"): the bearer token through
`dagster.EnvVar` so its value is never stored in config or shown in the UI; the API root and the
lake root as plain settings. The same definitions serve the simulator and the real API.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from dagster import Definitions, EnvVar

from twitter_assets.assets.gold import DAILY_INTERACTIONS_KEY, build_gold_assets
from twitter_assets.assets.raw import build_raw_search_asset
from twitter_assets.assets.report import build_report_assets
from twitter_assets.assets.sentiment import build_sentiment_assets
from twitter_assets.assets.silver import SILVER_TWEETS_KEY, build_silver_assets
from twitter_assets.automation.conditions import apply_automation
from twitter_assets.automation.freshness import build_yesterday_landed_check
from twitter_assets.automation.schedules import daily_refresh_job
from twitter_assets.automation.sensors import alert_on_run_failure, build_automation_sensor
from twitter_assets.checks.gold import build_gold_checks
from twitter_assets.checks.raw import build_raw_checks
from twitter_assets.checks.schema import build_schema_checks
from twitter_assets.checks.sentiment import build_sentiment_checks
from twitter_assets.checks.silver import build_silver_checks
from twitter_assets.executors import executor_from_env
from twitter_assets.lake import DEFAULT_LAKE_DIR, LAKE_DIR_ENV, Lake
from twitter_assets.resources.x_api import BASE_URL_ENV, DEFAULT_BASE_URL, TOKEN_ENV, XApiClient
from twitter_assets.sources import Source, load_sources


def build_assets(sources: Sequence[Source]) -> list:
    """Every asset of the graph for these sources: one raw asset each, shared silver, gold and report,
    each with its layer's automation condition (applied here, in one place: automation/conditions.py)."""
    assets = [
        *(build_raw_search_asset(source) for source in sources),
        *build_silver_assets(sources),
        *build_gold_assets(),
        *build_sentiment_assets(),
        *build_report_assets(),
    ]
    return apply_automation(assets, sources, SILVER_TWEETS_KEY)


def build_asset_checks(sources: Sequence[Source]) -> list:
    """Every asset check: per-source raw checks, silver, gold and sentiment checks, schema-change checks."""
    return [
        *(check for source in sources for check in build_raw_checks(source)),
        *build_silver_checks(list(sources)),
        *build_gold_checks(),
        *build_sentiment_checks(),
        *build_schema_checks(),
        build_yesterday_landed_check(DAILY_INTERACTIONS_KEY),
    ]


def build_definitions(
    sources: Sequence[Source] | None = None,
    x_api: XApiClient | None = None,
    lake: Lake | None = None,
) -> Definitions:
    """Definitions for the given sources and resources; defaults read the environment."""
    sources = list(sources) if sources is not None else load_sources()
    return Definitions(
        assets=build_assets(sources),
        asset_checks=build_asset_checks(sources),
        executor=executor_from_env(),
        jobs=[daily_refresh_job],
        sensors=[build_automation_sensor(), alert_on_run_failure],
        resources={
            "x_api": x_api
            or XApiClient(
                bearer_token=EnvVar(TOKEN_ENV),
                base_url=os.environ.get(BASE_URL_ENV, DEFAULT_BASE_URL),
            ),
            "lake": lake or Lake(root=os.environ.get(LAKE_DIR_ENV, DEFAULT_LAKE_DIR)),
        },
    )


defs = build_definitions()
