"""The automation conditions on a real temporary instance, against real runs on the simulator:
what each tick requests (evaluate_automation_conditions), with the cursor carried between ticks."""

from datetime import date, datetime, time, timedelta, timezone

import pytest
from dagster import AssetKey, AssetMaterialization, AssetSelection, evaluate_automation_conditions, materialize

from twitter_assets.definitions import build_assets, build_definitions
from twitter_assets.partitions import default_partitions_start
from twitter_assets.sources import Source

SOURCES = (Source(name="aluraonline", query="AluraOnline", account="AluraOnline"),)
RAW = AssetKey(["raw", "aluraonline"])
DOWNSTREAM = AssetSelection.groups("silver", "gold")


def requested(result) -> dict[str, list[str]]:
    """Asset (or check) -> the partition keys requested this tick, oldest first."""
    out = {}
    for item in result.results:
        if item.true_subset.size:
            name = item.key.to_user_string()
            out[name] = (
                sorted(item.true_subset.expensively_compute_partition_keys()) if item.true_subset.is_partitioned else []
            )
    return out


@pytest.fixture
def now() -> datetime:
    """The ticks' evaluation time: today at a fixed hour, so which days the window reaches (and which
    cron ticks a test passes) does not depend on when the test runs."""
    return datetime.combine(datetime.now(timezone.utc).date(), time(12, 0, 30), tzinfo=timezone.utc)


@pytest.fixture
def window(now) -> list[date]:
    """The complete days the recent-search window reaches, oldest (partial) first."""
    first = default_partitions_start(now)
    return [first + timedelta(days=n) for n in range((now.date() - first).days)]


def keys(days) -> list[str]:
    return [day.isoformat() for day in days]


def test_gap_filler_requests_missing_and_failed_days_oldest_first_and_leaves_finished_ones(
    pipeline, make_x_api, now, window
):
    defs = build_definitions(SOURCES, pipeline.x_api, pipeline.lake)
    finished, failed = window[2:4], window[4]
    pipeline.backfill(finished[0], finished[-1])  # landed and complete, through gold
    failure = materialize(
        build_assets(SOURCES),
        resources={"x_api": make_x_api(bearer_token="wrong-token"), "lake": pipeline.lake},
        instance=pipeline.instance,
        partition_key=failed.isoformat(),
        selection=[RAW],
        raise_on_error=False,
    )
    assert not failure.success  # a 401: its latest attempt failed

    first = evaluate_automation_conditions(defs, pipeline.instance, AssetSelection.assets(RAW), evaluation_time=now)
    # missing days, oldest first; not the finished ones, not today, not the failed one (its retry is not due)
    assert requested(first)["raw/aluraonline"] == keys([d for d in window if d not in finished and d != failed])

    # After the next hourly retry tick, the failed day is due once; the same tick again asks nothing new.
    later = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1, minutes=1)
    second = evaluate_automation_conditions(
        defs, pipeline.instance, AssetSelection.assets(RAW), evaluation_time=later, cursor=first.cursor
    )
    assert failed.isoformat() in requested(second)["raw/aluraonline"]
    assert not set(keys(finished)) & set(requested(second)["raw/aluraonline"])
    third = evaluate_automation_conditions(
        defs,
        pipeline.instance,
        AssetSelection.assets(RAW),
        evaluation_time=later + timedelta(seconds=30),
        cursor=second.cursor,
    )
    assert failed.isoformat() not in requested(third).get("raw/aluraonline", [])  # bounded: not every tick


def test_raw_landing_for_a_day_leads_to_silver_and_gold_for_that_day_and_nothing_else(pipeline, now, window):
    defs = build_definitions(SOURCES, pipeline.x_api, pipeline.lake)
    day = window[3]

    def tick(cursor=None, seconds=0):
        return evaluate_automation_conditions(
            defs, pipeline.instance, DOWNSTREAM, evaluation_time=now + timedelta(seconds=seconds), cursor=cursor
        )

    first = tick()
    assert requested(first) == {}  # nothing landed: nothing to build
    pipeline.backfill(day, day, selection="raw")
    second = tick(first.cursor, 30)
    assert requested(second) == {
        "silver/tweets": [day.isoformat()],
        "silver/users": [day.isoformat()],
        "gold/daily_interactions": [day.isoformat()],  # earlier gold days have no silver: not built
        "gold/tweet_sentiment": [day.isoformat()],
        "gold/daily_sentiment": [day.isoformat()],
    }
    third = tick(second.cursor, 60)
    assert requested(third) == {}  # requested once, not every tick

    # Build it; then the next day lands: its silver and gold, and gold for the day before too, whose
    # account-conversation counts can rise with the later replies (gold D reads silver D..D+6).
    pipeline.backfill(day, day, selection=DOWNSTREAM)
    fourth = tick(third.cursor, 90)
    assert requested(fourth) == {}  # its own materialization does not trigger it again
    pipeline.backfill(day + timedelta(days=1), day + timedelta(days=1), selection="raw")
    fifth = tick(fourth.cursor, 120)
    following = (day + timedelta(days=1)).isoformat()
    assert requested(fifth) == {
        "silver/tweets": [following],
        "silver/users": [following],
        "gold/daily_interactions": [day.isoformat(), following],
        "gold/tweet_sentiment": [following],  # a tweet's sentiment depends on that tweet alone
        "gold/daily_sentiment": [following],
    }
    pipeline.backfill(day, day + timedelta(days=1), selection=DOWNSTREAM)
    assert requested(tick(fifth.cursor, 150)) == {}


