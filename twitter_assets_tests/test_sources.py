import os
import subprocess
import sys
from pathlib import Path

import pytest

from twitter_assets.sources import DEFAULT_SOURCES_FILE, Source, SourcesFileError, load_sources


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_file_tracks_aluraonline():
    assert load_sources(DEFAULT_SOURCES_FILE) == [
        Source(name="aluraonline", query="AluraOnline", account="AluraOnline")
    ]


def test_env_var_selects_the_file(tmp_path, monkeypatch):
    path = write(tmp_path, 'sources: [{name: br_dev, query: "(python OR java) lang:pt -is:retweet"}]')
    monkeypatch.setenv("TWITTER_SOURCES_FILE", str(path))
    assert load_sources() == [Source(name="br_dev", query="(python OR java) lang:pt -is:retweet", account=None)]


def test_query_is_kept_verbatim_and_at_is_stripped_from_account(tmp_path):
    path = write(
        tmp_path, """sources:\n  - {name: a, query: '"Alura Online" OR @AluraOnline', account: "@AluraOnline"}\n"""
    )
    assert load_sources(path)[0] == Source(name="a", query='"Alura Online" OR @AluraOnline', account="AluraOnline")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sources: [{name: Bad-Name, query: x}]", r"sources\[0\] \('Bad-Name'\) field 'name': must be a slug"),
        ("sources: [{name: ok, query: ''}]", r"sources\[0\] \('ok'\) field 'query'"),
        ("sources: [{name: ok}]", r"sources\[0\] \('ok'\) field 'query'"),
        ("sources: [{name: ok, query: x, account: 'not a handle!'}]", r"field 'account'"),
        ("sources: [{name: ok, query: x, acount: y}]", r"field 'acount': unknown field"),
        ("sources: [{name: a, query: x}, {name: a, query: y}]", r"sources\[1\] \('a'\) field 'name': duplicate"),
        ("sources: []", "'sources' is empty"),
        ("tracked: []", "'sources' list at the top level"),
        ("sources: [x", "not valid YAML"),
        ("sources: [just-a-string]", r"sources\[0\]: expected a mapping"),
    ],
)
def test_malformed_file_names_file_entry_and_field(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(SourcesFileError, match=expected) as error:
        load_sources(path)
    assert str(path) in str(error.value)


def test_missing_file_names_the_variable(tmp_path):
    with pytest.raises(SourcesFileError, match="TWITTER_SOURCES_FILE"):
        load_sources(tmp_path / "nope.yaml")


def test_code_location_refuses_to_load_a_bad_file_and_says_why(tmp_path):
    path = write(tmp_path, "sources:\n  - {name: ok, query: x}\n  - {name: Bad Name, query: y}\n")
    env = {**os.environ, "TWITTER_SOURCES_FILE": str(path)}
    command = [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "twitter_assets.definitions"]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert completed.returncode != 0
    assert f"{path}: sources[1] ('Bad Name') field 'name': must be a slug" in completed.stdout + completed.stderr
