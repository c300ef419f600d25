"""Out of window: a partition landed while inside the API's 7-day window, re-materialized after its
days have left it, keeps byte-identical raw files and row-identical silver."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import twitter_assets.assets.raw as raw_module
from twitter_assets_tests.reliability.support import tree_digest

SHIFT = timedelta(days=8)


class _EarlierDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        return datetime.now(tz) - SHIFT


def test_rematerializing_days_outside_the_window_changes_nothing(make_simulator, make_pipeline, monkeypatch):
    today = datetime.now(timezone.utc).date()
    first, last = today - timedelta(days=11), today - timedelta(days=9)  # inside the window 8 days ago
    server = make_simulator(clock=lambda: datetime.now(timezone.utc) - SHIFT)
    pipeline = make_pipeline(simulator=server)
    with monkeypatch.context() as patch:
        patch.setattr(raw_module, "datetime", _EarlierDatetime)
        assert pipeline.backfill(first, last).success
    raw = tree_digest(Path(pipeline.lake.root) / "raw")
    silver = pipeline.query("SELECT * FROM silver.tweets ORDER BY source, tweet_id")
    users = pipeline.query("SELECT * FROM silver.users ORDER BY user_id")
    assert silver and len(raw) == 3 * 4  # manifest, pages, tweets rows, users rows per day
    requests_before = len(server.requests)

    result = pipeline.backfill(first, last)  # now: every day has left the window
    assert result.success
    assert len(server.requests) == requests_before, "a day outside the window was fetched"
    outcomes = [
        e.materialization.metadata["outcome"].value
        for e in result.get_asset_materialization_events()
        if e.asset_key.path[0] == "raw"
    ]
    assert outcomes == ["kept"] * 3
    assert tree_digest(Path(pipeline.lake.root) / "raw") == raw
    assert pipeline.query("SELECT * FROM silver.tweets ORDER BY source, tweet_id") == silver
    assert pipeline.query("SELECT * FROM silver.users ORDER BY user_id") == users