def test_a_failed_silver_day_is_retried_once_per_retry_tick(pipeline, now, window, tmp_path):
    """A finished raw day never updates again, so a silver (or gold) day whose run failed was never asked for
    again: the day stayed without silver for good while raw held it whole."""
    from twitter_assets.lake import Lake

    defs = build_definitions(SOURCES, pipeline.x_api, pipeline.lake)
    day = window[3]

    def tick(cursor, at):
        return evaluate_automation_conditions(defs, pipeline.instance, DOWNSTREAM, evaluation_time=at, cursor=cursor)

    before = tick(None, now - timedelta(seconds=30))
    pipeline.backfill(day, day, selection="raw")
    landed = tick(before.cursor, now)
    assert day.isoformat() in requested(landed)["silver/tweets"]
    (tmp_path / "not-a-directory").write_text("")  # a lake that cannot be written: the silver run fails
    failure = materialize(
        build_assets(SOURCES),
        resources={"x_api": pipeline.x_api, "lake": Lake(root=str(tmp_path / "not-a-directory"))},
        instance=pipeline.instance,
        partition_key=day.isoformat(),
        selection=DOWNSTREAM,
        raise_on_error=False,
    )
    assert not failure.success
    same_hour = tick(landed.cursor, now + timedelta(seconds=30))
    assert day.isoformat() not in requested(same_hour).get("silver/tweets", [])  # the retry is not due yet
    later = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1, minutes=1)
    retry = tick(same_hour.cursor, later)
    assert day.isoformat() in requested(retry)["silver/tweets"]
    again = tick(retry.cursor, later + timedelta(seconds=30))
    assert day.isoformat() not in requested(again).get("silver/tweets", [])  # once per retry tick


def test_a_day_in_flight_is_not_requested_again(pipeline, simulator, now, window):
    """While a run fetches a day (the simulator answers slowly), the gap filler skips it."""
    import threading

    from dagster import DagsterRunStatus

    defs = build_definitions(SOURCES, pipeline.x_api, pipeline.lake)
    day = window[-1]
    simulator.faults.push("slow", seconds=4, path="/2/tweets/search/recent")
    runner = threading.Thread(target=pipeline.backfill, args=(day, day, "raw"))
    runner.start()
    try:
        while (
            not pipeline.instance.get_runs_count() or pipeline.instance.get_runs()[0].status != DagsterRunStatus.STARTED
        ):
            runner.join(0.05)
        in_flight = evaluate_automation_conditions(
            defs, pipeline.instance, AssetSelection.assets(RAW), evaluation_time=now
        )
    finally:
        runner.join()
    assert day.isoformat() not in requested(in_flight)["raw/aluraonline"]
    assert requested(in_flight)["raw/aluraonline"] == keys(window[:-1])


def test_gap_filler_stops_asking_for_the_oldest_day_when_the_api_stops_serving_it(pipeline, now):
    """The day 7 back leaves the fetchable window 2 minutes before midnight (the raw asset's safety
    margin), not at midnight: from then on a request for it could only fail."""
    defs = build_definitions(SOURCES, pipeline.x_api, pipeline.lake)
    oldest = now.date() - timedelta(days=7)

    def raw_requested_at(moment: datetime) -> list[str]:
        result = evaluate_automation_conditions(
            defs, pipeline.instance, AssetSelection.assets(RAW), evaluation_time=moment
        )
        return requested(result).get("raw/aluraonline", [])

    end_of_day = datetime.combine(now.date(), time(23, 57, 50), tzinfo=timezone.utc)
    assert raw_requested_at(end_of_day)[0] == oldest.isoformat()  # still served: ten seconds of it
    late = raw_requested_at(end_of_day + timedelta(seconds=20))
    assert oldest.isoformat() not in late
    assert late == keys(oldest + timedelta(days=n) for n in range(1, 7))  # the six days after it, still missing


def test_a_day_landed_only_partly_is_fetched_again_after_the_next_retry_tick(pipeline, now, window):
    """A day fetched while it ran (its newest landing ends at 21:00) whose final fetch never happened (the
    daemon was off at 00:30, or a run of the day was still in flight): the gap filler fetches it once more
    after the next hourly tick. It used to stay partial for good: it was neither missing nor failed."""
    defs = build_definitions(SOURCES, pipeline.x_api, pipeline.lake)
    complete, partial, tried = window[2], window[3], window[4]
    assert pipeline.backfill(complete, tried, "raw").success
    pipeline.instance.report_runless_asset_event(
        AssetMaterialization(RAW, partition=partial.isoformat(), metadata={"window_end": f"{partial}T21:00:00Z"})
    )
    # fetched to the day's end, but the earlier (partial) landing was kept: done, not fetched every hour
    reached = {"window_end": f"{tried}T21:00:00Z", "fetched_to": f"{tried + timedelta(days=1)}T00:00:00Z"}
    pipeline.instance.report_runless_asset_event(
        AssetMaterialization(RAW, partition=tried.isoformat(), metadata=reached)
    )
    selection = AssetSelection.assets(RAW)
    first = evaluate_automation_conditions(defs, pipeline.instance, selection, evaluation_time=now)
    assert not {complete.isoformat(), partial.isoformat()} & set(requested(first)["raw/aluraonline"])
    later = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1, minutes=1)
    second = evaluate_automation_conditions(
        defs, pipeline.instance, selection, evaluation_time=later, cursor=first.cursor
    )
    assert partial.isoformat() in requested(second)["raw/aluraonline"]
    assert not {complete.isoformat(), tried.isoformat()} & set(requested(second)["raw/aluraonline"])
    third = evaluate_automation_conditions(
        defs, pipeline.instance, selection, evaluation_time=later + timedelta(seconds=30), cursor=second.cursor
    )
    assert partial.isoformat() not in requested(third).get("raw/aluraonline", [])
