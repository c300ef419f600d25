"""A failed run posts an alert to a real receiver on 127.0.0.1; the payload names run, asset and
partition, and never the bearer token. The day outside the window fails before any request, naming
`endpoint: all`; with `endpoint: all` the same day is fetched from full-archive search."""

import json
import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from dagster import DagsterEventType, build_run_status_sensor_context, materialize

from twitter_assets.automation.sensors import ALERT_WEBHOOK_ENV, alert_on_run_failure
from twitter_assets.definitions import build_assets
from twitter_assets.resources.x_api import TOKEN_ENV
from twitter_assets.sources import Source


@pytest.fixture
def receiver():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/alert", received
    server.shutdown()
    server.server_close()


def test_a_failed_run_posts_run_asset_partition_and_error_without_the_token(
    pipeline, make_x_api, receiver, monkeypatch
):
    url, received = receiver
    token = "wrong-secret-token-123"
    monkeypatch.setenv(ALERT_WEBHOOK_ENV, url)
    monkeypatch.setenv(TOKEN_ENV, token)
    day = date.today() - timedelta(days=2)
    result = materialize(
        build_assets(pipeline.sources),
        resources={"x_api": make_x_api(bearer_token=token), "lake": pipeline.lake},
        instance=pipeline.instance,
        partition_key=day.isoformat(),
        selection=["raw/aluraonline"],
        raise_on_error=False,
    )
    assert not result.success
    run = pipeline.instance.get_run_by_id(result.run_id)
    (failure,) = [
        e for e in pipeline.instance.all_logs(run.run_id) if e.dagster_event_type == DagsterEventType.RUN_FAILURE
    ]
    context = build_run_status_sensor_context(
        sensor_name="alert_on_run_failure",
        dagster_event=failure.dagster_event,
        dagster_instance=pipeline.instance,
        dagster_run=run,
    ).for_run_failure()
    alert_on_run_failure(context)

    (payload,) = received
    assert payload["run_id"] == run.run_id and run.run_id[:8] in payload["text"]
    assert payload["asset_keys"] == ["raw/aluraonline"] and "raw/aluraonline" in payload["text"]
    assert payload["partitions"] == day.isoformat() and day.isoformat() in payload["text"]
    assert "401" in payload["error"] and TOKEN_ENV in payload["error"]
    assert token not in json.dumps(payload)


def test_a_day_older_than_the_window_needs_endpoint_all(pipeline, make_pipeline, simulator):
    old_day = date.today() - timedelta(days=20)
    refused = pipeline.backfill(old_day, old_day, selection="raw", raise_on_error=False)
    assert not refused.success
    (failure,) = [e for e in refused.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "`endpoint: all`" in failure.step_failure_data.error.message
    assert simulator.requests == []  # refused before any request

    archive = make_pipeline(
        sources=[Source(name="aluraonline", query="AluraOnline", account="AluraOnline", endpoint="all")]
    )
    fetched = archive.backfill(old_day, old_day)
    assert fetched.success
    assert {request.path for request in simulator.requests} >= {"/2/tweets/search/all"}
    assert "/2/tweets/search/recent" not in {request.path for request in simulator.requests}
    ((tweets,),) = archive.query("SELECT count(*) FROM silver.tweets WHERE day = $day", {"day": old_day})
    assert tweets > 0
