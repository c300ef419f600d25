"""Bronze: the verbatim X API pages of each tracked search, one landing per source and UTC day.

One factory serves every source of sources.yaml. Landing rules:
- a day inside the API window is fetched and replaces the previous landing whole (tweets can be
  deleted upstream); a landing with tweets the new one lacks is copied to `superseded/` first;
- a day partly outside the window is fetched for the part the API still serves (clamped, said in
  metadata), and kept as it was if the fetch would lose landed tweets and has fewer distinct ones
  (its own extra tweets, if any, go to `superseded/` then);
- counts are of distinct tweet ids, and the decision is taken at commit time against the landing
  current then (a concurrent landing of the day may have committed meanwhile): `Lake` commits.
- a day wholly outside the window cannot be fetched: it keeps its landing if it has one, and fails
  before any request if it has none.
"""

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    AssetsDefinition,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from twitter_assets.assets.layers import describe
from twitter_assets.assets.tables import report_partitions
from twitter_assets.lake import Lake, LakeError, LandingComparison, RawLanding
from twitter_assets.partitions import (
    FULL_ARCHIVE_ENDPOINT,
    FetchWindow,
    OutsideApiWindowError,
    daily_partitions,
    fetch_window,
    format_api_time,
    full_archive_backfill,
    parse_day,
    single_run_backfill,
)
from twitter_assets.resources.x_api import FetchStats, XApiClient, XApiError
from twitter_assets.sources import Source

RAW_GROUP = "raw"
PROGRESS_EVERY_PAGES = 10
PROGRESS_EVERY_SECONDS = 5.0


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
    complete: bool
    outcome: str  # "landed" | "kept"
    sample: list[dict[str, Any]]
    stats: FetchStats = field(default_factory=FetchStats)
    note: str = ""
    fetched_to: str = ""  # the end of this run's fetch ("" when nothing was fetched): a kept day was still tried

    def metadata(self) -> dict[str, Any]:
        """This day's own figures, for its partition's materialization."""
        import pandas as pd  # here, not at module level: the code location imports faster

        return {
            **self.stats.as_metadata(),
            "dagster/row_count": self.tweets,
            "tweets": self.tweets,
            "pages": self.pages,
            "outcome": self.outcome,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "clamped": self.clamped,
            "complete": self.complete,
            "fetched_to": self.fetched_to,
            "note": self.note,
            "preview": MetadataValue.md(
                pd.DataFrame(self.sample).to_markdown(index=False) if self.sample else "_no tweets_"
            ),
        }


def build_raw_search_asset(source: Source) -> AssetsDefinition:
    """The raw asset of one source: its recent-search pages, landed per UTC day."""

    @asset(
        key=raw_asset_key(source),
        group_name=RAW_GROUP,
        partitions_def=daily_partitions,
        backfill_policy=full_archive_backfill if source.endpoint == FULL_ARCHIVE_ENDPOINT else single_run_backfill,
        kinds={"json"},
        pool="x_api",
        description=(
            describe(
                "raw",
                f"the verbatim X API v2 search pages for the query {source.query!r}, per UTC day "
                "of created_at, landed as NDJSON (one page per line) with a fetch manifest and compact typed rows.",
            )
        ),
        metadata={"query": source.query, "account": source.account or "", "source": source.name},
    )
    def _raw_search_pages(context: AssetExecutionContext, x_api: XApiClient, lake: Lake) -> MaterializeResult:
        stats = FetchStats()
        # Looked up once, and only when a day is actually fetched: a run over days that cannot be
        # fetched makes no request at all.
        account = functools.cache(lambda: _resolve_account(x_api, source, stats))
        landings, failures = [], {}
        for key in context.partition_keys:
            try:
                landing = _land_day(context, source, parse_day(key), x_api, lake, account)
            except (Failure, LakeError, OSError) as exc:  # the other days still land: one bad day costs one day
                failures[key] = (
                    exc.description if isinstance(exc, Failure) else None
                ) or f"{type(exc).__name__}: {exc}"
                context.log.error(f"{source.name} {key}: {failures[key]}")
                continue
            stats.add(landing.stats)
            landings.append(landing)
        if failures:
            _record_landed_and_fail(context, source, landings, failures)
        report_partitions(context, {landing.day.isoformat(): landing.metadata() for landing in landings})
        return MaterializeResult(metadata=_run_metadata(landings, stats))

    return _raw_search_pages


