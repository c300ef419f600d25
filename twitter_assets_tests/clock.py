"""Starting a scenario of several minutes clear of the moment the API window drops the day 7 back."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from twitter_assets.partitions import WINDOW_START_MARGIN

AFTER_MIDNIGHT = timedelta(seconds=10)


def clear_of_the_window_edge(duration: timedelta) -> datetime:
    """Now, or just after midnight UTC when a scenario of `duration` started now could still be fetching at
    23:58: from then on the raw asset can no longer fetch the day 7 back (WINDOW_START_MARGIN), and at
    midnight that day leaves the window. A scenario whose range includes that day waits (at most
    `duration` + 2 min + 10 s, on that share of the day's runs) rather than fail by the hour."""
    now = datetime.now(timezone.utc)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=timezone.utc)
    if now > midnight - WINDOW_START_MARGIN - duration:
        time.sleep((midnight + AFTER_MIDNIGHT - now).total_seconds())
        now = datetime.now(timezone.utc)
    return now
