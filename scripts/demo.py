"""`make demo`: start the simulator, backfill every partition (the window's 7 days and today) through
every asset, show the result.

The backfill is the documented one-run command (`dagster asset materialize --partition-range`),
executed against a persistent instance in .dagster_home so the runs show up later in `make dev`.
Its whole output goes to build/demo.log; the terminal shows one line per landed day (and any step
or check failure), then the per-day table, the checks' summary and the path of the HTML report.
The exit code is non-zero if the backfill or any check fails.
"""

from __future__ import annotations

import os
import re
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from dagster import DagsterInstance
from local import LOG_DIR, REPO_ROOT, local_environment, run_logged, running_simulator, tail

from twitter_assets.checks.report import check_verdicts, failed_evaluations, run_check_evaluations
from twitter_assets.lake import Lake
from twitter_assets.partitions import OutsideApiWindowError, fetch_window
from twitter_assets.report import daily_frame, format_day_table
from twitter_assets.report.publish import publish_report

LOG_PATH = LOG_DIR / "demo.log"
# The raw asset logs `landed <source> <day>: <n> tweets in <p> pages` once per day, and
# `paging <source> <day>: <n> tweets, <p> pages, rate-limit budget <r>` while it pages.
PROGRESS = re.compile(r"\b(?:landed|paging) [a-z0-9_]+ \d{4}-\d{2}-\d{2}: .*$")
STEP_FAILURE = re.compile(r" - (?P<step>[\w.\[\]-]+) - STEP_FAILURE - (?P<message>.*)$")
CHECK_FAILED = re.compile(r"ASSET_CHECK_EVALUATION - (?P<message>Asset check .* failed.*)$")


# Longer than the demo's backfill (about a minute): the oldest day must still be fetchable when it ends.
DEMO_DURATION = timedelta(minutes=3)


def demo_range(now: datetime) -> tuple[str, str]:
    """Every partition the API serves: the 7 days before today (the oldest only partly inside the API
    window, and the first partition by default) and today's partial day, so the UI shows no missing
    day. By the raw asset's own rule (`fetch_window`): from 23:58 UTC minus the demo's duration the
    oldest day is left out (it leaves the window before the run would fetch it), and in the first
    seconds of a day so is today (nothing of it can be fetched yet)."""
    today = now.date()
    first, last = today - timedelta(days=7), today
    if not _fetchable(first, now + DEMO_DURATION):
        first += timedelta(days=1)
    if not _fetchable(last, now):
        last -= timedelta(days=1)
    return first.isoformat(), last.isoformat()


def _fetchable(day: date, at: datetime) -> bool:
    try:
        fetch_window(day, at)
    except OutsideApiWindowError:
        return False
    return True


def progress_line(line: str) -> str | None:
    """What the terminal shows for one line of the backfill's log (None: nothing)."""
    if match := PROGRESS.search(line):
        return f"  {match.group(0)}"
    if match := STEP_FAILURE.search(line):
        return f"  step {match['step']} FAILED: {match['message'][:300]}"
    if match := CHECK_FAILED.search(line):
        return f"  {match['message'][:300]}"
    return None


def main() -> int:
    first, last = demo_range(datetime.now(timezone.utc))
    with running_simulator() as base_url:
        env = local_environment(base_url)
        print(f"X API simulator: {base_url}", flush=True)
        print(f"lake: {env['TWITTER_LAKE_DIR']}; Dagster instance: {env['DAGSTER_HOME']}", flush=True)
        print(f"Backfilling {first}...{last} through every asset and check (one run; log: {LOG_PATH})", flush=True)
        command = [
            sys.executable,
            "-m",
            "dagster",
            "asset",
            "materialize",
            "-m",
            "twitter_assets.definitions",
            "--select",
            "*",
            "--partition-range",
            f"{first}...{last}",
        ]
        returncode = run_logged(command, env, LOG_PATH, progress_line)
    if returncode != 0:
        print(f"\n--- last 40 lines of {LOG_PATH} ---", file=sys.stderr)
        print(tail(LOG_PATH), file=sys.stderr)
        print(f"the backfill failed (exit code {returncode}); full log: {LOG_PATH}", file=sys.stderr)
        return 1
    lake = Lake(root=env["TWITTER_LAKE_DIR"])
    print_summary(lake, date.fromisoformat(first), date.fromisoformat(last))
    status, verdicts = print_checks(env["DAGSTER_HOME"])
    # The backfill's report/daily_html asset wrote it already; again here with every verdict of the run.
    report, _ = publish_report(lake, check_verdicts=verdicts)
    print(f"\nreport: {report}")
    print(f"log:    {LOG_PATH}")
    return status


def print_checks(dagster_home: str) -> tuple[int, list[dict[str, object]]]:
    """Summarise the backfill run's check evaluations; a failed check fails the demo."""
    with DagsterInstance.from_config(dagster_home) as instance:
        (run,) = instance.get_runs(limit=1)
        evaluations = run_check_evaluations(instance, run.run_id)
    checks = {(e.asset_key, e.check_name) for e in evaluations}
    per_partition = [e for e in evaluations if e.partition]
    failed = failed_evaluations(evaluations)
    print(
        f"checks: {len(checks)} checks, {len(per_partition)} per-partition verdicts, "
        f"{len(failed)} failed (run {run.run_id}; browse it with `make dev`)"
    )
    for line in failed:
        print(f"FAILED {line}")
    return (1 if failed else 0), check_verdicts(evaluations)


def print_summary(lake: Lake, first: date, last: date) -> None:
    with lake.connect() as db:
        daily = daily_frame(db)
        windows = db.execute(
            """SELECT source, day, window_start FROM silver.source_days
               WHERE clamped AND day BETWEEN $first AND $last ORDER BY source, day""",
            {"first": first, "last": last},
        ).fetchall()
        tweets = db.execute("SELECT count(*) FROM silver.tweets").fetchone()[0]
        users = db.execute("SELECT count(*) FROM silver.users").fetchone()[0]
    shown = daily[(daily["day"] >= first) & (daily["day"] <= last)] if not daily.empty else daily
    print()
    print(f"gold.daily_interactions, {first} to {last}")
    print(format_day_table(shown))
    print()
    database = Path(lake.database_path) if lake.is_local else "(none on an object store)"
    print(f"silver.tweets: {tweets:,} rows; silver.users: {users:,} rows; database {database}")
    for source, day, window_start in windows:
        print(f"note: {source} {day} was clamped to the API window (fetched from {window_start:%Y-%m-%d %H:%M} UTC)")


if __name__ == "__main__":
    os.chdir(REPO_ROOT)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print(f"interrupted; log: {LOG_PATH}", file=sys.stderr)
        sys.exit(130)
