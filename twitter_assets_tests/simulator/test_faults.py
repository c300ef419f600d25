"""Injected faults, as a plain `requests` client meets them, and the admin endpoints."""

import json
import math
from datetime import timedelta

import pytest
import requests

from twitter_assets.simulator import FaultPlan
from twitter_assets_tests.simulator.support import NOW, SEARCH, Clock, get, search_params

YESTERDAY = (NOW - timedelta(days=1)).date()
PARAMS = search_params(YESTERDAY)


@pytest.fixture
def clocked(make_simulator):
    return make_simulator(clock=Clock())


@pytest.mark.parametrize(
    ("kind", "status", "title"),
    [("503", 503, "Service Unavailable"), ("500", 500, "Internal Server Error")],
)
def test_server_errors_then_normal_service(clocked, kind, status, title):
    clocked.faults.push(kind)
    failed = get(clocked, SEARCH, PARAMS)
    assert failed.status_code == status
    assert failed.json() == {"title": title, "detail": title, "type": "about:blank", "status": status}
    assert failed.headers["Content-Type"] == "application/json; charset=utf-8"
    assert get(clocked, SEARCH, PARAMS).status_code == 200
    assert [record.status for record in clocked.requests] == [status, 200]


def test_window_429_resets_after_the_given_delay(clocked):
    clocked.faults.push("429", reset_after=1.5)
    limited = get(clocked, SEARCH, PARAMS)
    assert limited.status_code == 429
    assert limited.json()["title"] == "Too Many Requests"
    assert limited.headers["x-rate-limit-remaining"] == "0"
    assert int(limited.headers["x-rate-limit-reset"]) == math.ceil(NOW.timestamp() + 1.5)
    assert get(clocked, SEARCH, PARAMS).status_code == 200


def test_usage_cap_fault_keeps_remaining_above_zero(clocked):
    clocked.faults.push("usage_cap")
    capped = get(clocked, SEARCH, PARAMS)
    assert capped.status_code == 429
    assert capped.json()["title"] == "UsageCapExceeded"
    assert int(capped.headers["x-rate-limit-remaining"]) > 0


def test_malformed_is_a_200_without_meta(clocked):
    clocked.faults.push("malformed")
    answer = get(clocked, SEARCH, PARAMS)
    assert answer.status_code == 200 and "meta" not in answer.json()
    assert "meta" in get(clocked, SEARCH, PARAMS).json()


def test_reset_drops_the_connection_without_an_answer(clocked):
    clocked.faults.push("reset")
    session = requests.Session()
    with pytest.raises(requests.ConnectionError) as raised:
        session.get(
            clocked.base_url + SEARCH, params=PARAMS, headers={"Authorization": "Bearer test-token"}, timeout=10
        )
    assert "Connection reset by peer" in str(raised.value)  # an RST, not a clean close
    assert clocked.requests[-1].status == 0 and clocked.requests[-1].token_ok
    # the same session recovers on a new connection
    assert session.get(
        clocked.base_url + SEARCH, params=PARAMS, headers={"Authorization": "Bearer test-token"}, timeout=10
    ).ok


def test_truncate_sends_half_the_body(clocked):
    clocked.faults.push("truncate")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get(clocked, SEARCH, PARAMS)
    assert clocked.requests[-1].status == 200
    assert get(clocked, SEARCH, PARAMS).ok


def test_truncated_body_is_not_json_when_read_leniently(clocked):
    clocked.faults.push("truncate")
    response = get(clocked, SEARCH, PARAMS, stream=True)
    received = b""
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        for chunk in response.iter_content(256):
            received += chunk
    assert 0 < len(received) < int(response.headers["Content-Length"])
    with pytest.raises(ValueError):
        json.loads(received)


def test_slow_answers_late(clocked):
    clocked.faults.push("slow", seconds=30)
    with pytest.raises(requests.exceptions.ReadTimeout):
        get(clocked, SEARCH, PARAMS, timeout=0.3)  # stop() wakes the sleeping handler at teardown
    clocked.faults.push("slow", seconds=0.2)
    assert get(clocked, SEARCH, PARAMS).status_code == 200


def test_faults_are_fifo_counted_and_path_filtered(clocked):
    clocked.faults.push("503", path="/2/users/by/username")
    clocked.faults.push("500", count=2)
    assert get(clocked, SEARCH, PARAMS).status_code == 500
    assert get(clocked, "/2/users/by/username/AluraOnline").status_code == 503
    assert get(clocked, "/2/users/by/username/AluraOnline").status_code == 500
    assert get(clocked, SEARCH, PARAMS).status_code == 200
    assert clocked.faults.pending == []


def test_unknown_fault_kind_is_refused():
    with pytest.raises(ValueError, match="unknown fault kind"):
        FaultPlan().push("404")


def test_random_faults_are_seeded(make_simulator):
    def statuses(seed: int) -> list[int]:
        simulator = make_simulator(clock=Clock())
        simulator.faults.random(rate=0.5, kinds=("503", "500"), seed=seed)
        return [get(simulator, SEARCH, PARAMS).status_code for _ in range(12)]

    first = statuses(1)
    assert first == statuses(1)
    assert {200, 503, 500} == set(first)


def test_queued_faults_come_before_random_ones_and_clear_stops_both(clocked):
    clocked.faults.random(rate=1.0, kinds=("503",), seed=3)
    clocked.faults.push("500")
    assert [get(clocked, SEARCH, PARAMS).status_code for _ in range(2)] == [500, 503]
    clocked.faults.clear()
    assert get(clocked, SEARCH, PARAMS).status_code == 200


def test_admin_endpoints_control_an_out_of_process_simulator(clocked):
    admin = clocked.base_url + "/_simulator"
    pushed = requests.post(f"{admin}/faults", json={"kind": "503", "count": 2}, timeout=10)
    assert pushed.status_code == 200 and len(pushed.json()["pending"]) == 2
    assert [get(clocked, SEARCH, PARAMS).status_code for _ in range(3)] == [503, 503, 200]

    listed = requests.get(f"{admin}/requests", timeout=10).json()
    assert [record["status"] for record in listed] == [503, 503, 200]
    assert listed[0] == {"method": "GET", "path": SEARCH, "params": PARAMS, "status": 503, "token_ok": True}

    assert requests.delete(f"{admin}/requests", timeout=10).json() == []
    assert clocked.requests == []
    assert requests.post(f"{admin}/faults", json={"kind": "nope"}, timeout=10).status_code == 400
    assert requests.post(f"{admin}/faults", json={"kind": "slow", "bogus": 1}, timeout=10).status_code == 400
    requests.post(f"{admin}/faults", json={"kind": "500"}, timeout=10)
    assert requests.delete(f"{admin}/faults", timeout=10).json() == {"pending": []}
    assert get(clocked, SEARCH, PARAMS).status_code == 200
    assert requests.get(f"{admin}/nothing", timeout=10).status_code == 404
