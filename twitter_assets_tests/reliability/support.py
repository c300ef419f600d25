"""Shared helpers of the reliability tests: fault counting, expected answers, lake inventories."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from datetime import date, datetime
from pathlib import Path

from twitter_assets.lake import Lake
from twitter_assets.resources.x_api import XApiClient
from twitter_assets.rows import parse_api_time
from twitter_assets.simulator import SimulatorServer
from twitter_assets.simulator.faults import Fault

TRANSIENT = {"503", "500", "reset", "truncate", "slow", "malformed"}


def count_faults(server: SimulatorServer) -> Counter:
    """Wrap the server's FaultPlan so every fault it hands out is counted by kind."""
    counts: Counter = Counter()
    lock = threading.Lock()
    take = server.faults.take

    def counting_take(path: str) -> Fault | None:
        fault = take(path)
        if fault is not None:
            with lock:
                counts[fault.kind] += 1
        return fault

    server.faults.take = counting_take  # type: ignore[method-assign]
    return counts


def expected_pages(client: XApiClient, manifest: dict) -> list[dict]:
    """What a fault-free API answers for the window a landing states."""
    start, end = parse_api_time(manifest["start_time"]), parse_api_time(manifest["end_time"])
    return [page.body for page in client.search_recent(manifest["query"], start, end).pages]


def distinct_tweets_in_day(pages: list[dict], day: date) -> dict[str, dict]:
    """The straightforward rule: each tweet id once (first sighting), created inside the UTC day."""
    tweets: dict[str, dict] = {}
    for page in pages:
        for tweet in page.get("data") or []:
            created: datetime = parse_api_time(tweet["created_at"])
            if created.date() == day and tweet["id"] not in tweets:
                tweets[tweet["id"]] = tweet
    return tweets


def tree_digest(root: Path, exclude: tuple[str, ...] = (".incoming",)) -> dict[str, str]:
    """relative path -> SHA-256 of every file under `root` (scratch excluded)."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not any(part in exclude for part in rel.split("/")):
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def landing_state(lake: Lake) -> dict[str, object]:
    """The raw layer's content: file digests, and manifests without the moment and cost of the fetch
    (a re-landing of identical pages differs only there)."""
    root = Path(lake.root) / "raw"
    state: dict[str, object] = {}
    for rel, digest in tree_digest(root).items():
        if rel.endswith("manifest.json"):
            manifest = json.loads((root / rel).read_text())
            state[rel] = {k: v for k, v in manifest.items() if k not in ("fetched_at", "fetch")}
        else:
            state[rel] = digest
    return state


def raw_dir_is_committed(lake: Lake, source: str, day: date) -> list[str]:
    """Problems with a raw day dir: files a reader could take for data that no manifest vouches for."""
    directory = Path(lake.raw_day_dir(source, day))
    manifest = lake.read_manifest(source, day)
    if manifest is None:
        return [p.name for p in directory.glob("*") if p.is_file()] if directory.exists() else []
    sha = manifest["pages_sha256"][:16]
    referenced = {"manifest.json", manifest["pages_file"], f"tweets-{sha}.parquet", f"users-{sha}.parquet"}
    problems = [p.name for p in directory.glob("*") if p.is_file() and p.name not in referenced]
    lake._verify_pages(source, day, lake.raw_pages_path(source, day, manifest), manifest)
    return problems