def _record_landed_and_fail(
    context: AssetExecutionContext, source: Source, landings: list[DayLanding], failures: dict[str, str]
) -> None:
    """A range run with failed days: record each landed day as materialized (a failed step records
    none of its range, so the automation would fetch them all again), then fail naming the others."""
    for landing in landings:
        context.log_event(
            AssetMaterialization(
                asset_key=context.asset_key, partition=landing.day.isoformat(), metadata=landing.metadata()
            )
        )
    if not landings and len(failures) == 1:
        raise Failure(description=next(iter(failures.values())))
    failed = "; ".join(f"{key}: {reason}" for key, reason in failures.items())
    landed = f" ({len(landings)} other days landed and are recorded)" if landings else ""
    raise Failure(description=f"{len(failures)} of {len(failures) + len(landings)} days failed{landed}: {failed}")


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
) -> DayLanding:
    now = datetime.now(timezone.utc)
    unreadable = ""
    try:
        existing = lake.read_manifest(source.name, day)
    except LakeError as exc:  # the fetch below replaces it; the commit keeps the old files aside
        existing, unreadable = None, str(exc).split(": re-materialize", 1)[0]
        context.log.warning(f"{source.name} {day}: {unreadable}; fetching the day again")
    existing_tweets = int(existing.get("tweet_count", 0)) if existing else 0
    try:
        window = fetch_window(day, now, source.endpoint)
    except OutsideApiWindowError as exc:
        if unreadable:
            raise Failure(
                description=f"source {source.name!r}: {unreadable}, and {exc}: restore the manifest by hand"
            ) from None
        if existing is None:
            raise Failure(description=f"source {source.name!r}: {exc}; nothing was landed for it before") from None
        context.log.warning(f"{source.name} {day}: {exc}; keeping the {existing_tweets} tweets landed before")
        return _kept(day, existing, f"outside the API window: {exc}")

    resolved_account = account()
    stats = FetchStats()
    with lake.begin_raw_landing(source.name, day) as landing:
        progress = _Progress(context, source, day, x_api)
        try:
            for page in x_api.iter_search(source.query, window.start, window.end, stats, source.endpoint):
                landing.add_page(page.body, page.pagination_token)
                progress.page(landing, page.body)
        except XApiError as exc:
            raise Failure(
                description=f"source {source.name!r}, partition {day}: {exc} "
                f"(after {landing.page_count} pages; nothing of this attempt was landed)"
            ) from None

        outcome = landing.commit(
            _manifest(source, window, resolved_account, now, stats), prefer_new=functools.partial(_prefer_new, window)
        )
    comparison = outcome.comparison
    if not outcome.committed:
        note = (
            f"the API window now covers only {format_api_time(window.start)}..{format_api_time(window.end)} "
            f"and returned {comparison.new_tweets} distinct tweets, fewer than the {comparison.previous_tweets} "
            "landed before"
        )
        if outcome.archived:
            note += f"; this fetch's {comparison.only_new} tweets the landing lacks are in {outcome.archived}"
        context.log.warning(f"{source.name} {day}: {note}; keeping the earlier landing")
        kept = _kept(day, outcome.manifest, note)
        kept.stats = stats
        kept.fetched_to = format_api_time(window.end)
        return kept
    manifest = outcome.manifest
    note = ""
    if outcome.archived:
        note = (
            f"{comparison.previous_tweets} tweets landed before, {comparison.new_tweets} now "
            f"({comparison.only_previous} no longer served); earlier landing in {outcome.archived}"
        )
        context.log.warning(f"{source.name} {day}: {note}")
    if window.clamped:
        context.log.info(
            f"{source.name} {day}: window clamped to {manifest['start_time']}..{manifest['end_time']} "
            "(the API serves only that part)"
        )
    context.log.info(f"landed {source.name} {day}: {landing.tweet_count} tweets in {landing.page_count} pages")
    return DayLanding(
        day=day,
        tweets=landing.tweet_count,
        pages=landing.page_count,
        window_start=manifest["start_time"],
        window_end=manifest["end_time"],
        clamped=window.clamped,
        complete=window.start <= window.day_start and window.end >= window.day_end,
        outcome="landed",
        fetched_to=format_api_time(window.end),
        sample=progress.sample,
        stats=stats,
        note=note,
    )


