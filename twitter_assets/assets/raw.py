"""Bronze: the verbatim X API pages of each tracked search, one landing per source and UTC day.

One factory serves every source of sources.yaml. Landing rules:
- a day inside the API window is fetched and replaces the previous landing whole (tweets can be
  deleted upstream); a landing with more tweets is moved to `superseded/` first, never lost;
- a day partly outside the window is fetched for the part the API still serves (clamped, said in
  metadata), and kept as it was if that would land fewer tweets than are already landed;
- a day wholly outside the window cannot be fetched: it keeps its landing if it has one, and fails
  before any request if it has none.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

import pandas as pd
from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, Failure, MaterializeResult, MetadataValue, asset

from twitter_assets.lake import Lake, LakeError, RawDay
from twitter_assets.partitions import (
    FetchWindow,
    OutsideApiWindowError,
    daily_partitions,
    fetch_window,
    format_api_time,
    parse_day,
    single_run_backfill,
)
from twitter_assets.resources.x_api import FetchStats, SearchResult, XApiClient, XApiError
from twitter_assets.sources import Source

RAW_GROUP = "raw"


def raw_asset_key(source: Source) -> AssetKey:
    return AssetKey(["raw", source.name])


@dataclass
class DayLanding:
    """What happened to one day: fetched and landed, or kept as it was (and why)."""

    day: date
    tweets: int
    pages: int
    window_start: str
    window_end: str
    clamped: bool
    outcome: str  # "landed" | "kept"
    sample: list[dict[str, Any]]
    note: str = ""


def build_raw_search_asset(source: Source) -> AssetsDefinition:
    """The raw asset of one source: its recent-search pages, landed per UTC day."""

    @asset(
        key=raw_asset_key(source),
        group_name=RAW_GROUP,
        partitions_def=daily_partitions,
        backfill_policy=single_run_backfill,
        kinds={"json"},
        pool="x_api",
        description=(
            f"Verbatim X API v2 recent-search pages for the query {source.query!r}, landed as NDJSON "
            "(one page per line) with a fetch manifest, per UTC day of created_at."
        ),
        metadata={"query": source.query, "account": source.account or "", "source": source.name},
    )
    def _raw_search_pages(context: AssetExecutionContext, x_api: XApiClient, lake: Lake) -> MaterializeResult:
        stats = FetchStats()
        # Looked up once, and only when a day is actually fetched: a run over days that cannot be
        # fetched makes no request at all.
        account = functools.cache(lambda: _resolve_account(x_api, source, stats))
        landings = [
            _land_day(context, source, parse_day(key), x_api, lake, account, stats) for key in context.partition_keys
        ]
        return MaterializeResult(metadata=_landing_metadata(landings, stats))

    return _raw_search_pages


def _resolve_account(x_api: XApiClient, source: Source, stats: FetchStats) -> dict[str, Any] | None:
    if not source.account:
        return None
    try:
        return x_api.user_by_username(source.account, stats)
    except XApiError as exc:
        raise Failure(description=f"source {source.name!r}: {exc}") from None


def _land_day(
    context: AssetExecutionContext,
    source: Source,
    day: date,
    x_api: XApiClient,
    lake: Lake,
    account: Callable[[], dict[str, Any] | None],
    stats: FetchStats,
) -> DayLanding:
    now = datetime.now(timezone.utc)
    existing = _existing_landing(context, lake, source, day)
    try:
        window = fetch_window(day, now, source.endpoint)
    except OutsideApiWindowError as exc:
        if existing is None:
            raise Failure(description=f"source {source.name!r}: {exc}; nothing was landed for it before") from None
        context.log.warning(f"{source.name} {day}: {exc}; keeping the {existing.tweet_count} tweets landed before")
        return _kept(day, existing, f"outside the API window: {exc}")

    resolved_account = account()
    try:
        result = x_api.search_recent(source.query, window.start, window.end, endpoint=source.endpoint)
    except XApiError as exc:
        raise Failure(description=f"source {source.name!r}, partition {day}: {exc}") from None
    stats.add(result.stats)

    if existing is not None and window.clamped and result.tweet_count < existing.tweet_count:
        note = (
            f"the API window now covers only {format_api_time(window.start)}..{format_api_time(window.end)} "
            f"and returned {result.tweet_count} tweets, fewer than the {existing.tweet_count} landed before"
        )
        context.log.warning(f"{source.name} {day}: {note}; keeping the earlier landing")
        return _kept(day, existing, note)

    note = ""
    if existing is not None and result.tweet_count < existing.tweet_count:
        archived = lake.archive_raw_day(source.name, day, format_api_time(now).replace(":", ""))
        note = f"{existing.tweet_count} tweets landed before, {result.tweet_count} now; earlier landing in {archived}"
        context.log.warning(f"{source.name} {day}: {note}")
    lake.write_raw_day(
        source.name,
        day,
        [page.body for page in result.pages],
        _manifest(source, day, window, result, resolved_account, now),
    )
    if window.clamped:
        context.log.info(
            f"{source.name} {day}: window clamped to {result.start_time}..{result.end_time} "
            "(the API serves only that part)"
        )
    return DayLanding(
        day=day,
        tweets=result.tweet_count,
        pages=len(result.pages),
        window_start=result.start_time,
        window_end=result.end_time,
        clamped=window.clamped,
        outcome="landed",
        sample=_sample([page.body for page in result.pages]),
        note=note,
    )


def _existing_landing(context: AssetExecutionContext, lake: Lake, source: Source, day: date) -> RawDay | None:
    try:
        return lake.read_raw_day(source.name, day)
    except LakeError as exc:
        context.log.warning(f"{exc}; treating it as not landed")
        return None


def _kept(day: date, existing: RawDay, note: str) -> DayLanding:
    manifest = existing.manifest
    return DayLanding(
        day=day,
        tweets=existing.tweet_count,
        pages=len(existing.pages),
        window_start=manifest.get("start_time", ""),
        window_end=manifest.get("end_time", ""),
        clamped=bool(manifest.get("clamped")),
        outcome="kept",
        sample=_sample(existing.pages),
        note=note,
    )


def _sample(pages: list[dict[str, Any]], size: int = 2) -> list[dict[str, Any]]:
    """The newest tweets of a day, for the materialization's preview."""
    tweets = [tweet for page in pages[:1] for tweet in page.get("data") or []][:size]
    return [{"id": t["id"], "created_at": t.get("created_at"), "text": t.get("text", "")[:80]} for t in tweets]


