"""`make demo`: start the simulator, backfill every partition (the window's 7 days and today) through
every asset, print the result.

The backfill is the documented one-run command (`dagster asset materialize --partition-range`),
executed against a persistent instance in .dagster_home so the runs show up later in `make dev`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

from dagster import DagsterInstance
from local import REPO_ROOT, local_environment, running_simulator

from twitter_assets.checks.report import failed_evaluations, run_check_evaluations
from twitter_assets.lake import Lake


def demo_range(now: datetime) -> tuple[str, str]:
    """Every partition: the 7 days before today (the oldest only partly inside the API window, and the
    first partition by default) and today's partial day, so the UI shows no missing day."""
    today = now.date()
    return (today - timedelta(days=7)).isoformat(), today.isoformat()


def main() -> int:
    first, last = demo_range(datetime.now(timezone.utc))
    with running_simulator() as base_url:
        env = local_environment(base_url)
        print(f"X API simulator at {base_url}; lake at {env['TWITTER_LAKE_DIR']}", flush=True)
        print(f"Backfilling {first}...{last} through every asset and check (one run)...", flush=True)
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
        completed = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
        if completed.returncode != 0:
            print(completed.stdout[-5000:], completed.stderr[-5000:], sep="\n", file=sys.stderr)
            print(f"the backfill failed (exit code {completed.returncode})", file=sys.stderr)
            return 1
    print_summary(Lake(root=env["TWITTER_LAKE_DIR"]), first, last)
    return print_checks(env["DAGSTER_HOME"])


def print_checks(dagster_home: str) -> int:
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
    return 1 if failed else 0


def print_summary(lake: Lake, first: str, last: str) -> None:
    with lake.connect() as db:
        daily = db.execute(
            """
            SELECT source, day, weekday, n_tweets, n_conversations, n_replies_to_account,
                   n_account_conversation_tweets, n_retweets, n_quotes, likes, retweets
            FROM gold.daily_interactions WHERE day BETWEEN $first AND $last ORDER BY source, day
            """,
            {"first": first, "last": last},
        ).df()
        windows = db.execute(
            """SELECT source, day, clamped, window_start FROM silver.source_days
               WHERE clamped AND day BETWEEN $first AND $last""",
            {"first": first, "last": last},
        ).fetchall()
        tweets = db.execute("SELECT count(*) FROM silver.tweets").fetchone()[0]
        users = db.execute("SELECT count(*) FROM silver.users").fetchone()[0]
    print()
    print("gold.daily_interactions")
    print(daily.to_string(index=False))
    print()
    print(f"silver.tweets: {tweets} rows; silver.users: {users} rows; database {lake.database_path}")
    for source, day, _, window_start in windows:
        print(f"note: {source} {day} was clamped to the API window (fetched from {window_start:%Y-%m-%d %H:%M} UTC)")


if __name__ == "__main__":
    os.chdir(REPO_ROOT)
    sys.exit(main())