class _Progress:
    """Progress lines while a day pages: tweets so far, pages, and the rate-limit budget left."""

    def __init__(self, context: AssetExecutionContext, source: Source, day: date, x_api: XApiClient):
        self.context, self.source, self.day, self.x_api = context, source, day, x_api
        self.sample: list[dict[str, Any]] = []
        self._logged_at = time.monotonic()

    def page(self, landing: RawLanding, body: dict[str, Any]) -> None:
        if not self.sample:
            self.sample = _sample(body)
        elapsed = time.monotonic() - self._logged_at
        if landing.page_count % PROGRESS_EVERY_PAGES == 0 or elapsed >= PROGRESS_EVERY_SECONDS:
            budget = self.x_api.rate_limit_budget()
            remaining = "unknown" if budget["remaining"] is None else f"{budget['remaining']:.0f} requests"
            reset = (
                ""
                if budget["reset"] is None
                else f" until {format_api_time(datetime.fromtimestamp(budget['reset'], timezone.utc))}"
            )
            self.context.log.info(
                f"paging {self.source.name} {self.day}: {landing.tweet_count} tweets, {landing.page_count} pages, "
                f"rate-limit budget {remaining}{reset}"
            )
            self._logged_at = time.monotonic()


def _prefer_new(window: FetchWindow, comparison: LandingComparison) -> bool:
    """Whether a fetch replaces the landed day. Inside the API window the API's answer is the day
    (tweets deleted upstream go; the earlier landing is archived). A clamped fetch sees only part of
    the day: it replaces a landing it lacks tweets of only if it has at least as many distinct ones
    (a fetch with every landed tweet always replaces it: `RawLanding.commit`)."""
    return not window.clamped or comparison.new_tweets >= comparison.previous_tweets


def _kept(day: date, manifest: dict[str, Any], note: str) -> DayLanding:
    return DayLanding(
        day=day,
        tweets=int(manifest.get("tweet_count", 0)),
        pages=int(manifest.get("page_count", len(manifest.get("pagination_tokens") or []))),
        window_start=manifest.get("start_time", ""),
        window_end=manifest.get("end_time", ""),
        clamped=bool(manifest.get("clamped")),
        complete=not manifest.get("clamped") and manifest.get("end_time") == manifest.get("day_end"),
        outcome="kept",
        sample=[],
        note=note,
    )


def _sample(page: dict[str, Any], size: int = 3) -> list[dict[str, Any]]:
    """The newest tweets of a day, for the materialization's preview."""
    tweets = (page.get("data") or [])[:size]
    return [{"id": t["id"], "created_at": t.get("created_at"), "text": t.get("text", "")[:80]} for t in tweets]


def _manifest(
    source: Source,
    window: FetchWindow,
    account: dict[str, Any] | None,
    fetched_at: datetime,
    stats: FetchStats,
) -> dict[str, Any]:
    return {
        "source": source.name,
        "query": source.query,
        "account": account,
        "partition": window.day.isoformat(),
        "day_start": format_api_time(window.day_start),
        "day_end": format_api_time(window.day_end),
        "start_time": format_api_time(window.start),
        "end_time": format_api_time(window.end),
        "clamped": window.clamped,
        "fetched_at": format_api_time(fetched_at),
        "fetch": stats.as_metadata(),
    }


def _run_metadata(landings: list[DayLanding], stats: FetchStats) -> dict[str, Any]:
    """The run's summary, under run_* names: in a ranged run every partition shows it beside its own figures."""
    import pandas as pd

    days = pd.DataFrame(
        [
            {
                "day": landing.day.isoformat(),
                "outcome": landing.outcome,
                "tweets": landing.tweets,
                "pages": landing.pages,
                "from": landing.window_start,
                "to": landing.window_end,
                "complete": landing.complete,
                "note": landing.note,
            }
            for landing in landings
        ]
    )
    return {
        **{f"run_{name}": value for name, value in stats.as_metadata().items()},
        "run_days": MetadataValue.md(days.to_markdown(index=False)),
        "run_days_landed": sum(landing.outcome == "landed" for landing in landings),
        "run_days_kept": sum(landing.outcome == "kept" for landing in landings),
    }
