"""Bad configuration: a sources file that is not YAML, misses a field, repeats a name, uses a name
that is not a slug, has an empty query or an unknown key fails at load naming the file, the entry
and the field; hypothesis throws arbitrary documents and bytes at the parser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twitter_assets.sources import SourcesFileError, load_sources

GOOD = {"name": "alura", "query": "AluraOnline", "account": "AluraOnline"}


def _write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


@pytest.mark.parametrize(
    ("entries", "entry", "field"),
    [
        ([{"query": "x"}], 0, "name"),
        ([{"name": "a"}], 0, "query"),
        ([GOOD, {"name": "alura", "query": "y"}], 1, "name"),
        ([{"name": "../etc", "query": "x"}], 0, "name"),
        ([{"name": "two words", "query": "x"}], 0, "name"),
        ([{"name": "Alura", "query": "x"}], 0, "name"),
        ([{"name": "", "query": "x"}], 0, "name"),
        ([{"name": "a", "query": ""}], 0, "query"),
        ([{"name": "a", "query": "   "}], 0, "query"),
        ([{"name": "a", "query": 42}], 0, "query"),
        ([GOOD, {"name": "b", "query": "x", "endpoint": "everything"}], 1, "endpoint"),
        ([{"name": "a", "query": "x", "account": "not a handle; DROP"}], 0, "account"),
        ([{"name": "a", "query": "x", "account": "'); --"}], 0, "account"),
    ],
)
def test_each_mistake_names_file_entry_and_field(tmp_path, entries, entry, field):
    path = _write(tmp_path, yaml.safe_dump({"sources": entries}))
    with pytest.raises(SourcesFileError) as error:
        load_sources(path)
    message = str(error.value)
    assert str(path) in message and f"sources[{entry}]" in message and f"field '{field}'" in message, message


@pytest.mark.parametrize(
    "text", ["sources: [unclosed", "sources:\n  - name: a\n   query: b\n\tx", b"\xff\xfe\x00bad", "", "[]"]
)
def test_a_file_that_is_not_a_sources_document_names_the_file(tmp_path, text):
    path = _write(tmp_path, text)
    with pytest.raises(SourcesFileError, match=re.escape(str(path))):
        load_sources(path)


_SLUG = re.compile(r"^[a-z0-9_]+$")
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=12), st.sampled_from(["a", "b_1", "../x"])
)
entries = st.one_of(
    scalars,
    st.dictionaries(
        st.one_of(st.sampled_from(["name", "query", "account", "extra"]), st.text(max_size=5)), scalars, max_size=4
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=st.one_of(scalars, st.fixed_dictionaries({"sources": st.lists(entries, max_size=4)})))
def test_the_parser_accepts_only_valid_files_and_names_the_file_otherwise(tmp_path, document):
    path = _write(tmp_path, yaml.safe_dump(document, allow_unicode=True))
    try:
        sources = load_sources(path)
    except SourcesFileError as error:
        assert str(path) in str(error)
        return
    assert sources and len({s.name for s in sources}) == len(sources)
    for source in sources:
        assert _SLUG.match(source.name) and source.query.strip()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_fail_only_with_a_sources_file_error(tmp_path, raw):
    path = _write(tmp_path, raw)
    try:
        load_sources(path)
    except SourcesFileError as error:
        assert str(path) in str(error)