def _manifest(
    source: Source,
    day: date,
    window: FetchWindow,
    result: SearchResult,
    account: dict[str, Any] | None,
    fetched_at: datetime,
) -> dict[str, Any]:
    return {
        "source": source.name,
        "query": source.query,
        "account": account,
        "partition": day.isoformat(),
        "day_start": format_api_time(window.day_start),
        "day_end": format_api_time(window.day_end),
        "start_time": result.start_time,
        "end_time": result.end_time,
        "clamped": window.clamped,
        "fetched_at": format_api_time(fetched_at),
        "tweet_count": result.tweet_count,
        "pagination_tokens": [page.pagination_token for page in result.pages],
        "fetch": result.stats.as_metadata(),
    }


def _landing_metadata(landings: list[DayLanding], stats: FetchStats) -> dict[str, Any]:
    days = pd.DataFrame(
        [
            {
                "day": landing.day,
                "outcome": landing.outcome,
                "tweets": landing.tweets,
                "pages": landing.pages,
                "from": landing.window_start,
                "to": landing.window_end,
                "clamped": landing.clamped,
                "note": landing.note,
            }
            for landing in landings
        ]
    )
    samples = [tweet for landing in landings for tweet in landing.sample][:6]
    return {
        **stats.as_metadata(),
        "dagster/row_count": sum(landing.tweets for landing in landings),
        "landed_tweets": sum(landing.tweets for landing in landings),
        "days_landed": sum(landing.outcome == "landed" for landing in landings),
        "days_kept": sum(landing.outcome == "kept" for landing in landings),
        "clamped_days": [str(landing.day) for landing in landings if landing.clamped],
        "days": MetadataValue.md(days.to_markdown(index=False)),
        "preview": MetadataValue.md(pd.DataFrame(samples).to_markdown(index=False) if samples else "_no tweets_"),
    }
