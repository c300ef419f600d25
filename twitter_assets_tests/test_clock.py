"""The test helper that starts multi-minute scenarios clear of the window edge (no real waiting here)."""

from datetime import datetime, timedelta, timezone

import pytest

from twitter_assets_tests import clock


@pytest.fixture
def at(monkeypatch):
    """Set the helper's "now" and record its sleeps; sleeping moves "now" on."""
    state = {"now": None, "slept": []}

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return state["now"].astimezone(tz)

    def sleep(seconds: float) -> None:
        state["slept"].append(seconds)
        state["now"] += timedelta(seconds=seconds)

    monkeypatch.setattr(clock, "datetime", Frozen)
    monkeypatch.setattr(clock.time, "sleep", sleep)

    def set_now(*hms: int) -> dict:
        state["now"] = datetime(2026, 11, 24, *hms, tzinfo=timezone.utc)
        return state

    return set_now


def test_a_scenario_that_ends_before_23_58_starts_at_once(at):
    state = at(23, 55, 59)
    assert clock.clear_of_the_window_edge(timedelta(minutes=2)) == state["now"]
    assert state["slept"] == []


def test_a_scenario_that_could_reach_23_58_starts_just_after_midnight(at):
    state = at(23, 56, 1)
    now = clock.clear_of_the_window_edge(timedelta(minutes=2))
    assert state["slept"] == [249.0]
    assert now == datetime(2026, 11, 25, 0, 0, 10, tzinfo=timezone.utc)


def test_just_after_midnight_nothing_waits(at):
    state = at(0, 0, 5)
    assert clock.clear_of_the_window_edge(timedelta(minutes=4)) == state["now"] and state["slept"] == []
