"""Checks of the raw landings: the pages are API pages, complete, and cover the partition's window.

They are blocking: a bad raw day stops the run before silver and gold are rebuilt from it.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from dagster import AssetChecksDefinition

from twitter_assets.assets.raw import raw_asset_key
from twitter_assets.checks.partitioned import DayCheck, DayVerdict, build_layer_checks
from twitter_assets.lake import Lake, LakeError
from twitter_assets.partitions import day_bounds, format_api_time
from twitter_assets.sources import Source


@dataclass
class LandingSummary:
    """What the raw checks need of a landing, gathered in one streaming pass over its pages."""

    manifest: dict[str, Any]
    page_count: int = 0
    tweet_count: int = 0
    sum_result_count: int = 0
    next_tokens: list[str | None] = field(default_factory=list)
    shape_problem: tuple[int, str] | None = None
    outside_window: list[str] = field(default_factory=list)
    outside_count: int = 0


_SUMMARIES: dict[tuple[str, str, date, str], LandingSummary] = {}


def _summary(lake: Lake, source: str, day: date, manifest: dict[str, Any]) -> LandingSummary:
    """One pass over the pages, remembered per landing: the layer's checks share it in their step. The
    key holds the whole manifest: a later landing of the same pages (same files) can state another
    window, and the summary carries the manifest the checks judge."""
    info = lake.fs.info(lake.raw_pages_path(source, day, manifest))
    stated = hashlib.sha256(json.dumps(manifest, sort_keys=True, default=str).encode()).hexdigest()
    key = (lake.base, source, day, f"{stated}:{info.get('size')}:{info.get('mtime')}")
    if key not in _SUMMARIES:
        if len(_SUMMARIES) >= 16:
            _SUMMARIES.pop(next(iter(_SUMMARIES)))
        _SUMMARIES[key] = _summarise(lake, source, day, manifest)
    return _SUMMARIES[key]


def _summarise(lake: Lake, source: str, day: date, manifest: dict[str, Any]) -> LandingSummary:
    summary = LandingSummary(manifest=manifest)
    window = _window(manifest)
    for number, page in enumerate(lake.iter_raw_pages(source, day, manifest), start=1):
        summary.page_count += 1
        problem = _page_problem(page)
        if problem and summary.shape_problem is None:
            summary.shape_problem = (number, problem)
        if problem:
            continue
        data = page.get("data") or []
        summary.tweet_count += len(data)
        summary.sum_result_count += page["meta"]["result_count"]
        summary.next_tokens.append(page["meta"].get("next_token"))
        if window is not None:
            start, end = window
            for tweet in data:
                if not start <= datetime.fromisoformat(tweet["created_at"].replace("Z", "+00:00")) < end:
                    summary.outside_count += 1
                    if len(summary.outside_window) < 3:
                        summary.outside_window.append(tweet["id"])
    return summary


def _window(manifest: dict[str, Any]) -> tuple[datetime, datetime] | None:
    try:
        return tuple(  # type: ignore[return-value]
            datetime.fromisoformat(manifest[name].replace("Z", "+00:00")) for name in ("start_time", "end_time")
        )
    except (KeyError, ValueError, AttributeError):
        return None


def _with_landing(
    source: Source, judge: Callable[[LandingSummary, date], DayVerdict]
) -> Callable[[Lake, date], DayVerdict]:
    """Summarise the day's landing (failing the check if there is none or it is torn), then judge it."""

    def judge_day(lake: Lake, day: date) -> DayVerdict:
        manifest = lake.read_manifest(source.name, day)
        if manifest is None:
            return DayVerdict(False, f"nothing is landed for {source.name} on {day}: materialize the raw partition")
        try:
            summary = _summary(lake, source.name, day, manifest)
        except LakeError as exc:
            return DayVerdict(False, str(exc))
        except FileNotFoundError:
            return DayVerdict(
                False,
                f"the pages file of {source.name} {day} named by its manifest is missing: "
                "re-materialize the raw partition",
            )
        return judge(summary, day)

    return judge_day


def pages_match_api_shape(landing: LandingSummary, day: date) -> DayVerdict:
    if landing.shape_problem:
        number, problem = landing.shape_problem
        return DayVerdict(False, f"page {number} of {landing.page_count}: {problem}", {"page": number})
    return DayVerdict(True, f"{landing.page_count} pages shaped like search answers", {"pages": landing.page_count})


