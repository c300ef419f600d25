"""What `make demo` and `make dev` echo from Dagster's output (the rest goes to their log file)."""

import sys
from datetime import datetime, timezone

import pytest

from twitter_assets_tests.conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))

import demo  # noqa: E402
import dev  # noqa: E402

PREFIX = "2026-11-24 05:55:48 +0000 - dagster - {level} - __ASSET_JOB - 043e13e4 - 8422 - {step} - "


def test_demo_echoes_landings_paging_and_failures_only():
    line = PREFIX.format(level="INFO", step="raw__aluraonline")
    assert demo.progress_line(line + "landed aluraonline 2026-11-22: 1,234 tweets in 13 pages") == (
        "  landed aluraonline 2026-11-22: 1,234 tweets in 13 pages"
    )
    assert demo.progress_line(line + "paging aluraonline 2026-11-22: 100 tweets, 1 pages, rate-limit budget 449")
    failure = PREFIX.format(level="ERROR", step="silver__tweets") + 'STEP_FAILURE - Execution of step "x" failed.'
    assert demo.progress_line(failure) == '  step silver__tweets FAILED: Execution of step "x" failed.'
    check = PREFIX.format(level="DEBUG", step="c") + "ASSET_CHECK_EVALUATION - Asset check 'a' on 'b' "
    assert demo.progress_line(check + "failed. Description: bad") == "  Asset check 'a' on 'b' failed. Description: bad"
    assert demo.progress_line(check + "passed. Description: ") is None
    assert demo.progress_line(PREFIX.format(level="DEBUG", step="raw__aluraonline") + "STEP_START - Started") is None
    assert demo.progress_line("  return fn(*args, **kwargs)") is None


def test_dev_echoes_the_ui_url_and_errors_only():
    serving = (
        "2026-11-24 06:04:10 +0000 - dagster-webserver - INFO - Serving dagster-webserver on http://127.0.0.1:3000"
    )
    assert "http://127.0.0.1:3000" in dev.echo(serving)
    assert dev.echo("2026-11-24 06:03:55 +0000 - dagster - INFO - Launching Dagster services...") is None
    assert dev.echo("OSError: [Errno 98] Address already in use") is not None
    assert dev.echo("2026-11-24 06:03:55 +0000 - dagster.daemon - ERROR - boom") is not None


@pytest.mark.parametrize(
    ("now", "first", "last"),
    [
        ((12, 0, 0), "2026-11-17", "2026-11-24"),  # the window's 7 days and today
        ((23, 54, 59), "2026-11-17", "2026-11-24"),  # the oldest day is still fetchable when the demo ends
        ((23, 55, 1), "2026-11-18", "2026-11-24"),  # it would leave the window (23:58) before the run ends
        ((0, 0, 5), "2026-11-17", "2026-11-23"),  # today cannot be fetched in its first 15 s (END_TIME_LAG)
        ((0, 0, 16), "2026-11-17", "2026-11-24"),
    ],
)
def test_the_demo_backfills_every_day_the_api_serves_whatever_the_hour(now, first, last):
    assert demo.demo_range(datetime(2026, 11, 24, *now, tzinfo=timezone.utc)) == (first, last)
