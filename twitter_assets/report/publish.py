"""Write the HTML report into the lake: `$TWITTER_LAKE_DIR/report.html`, local or object store.

Used by the `report/daily_html` asset and by `make demo`, so both produce the same page.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from twitter_assets.report.html import write_report

REPORT_NAME = "report.html"


def publish_report(lake, *, check_verdicts: Sequence[Mapping] = (), now: datetime | None = None) -> tuple[str, int]:
    """Render the report of everything in the lake to `<lake root>/report.html`; return (where, bytes).

    On a local lake `write_report` writes it in place (temporary file + rename); on an object store
    it is rendered to a local temporary file and put as one object (`Lake._publish`).
    """
    with lake.connect() as db:
        if lake.is_local:
            path = write_report(db, lake.root_path / REPORT_NAME, check_verdicts=check_verdicts, now=now)
            return str(path), path.stat().st_size
        with tempfile.TemporaryDirectory(prefix="twitter-report-") as scratch:
            local = write_report(db, Path(scratch) / REPORT_NAME, check_verdicts=check_verdicts, now=now)
            size = local.stat().st_size
            target = lake.path(REPORT_NAME)
            lake._publish(local, target)
    return target, size
