"""Checks of the raw landings: the pages are API pages, complete, and cover the partition's window.

They are blocking: a bad raw day stops the run before silver and gold are rebuilt from it.
"""

from collections.abc import Callable
from datetime import date, datetime

from dagster import AssetChecksDefinition

from twitter_assets.assets.raw import raw_asset_key
from twitter_assets.checks.partitioned import DayVerdict, build_partitioned_check
from twitter_assets.lake import Lake, LakeError, RawDay
from twitter_assets.partitions import day_bounds, format_api_time
from twitter_assets.sources import Source


def _with_landing(source: Source, judge: Callable[[RawDay, date], DayVerdict]) -> Callable[[Lake, date], DayVerdict]:
    """Read the day's landing (failing the check if there is none or it is torn), then judge it."""

    def judge_day(lake: Lake, day: date) -> DayVerdict:
        try:
            landing = lake.read_raw_day(source.name, day)
        except LakeError as exc:
            return DayVerdict(False, str(exc))
        if landing is None:
            return DayVerdict(False, f"nothing is landed for {source.name} on {day}: materialize the raw partition")
        return judge(landing, day)

    return judge_day


def pages_match_api_shape(landing: RawDay, day: date) -> DayVerdict:
    for number, page in enumerate(landing.pages, start=1):
        problem = _page_problem(page)
        if problem:
            return DayVerdict(False, f"page {number} of {len(landing.pages)}: {problem}", {"page": number})
    return DayVerdict(
        True, f"{len(landing.pages)} pages shaped like recent-search answers", {"pages": len(landing.pages)}
    )


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


def result_counts_match_tweets(landing: RawDay, day: date) -> DayVerdict:
    declared = sum(page.get("meta", {}).get("result_count", 0) for page in landing.pages)
    landed = landing.tweet_count
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


def next_token_chain_complete(landing: RawDay, day: date) -> DayVerdict:
    tokens = landing.manifest.get("pagination_tokens") or []
    pages = landing.pages
    metadata = {"pages": len(pages), "tokens_sent": len(tokens)}
    if len(tokens) != len(pages):
        return DayVerdict(
            False, f"{len(tokens)} requests were made but {len(pages)} pages are landed: a page is missing", metadata
        )
    if tokens and tokens[0] is not None:
        return DayVerdict(False, "the first landed page was not the first page of the search", metadata)
    for number in range(1, len(pages)):
        pointed = pages[number - 1].get("meta", {}).get("next_token")
        if pointed != tokens[number]:
            return DayVerdict(
                False,
                f"page {number} points to next_token {pointed!r} "
                f"but page {number + 1} was fetched with {tokens[number]!r}: "
                "the chain is broken, a page is missing",
                metadata,
            )
    if pages and pages[-1].get("meta", {}).get("next_token"):
        return DayVerdict(
            False, "the last landed page still has a next_token: the pages after it are missing", metadata
        )
    return DayVerdict(True, f"{len(pages)} pages, next_token chain unbroken", metadata)


def window_matches_partition(landing: RawDay, day: date) -> DayVerdict:
    manifest = landing.manifest
    day_start, day_end = day_bounds(day)
    try:
        start, end = (
            datetime.fromisoformat(manifest[name].replace("Z", "+00:00")) for name in ("start_time", "end_time")
        )
    except (KeyError, ValueError, AttributeError):
        return DayVerdict(False, "the manifest has no readable start_time/end_time: re-materialize the raw partition")
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
    outside = [
        tweet["id"]
        for page in landing.pages
        for tweet in page.get("data") or []
        if not start <= datetime.fromisoformat(tweet["created_at"].replace("Z", "+00:00")) < end
    ]
    if outside:
        return DayVerdict(
            False, f"{len(outside)} tweets were created outside the fetched window, e.g. {outside[:3]}", metadata
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
    return [
        build_partitioned_check(
            asset=raw_asset_key(source), name=name, description=description, judge=_with_landing(source, judge)
        )
        for name, (judge, description) in RAW_CHECKS.items()
    ]
