"""Load and validate the tracked searches (sources.yaml) into `Source` objects.

A bad file must fail at load time with a message naming the file, the entry and the field, so the
person editing YAML knows exactly what to fix.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

DEFAULT_SOURCES_FILE = Path(__file__).with_name("sources.yaml")
SOURCES_FILE_ENV = "TWITTER_SOURCES_FILE"

_NAME_RE = re.compile(r"^[a-z0-9_]+$")
_HANDLE_RE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
_MAX_QUERY_LENGTH = 4096  # the API enforces its own per-plan limit (512 basic); this only stops nonsense
_FIELDS = {"name", "query", "account", "endpoint"}
_TOP_LEVEL = {"sources", "start"}
# Search endpoints: "recent" (/2/tweets/search/recent, every plan, the last 7 days) and "all"
# (/2/tweets/search/all, full-archive search on Pro/Enterprise plans, back to 2006-03-21).
ENDPOINTS = ("recent", "all")
_EARLIEST_START = date(2006, 3, 21)


class SourcesFileError(ValueError):
    """The sources file is missing, unreadable or invalid."""


@dataclass(frozen=True)
class Source:
    """One tracked X search: its slug, the verbatim query, the optional brand account handle and the
    search endpoint (`recent`, the default, or `all` for full-archive search)."""

    name: str
    query: str
    account: str | None = None
    endpoint: str = "recent"


def sources_file_path() -> Path:
    """The sources file in force: $TWITTER_SOURCES_FILE, else the package default."""
    configured = os.environ.get(SOURCES_FILE_ENV)
    return Path(configured) if configured else DEFAULT_SOURCES_FILE


def load_start(path: Path | str | None = None) -> date | None:
    """The file's optional top-level `start:` (the first partition, YYYY-MM-DD), validated."""
    path = Path(path) if path is not None else sources_file_path()
    document = _read(path)
    value = document.get("start")
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            pass
    if not isinstance(value, date) or value < _EARLIEST_START:
        raise SourcesFileError(
            f"{path}: field 'start': expected a date YYYY-MM-DD on or after 2006-03-21, got {value!r}"
        )
    return value


def _read(path: Path) -> dict:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourcesFileError(f"{path}: sources file not found (set {SOURCES_FILE_ENV} or create it)") from None
    except yaml.YAMLError as exc:
        raise SourcesFileError(f"{path}: not valid YAML: {exc}") from None
    except UnicodeDecodeError as exc:  # a binary or non-UTF-8 file (found by hypothesis)
        raise SourcesFileError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None

    if not isinstance(document, dict) or not isinstance(document.get("sources"), list):
        raise SourcesFileError(f"{path}: expected a mapping with a 'sources' list at the top level")
    unknown = sorted(set(map(str, document)) - _TOP_LEVEL)
    if unknown:
        raise SourcesFileError(f"{path}: top-level field {unknown[0]!r}: unknown field; allowed: sources, start")
    return document


def load_sources(path: Path | str | None = None) -> list[Source]:
    """Parse and validate a sources file; raise SourcesFileError naming file, entry and field."""
    path = Path(path) if path is not None else sources_file_path()
    document = _read(path)
    if not document["sources"]:
        raise SourcesFileError(f"{path}: 'sources' is empty; track at least one search")

    sources: list[Source] = []
    seen: set[str] = set()
    for index, entry in enumerate(document["sources"]):
        source = _parse_entry(path, index, entry)
        if source.name in seen:
            raise SourcesFileError(f"{path}: sources[{index}] ({source.name!r}) field 'name': duplicate name")
        seen.add(source.name)
        sources.append(source)
    return sources


def _parse_entry(path: Path, index: int, entry: object) -> Source:
    where = f"{path}: sources[{index}]"
    if not isinstance(entry, dict):
        raise SourcesFileError(f"{where}: expected a mapping with 'name', 'query' and optional 'account'")
    label = f"{where} ({entry.get('name')!r})" if isinstance(entry.get("name"), str) else where

    unknown = sorted(set(map(str, entry)) - _FIELDS)
    if unknown:
        raise SourcesFileError(f"{label} field {unknown[0]!r}: unknown field; allowed: name, query, account, endpoint")

    name = entry.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise SourcesFileError(f"{label} field 'name': must be a slug of [a-z0-9_]+, got {name!r}")

    query = entry.get("query")
    if not isinstance(query, str) or not query.strip():
        raise SourcesFileError(f"{label} field 'query': must be a non-empty string, got {query!r}")
    if len(query) > _MAX_QUERY_LENGTH:
        raise SourcesFileError(f"{label} field 'query': {len(query)} characters is longer than {_MAX_QUERY_LENGTH}")

    account = entry.get("account")
    if account is not None:
        if not isinstance(account, str):
            raise SourcesFileError(f"{label} field 'account': must be a handle string, got {account!r}")
        account = account.removeprefix("@")
        if not _HANDLE_RE.match(account):
            raise SourcesFileError(
                f"{label} field 'account': {account!r} is not an X handle (1-15 letters, digits or _)"
            )
    endpoint = entry.get("endpoint", "recent")
    if endpoint not in ENDPOINTS:
        raise SourcesFileError(
            f"{label} field 'endpoint': must be 'recent' (recent search, every plan, the last 7 days) or "
            f"'all' (full-archive search, Pro/Enterprise plans), got {endpoint!r}"
        )
    return Source(name=name, query=query, account=account, endpoint=endpoint)
