"""Every path of the lake and the one way to open its DuckDB database.

The raw layer is files (one NDJSON of verbatim API pages plus a manifest per source and day); the
silver and gold layers are tables in `$TWITTER_LAKE_DIR/twitter.duckdb`. Keeping all of it behind
this resource is what lets the root become an object-store URL, or the tables move to a shared
warehouse, without touching the assets.

DuckDB allows one writer *process* per database file, and a read-only connection cannot open
while another process writes. Dagster runs steps in separate processes (and backfills and sensor
runs side by side), so every connection is taken under an inter-process file lock: concurrent runs
queue for the database instead of failing with "Could not set lock on file".
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
from dagster import ConfigurableResource
from filelock import FileLock, Timeout

LAKE_DIR_ENV = "TWITTER_LAKE_DIR"
DEFAULT_LAKE_DIR = "./lake"
DATABASE_FILE = "twitter.duckdb"

_SLUG_RE = re.compile(r"^[a-z0-9_]+$")


class LakeError(RuntimeError):
    """The lake is in a state the pipeline cannot safely use (lock timeout, torn raw landing...)."""


@dataclass(frozen=True)
class RawDay:
    """What is landed for one source and day: the verbatim pages and the fetch manifest."""

    pages: list[dict[str, Any]]
    manifest: dict[str, Any]

    @property
    def tweet_count(self) -> int:
        return sum(len(page.get("data") or []) for page in self.pages)


class Lake(ConfigurableResource):
    """The lake root (TWITTER_LAKE_DIR) with raw-file and DuckDB access."""

    root: str = DEFAULT_LAKE_DIR
    lock_timeout_seconds: float = 900.0

    # ---- paths -------------------------------------------------------------------------------
    @property
    def root_path(self) -> Path:
        return Path(self.root).expanduser()

    @property
    def database_path(self) -> Path:
        return self.root_path / DATABASE_FILE

    def raw_day_dir(self, source: str, day: date) -> Path:
        if not _SLUG_RE.match(source):
            raise ValueError(f"source name {source!r} is not a slug [a-z0-9_]+")
        return self.root_path / "raw" / f"source={source}" / f"day={day.isoformat()}"

    def raw_pages_path(self, source: str, day: date) -> Path:
        return self.raw_day_dir(source, day) / "pages.ndjson"

    def raw_manifest_path(self, source: str, day: date) -> Path:
        return self.raw_day_dir(source, day) / "manifest.json"

    # ---- raw layer ---------------------------------------------------------------------------
    def write_raw_day(self, source: str, day: date, pages: list[dict[str, Any]], manifest: dict[str, Any]) -> Path:
        """Land a day's pages atomically: pages first, then the manifest that commits them.

        Each file goes to a temporary name in the same folder and is renamed into place, so a
        reader sees the old landing or the new one, never half a file. The manifest carries the
        pages' checksum: a crash between the two renames is detected on read, not trusted.
        """
        body = "".join(json.dumps(page, ensure_ascii=False, separators=(",", ":")) + "\n" for page in pages)
        encoded = body.encode("utf-8")
        manifest = {**manifest, "page_count": len(pages), "pages_sha256": hashlib.sha256(encoded).hexdigest()}
        directory = self.raw_day_dir(source, day)
        directory.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.raw_pages_path(source, day), encoded)
        _atomic_write(
            self.raw_manifest_path(source, day),
            json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8"),
        )
        return self.raw_pages_path(source, day)

    def archive_raw_day(self, source: str, day: date, label: str) -> Path:
        """Move the day's landing aside (to `superseded/<label>/`) before a smaller one replaces it."""
        target = self.raw_day_dir(source, day) / "superseded" / label
        target.mkdir(parents=True, exist_ok=True)
        for path in (self.raw_manifest_path(source, day), self.raw_pages_path(source, day)):
            if path.exists():
                os.replace(path, target / path.name)
        return target

    def read_raw_day(self, source: str, day: date) -> RawDay | None:
        """The landed pages of a day, or None if nothing was landed; raise if the landing is torn."""
        pages_path, manifest_path = self.raw_pages_path(source, day), self.raw_manifest_path(source, day)
        if not manifest_path.exists():
            return None
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        encoded = pages_path.read_bytes() if pages_path.exists() else b""
        if hashlib.sha256(encoded).hexdigest() != manifest.get("pages_sha256"):
            raise LakeError(
                f"{pages_path} does not match its manifest (interrupted landing?): "
                f"re-materialize the raw partition {day.isoformat()} for source {source!r}"
            )
        pages = [json.loads(line) for line in encoded.decode("utf-8").splitlines() if line.strip()]
        return RawDay(pages=pages, manifest=manifest)

    # ---- DuckDB ------------------------------------------------------------------------------
    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DuckDB connection held under the lake's inter-process lock (one process at a time)."""
        self.root_path.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.database_path) + ".lock")
        try:
            lock.acquire(timeout=self.lock_timeout_seconds)
        except Timeout:
            raise LakeError(
                f"waited {self.lock_timeout_seconds:.0f} s for the DuckDB lock {lock.lock_file}: another "
                "run holds the database; retry when it finishes"
            ) from None
        try:
            connection = duckdb.connect(str(self.database_path))
            try:
                connection.execute("SET TimeZone = 'UTC'")
                yield connection
            finally:
                connection.close()
        finally:
            lock.release()


def _atomic_write(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
