"""`python -m twitter_assets.simulator` as the demo runs it: one stdout line, clean stop on a signal."""

import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
import requests

from twitter_assets.simulator import SimulatorServer, SyntheticCorpus
from twitter_assets_tests.simulator.support import SEARCH

COMMAND = [sys.executable, "-m", "twitter_assets.simulator"]


def start(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([*COMMAND, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = process.stdout.readline()
    assert line.startswith("X API simulator listening on http://127.0.0.1:"), (line, process.stderr.read())
    return process, line.rsplit(" ", 1)[1].strip()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serves_until_a_signal(signum):
    process, base_url = start("--port", "0", "--token", "cli-token", "--daily-volume", "50")
    try:
        response = requests.get(
            base_url + SEARCH,
            params={"query": "AluraOnline"},
            headers={"Authorization": "Bearer cli-token"},
            timeout=10,
        )
        assert response.status_code == 200 and response.json()["meta"]["result_count"] > 0
        assert requests.get(base_url + "/_simulator/requests", timeout=10).json()[0]["status"] == 200
        process.send_signal(signum)
        assert process.wait(timeout=10) == 0
        assert process.stdout.read() == ""  # exactly one line on stdout
    finally:
        process.kill()
        process.wait()


def test_the_token_comes_from_the_environment():
    env = {**os.environ, "TWITTER_BEARER_TOKEN": "env-token"}
    process, base_url = start("--fault-rate", "1", "--fault-kinds", "500", env=env)
    try:
        response = requests.get(
            base_url + SEARCH, params={"query": "x"}, headers={"Authorization": "Bearer env-token"}, timeout=10
        )
        assert response.status_code == 500
    finally:
        process.terminate()
        process.wait(timeout=10)


def _count_all_pages(session: requests.Session, base_url: str, params: dict[str, object]) -> tuple[int, list[str]]:
    """Follow next_token to the end; the number of tweets and their created_at values."""
    params, total, created = dict(params), 0, []
    while True:
        body = session.get(base_url + SEARCH, params=params, timeout=10).json()
        total += body["meta"]["result_count"]
        created += [tweet["created_at"] for tweet in body.get("data", [])]
        if "next_token" not in body["meta"]:
            return total, created
        params["next_token"] = body["meta"]["next_token"]


def test_recorded_pages_shifted_into_the_window(seed_pages):
    # The recording holds 148 tweets: 20 on 2021-12-09 (12:06..23:35 UTC) and 128 on 2021-12-10..15.
    process, base_url = start("--token", "t", "--pages", *map(str, seed_pages), "--shift-into-window")
    try:
        session = requests.Session()
        session.headers["Authorization"] = "Bearer t"
        query = {"query": "AluraOnline", "max_results": 100, "tweet.fields": "created_at"}
        # The default window (the last 7 days) holds the six whole days and the part of 2021-12-09 that is
        # later in its day than now is in today: how much depends on the hour the test runs, so only bounds.
        total, created = _count_all_pages(session, base_url, query)
        assert 128 <= total <= 148
        # The last recorded day (2021-12-15) became the simulator's yesterday...
        newest = datetime.fromisoformat(max(created).replace("Z", "+00:00")).date()
        assert (
            newest == (datetime.now(timezone.utc) - timedelta(days=1)).date()
            or newest
            == (
                datetime.now(timezone.utc) - timedelta(days=2)  # the test crossed midnight UTC
            ).date()
        )
        # ...so the six whole recorded days 2021-12-10..15 start five days before it: exactly their 128 tweets.
        start_of_dec_10 = datetime.combine(newest - timedelta(days=5), datetime.min.time(), tzinfo=timezone.utc)
        total, _ = _count_all_pages(session, base_url, {**query, "start_time": start_of_dec_10.isoformat()})
        assert total == 128
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--token", "t", "--host", "0.0.0.0"], "loopback"),
        ([], "no token"),
        (["--token", "t", "--shift-into-window"], "needs --pages"),
    ],
)
def test_refuses_bad_settings(args, message):
    env = {key: value for key, value in os.environ.items() if key != "TWITTER_BEARER_TOKEN"}
    completed = subprocess.run([*COMMAND, *args], capture_output=True, text=True, env=env, timeout=30)
    assert completed.returncode == 2
    assert completed.stdout == "" and message in completed.stderr


def test_the_server_refuses_non_loopback_hosts():
    with pytest.raises(ValueError, match="loopback"):
        SimulatorServer(SyntheticCorpus(), bearer_tokens={"t"}, host="192.168.0.10")
