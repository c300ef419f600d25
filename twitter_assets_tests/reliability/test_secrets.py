"""Secrets: after a full backfill and a failed run with a wrong token, the token appears nowhere:
not in the lake, not in DAGSTER_HOME (run storage, event logs, compute logs; read as bytes), not in
the captured output. (No `twitter_assets/automation/alerts.py` exists on this branch: alert
payloads are not covered here.)"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import pytest

from twitter_assets.simulator import SimulatorServer, SyntheticCorpus
from twitter_assets_tests.reliability.test_crash import Cli

pytestmark = pytest.mark.reliability

TOKEN = "AAAAReliabSecret%2Fbearer%3Dtoken-7f3c9"
WRONG = "AAAAReliabWrong-token-0d41"


def _needles(secret: str) -> list[bytes]:
    return [secret.encode(), quote(secret, safe="").encode(), base64.b64encode(secret.encode())]


def _files_containing(root: Path, needles: list[bytes]) -> list[str]:
    return [
        str(path)
        for path in root.rglob("*")
        if path.is_file() and any(needle in path.read_bytes() for needle in needles)
    ]


def test_the_token_never_leaks(tmp_path):
    today = datetime.now(timezone.utc).date()
    first, last = today - timedelta(days=2), today - timedelta(days=1)
    with SimulatorServer(SyntheticCorpus(), bearer_tokens={TOKEN}) as server:
        cli = Cli(tmp_path, server.base_url)
        cli.env["TWITTER_BEARER_TOKEN"] = TOKEN
        outputs = [cli.run("*", first, last)]
        cli.env["TWITTER_BEARER_TOKEN"] = WRONG
        failed = cli.start("raw/aluraonline", last, last)
        output, _ = failed.communicate(timeout=300)
        outputs.append(output.decode())
        assert failed.returncode != 0 and "TWITTER_BEARER_TOKEN" in outputs[-1]
        assert all(record.token_ok is False for record in server.requests[-1:])
    needles = _needles(TOKEN) + _needles(WRONG)
    assert list((cli.home / "storage").rglob("compute_logs")) or list(cli.home.rglob("*.err")), "no compute logs"
    assert _files_containing(Path(cli.lake.root), needles) == []
    assert _files_containing(cli.home, needles) == []
    assert not [n for n in needles for out in outputs if n.decode() in out]
