"""Malformed API data, served over real HTTP by a tiny local server: each page either lands
correctly or the run fails naming the page; never a silently wrong table."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from dagster import AssetKey, AssetSelection

from twitter_assets.lake import Lake
from twitter_assets.resources.x_api import XApiClient
from twitter_assets.sources import Source
from twitter_assets_tests.pipeline_fixtures import Pipeline, tweet

DAY = datetime.now(timezone.utc).date() - timedelta(days=1)
SOURCE = Source(name="crafted", query="AluraOnline")


class PageServer:
    """Serves `pages` for recent search: the first for no next_token, then the page each token names."""

    def __init__(self, pages: list[dict | bytes]):
        self.pages = pages
        self.tokens: dict[str | None, int] = {None: 0}
        for index, page in enumerate(pages[:-1]):
            token = page.get("meta", {}).get("next_token") if isinstance(page, dict) else None
            self.tokens.setdefault(token, index + 1)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                token = parse_qs(urlsplit(self.path).query).get("next_token", [None])[0]
                page = server.pages[server.tokens[token]]
                body = page if isinstance(page, bytes) else json.dumps(page).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def serve(tmp_path, dagster_instance):
    servers = []

    def run(pages):
        server = PageServer(pages)
        servers.append(server)
        x_api = XApiClient(bearer_token="t", base_url=server.url, max_attempts=2, backoff_initial_seconds=0.01)
        pipeline = Pipeline([SOURCE], x_api, Lake(root=str(tmp_path / "lake")), dagster_instance)
        selection = AssetSelection.assets(AssetKey(["raw", "crafted"]), AssetKey(["silver", "tweets"]))
        selection |= AssetSelection.assets(AssetKey(["silver", "users"]))
        result = pipeline.backfill(DAY, DAY, selection=selection, raise_on_error=False)
        return pipeline, result

    yield run
    for server in servers:
        server.httpd.shutdown()


def page(tweets, users=None, next_token=None, **extra):
    meta = {"result_count": len(tweets), **({"next_token": next_token} if next_token else {})}
    body = {"meta": meta, **extra}
    if tweets:
        body["data"] = tweets
    body["includes"] = {"users": users if users is not None else [{"id": "42", "username": "ana", "name": "Ana"}]}
    return body


def failure_text(result) -> str:
    return " ".join(
        e.event_specific_data.error.to_string() for e in result.all_events if e.event_type_value == "STEP_FAILURE"
    )


def silver(pipeline) -> list[tuple]:
    return pipeline.query("SELECT tweet_id, author_id, lang, like_count, conversation_id FROM silver.tweets ORDER BY 1")


def verdicts(result) -> dict[str, tuple[bool, str]]:
    return {v.check_name: (v.passed, v.description) for v in result.get_asset_check_evaluations()}


def test_unknown_extra_fields_land(serve):
    extra = tweet("1", DAY, edit_history_tweet_ids=["1"], novelty={"nested": [1, 2]}, note_tweet={"text": "x"})
    pipeline, result = serve([page([extra], next_token="n1", brand_new_top_level=True), page([tweet("2", DAY)])])
    assert result.success, failure_text(result)
    assert [r[0] for r in silver(pipeline)] == ["1", "2"]


def test_missing_optional_fields_land_as_nulls(serve):
    bare = {"id": "7", "text": "oi", "created_at": f"{DAY}T10:00:00.000Z", "author_id": "42"}
    pipeline, result = serve([page([bare])])
    assert result.success, failure_text(result)
    assert silver(pipeline) == [("7", "42", None, None, None)]


def test_an_author_absent_from_includes_lands_and_the_check_says_so(serve):
    pipeline, result = serve([page([tweet("1", DAY), tweet("2", DAY, author_id="404")])])
    assert result.success, failure_text(result)
    assert len(silver(pipeline)) == 2
    passed, description = verdicts(result)["authors_known"]
    assert not passed, description  # a warning naming the share of known authors, not silence


@pytest.mark.parametrize(
    ("bad", "where"),
    [
        ({"id": 123}, "search page 2, tweet 1"),
        ({"author_id": 42}, "search page 2, tweet 1"),
        ({"public_metrics": {"like_count": "3"}}, "search page 2, tweet 1"),
        ({"created_at": "yesterday"}, "search page 2, tweet 1"),
    ],
)
def test_numbers_where_strings_are_expected_fail_naming_the_page(serve, bad, where):
    pipeline, result = serve([page([tweet("1", DAY)], next_token="n1"), page([tweet("2", DAY, **bad)])])
    assert not result.success
    assert where in failure_text(result)
    assert pipeline.lake.read_manifest("crafted", DAY) is None  # nothing of it landed


def test_invalid_utf8_fails_naming_the_page(serve):
    broken = json.dumps(page([tweet("2", DAY, text="XX")])).encode().replace(b"XX", b"\xff\xfe")
    pipeline, result = serve([page([tweet("1", DAY)], next_token="n1"), broken])
    assert not result.success
    text = failure_text(result)
    assert "not JSON" in text and "after 1 pages" in text, text
    assert pipeline.lake.read_manifest("crafted", DAY) is None


def test_a_next_token_loop_fails_naming_the_page(serve):
    pipeline, result = serve([page([tweet("1", DAY)], next_token="A"), page([tweet("2", DAY)], next_token="A")])
    assert not result.success
    assert "search page 2: the API repeated next_token" in failure_text(result)
    assert pipeline.lake.read_manifest("crafted", DAY) is None


def test_an_empty_page_with_a_next_token_lands_the_rest(serve):
    pipeline, result = serve(
        [page([tweet("1", DAY)], next_token="a"), page([], next_token="b"), page([tweet("2", DAY)])]
    )
    assert result.success, failure_text(result)
    assert [r[0] for r in silver(pipeline)] == ["1", "2"]
    assert pipeline.lake.read_manifest("crafted", DAY)["page_count"] == 3


def test_tweets_duplicated_across_pages_land_once_in_silver(serve):
    pipeline, result = serve(
        [page([tweet("1", DAY), tweet("2", DAY)], next_token="a"), page([tweet("2", DAY), tweet("3", DAY)])]
    )
    assert result.success, failure_text(result)
    assert [r[0] for r in silver(pipeline)] == ["1", "2", "3"]
    assert all(passed for name, (passed, _) in verdicts(result).items()), verdicts(result)