def _page_problem(page: object) -> str | None:
    if not isinstance(page, dict):
        return "not a JSON object"
    meta = page.get("meta")
    if not isinstance(meta, dict) or not isinstance(meta.get("result_count"), int):
        return "no integer meta.result_count"
    data = page.get("data", [])
    if not isinstance(data, list):
        return "data is not a list"
    for index, tweet in enumerate(data):
        if not isinstance(tweet, dict):
            return f"tweet {index} is not an object"
        for name in ("id", "text", "created_at", "author_id"):
            if not isinstance(tweet.get(name), str):
                return f"tweet {index} has no string {name!r}"
        try:
            datetime.fromisoformat(tweet["created_at"].replace("Z", "+00:00"))
        except ValueError:
            return f"tweet {tweet['id']} has an unreadable created_at {tweet['created_at']!r}"
    users = (page.get("includes") or {}).get("users", [])
    if not isinstance(users, list) or any(
        not isinstance(user, dict) or not isinstance(user.get("id"), str) for user in users
    ):
        return "includes.users is not a list of users with string ids"
    return None


def result_counts_match_tweets(landing: LandingSummary, day: date) -> DayVerdict:
    declared, landed = landing.sum_result_count, landing.tweet_count
    manifest = landing.manifest.get("tweet_count", landed)
    metadata = {"sum_result_count": declared, "tweets_landed": landed, "manifest_tweet_count": manifest}
    if declared == landed == manifest:
        return DayVerdict(True, f"{landed} tweets, as the pages declare", metadata)
    return DayVerdict(
        False,
        f"the pages declare {declared} tweets (sum of meta.result_count) but hold {landed} "
        f"and the manifest says {manifest}: re-fetch the day",
        metadata,
    )


def next_token_chain_complete(landing: LandingSummary, day: date) -> DayVerdict:
    tokens = landing.manifest.get("pagination_tokens") or []
    pointed_by = landing.next_tokens
    metadata = {"pages": landing.page_count, "tokens_sent": len(tokens)}
    if len(tokens) != landing.page_count:
        return DayVerdict(
            False,
            f"{len(tokens)} requests were made but {landing.page_count} pages are landed: a page is missing",
            metadata,
        )
    if tokens and tokens[0] is not None:
        return DayVerdict(False, "the first landed page was not the first page of the search", metadata)
    for number in range(1, len(pointed_by)):
        if pointed_by[number - 1] != tokens[number]:
            return DayVerdict(
                False,
                f"page {number} points to next_token {pointed_by[number - 1]!r} "
                f"but page {number + 1} was fetched with {tokens[number]!r}: "
                "the chain is broken, a page is missing",
                metadata,
            )
    if pointed_by and pointed_by[-1]:
        return DayVerdict(
            False, "the last landed page still has a next_token: the pages after it are missing", metadata
        )
    return DayVerdict(True, f"{landing.page_count} pages, next_token chain unbroken", metadata)


def window_matches_partition(landing: LandingSummary, day: date) -> DayVerdict:
    manifest = landing.manifest
    day_start, day_end = day_bounds(day)
    window = _window(manifest)
    if window is None:
        return DayVerdict(False, "the manifest has no readable start_time/end_time: re-materialize the raw partition")
    start, end = window
    clamped = bool(manifest.get("clamped"))
    metadata = {"start_time": format_api_time(start), "end_time": format_api_time(end), "clamped": clamped}
    if not day_start <= start < end <= day_end:
        return DayVerdict(
            False, f"the fetched window {metadata['start_time']}..{metadata['end_time']} is not inside {day}", metadata
        )
    if not clamped and (start, end) != (day_start, day_end):
        return DayVerdict(
            False,
            f"the fetched window {metadata['start_time']}..{metadata['end_time']} does not cover {day} "
            "and is not marked clamped",
            metadata,
        )
    if landing.outside_count:
        return DayVerdict(
            False,
            f"{landing.outside_count} tweets were created outside the fetched window, e.g. {landing.outside_window}",
            metadata,
        )
    note = " (clamped to the API window, as stated)" if clamped else ""
    return DayVerdict(True, f"window {metadata['start_time']}..{metadata['end_time']}{note}", metadata)


RAW_CHECKS = {
    "pages_match_api_shape": (
        pages_match_api_shape,
        "Every landed page parses and is shaped like a recent-search answer.",
    ),
    "result_counts_match_tweets": (result_counts_match_tweets, "Sum of meta.result_count equals the tweets landed."),
    "next_token_chain_complete": (next_token_chain_complete, "No page is missing from the next_token chain."),
    "window_matches_partition": (
        window_matches_partition,
        "The fetched window is the partition's day, or the stated clamped part of it.",
    ),
}


def build_raw_checks(source: Source) -> list[AssetChecksDefinition]:
    """One step per source runs its four raw checks over a single pass of the pages."""
    return [
        build_layer_checks(
            f"raw_{source.name}_checks",
            raw_asset_key(source),
            [
                DayCheck(name=name, description=description, judge=_with_landing(source, judge))
                for name, (judge, description) in RAW_CHECKS.items()
            ],
        )
    ]
