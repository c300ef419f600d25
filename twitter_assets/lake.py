"""Every path and object of the lake, and the one way to open its tables.

Layout under the root (a local directory, or `s3://bucket/prefix`):

    raw/source=<s>/day=<d>/manifest.json             the commit record of a landing (written last)
    raw/source=<s>/day=<d>/pages-<sha>.ndjson        the verbatim API pages, one per line
    raw/source=<s>/day=<d>/tweets-<sha>.parquet      one compact typed row per tweet of those pages
    raw/source=<s>/day=<d>/users-<sha>.parquet       one row per user in includes.users
    <layer>/<table>/source=<s>/day=<d>/part.parquet  one file per table, source and day, replaced whole
    twitter.duckdb                                   (local root) views over those files: the contract

Why files per partition and not tables inside one DuckDB file: DuckDB takes one writer process per
database file and a reader blocks writers, while Dagster runs steps, backfills and sensor runs in
separate processes (or on other machines). A partition file is written to a temporary name and
renamed (an object PUT on S3), so writers never wait for each other or for readers, a reader sees
the old file or the new one, and concurrent runs of the same day end with one whole file. Queries
run in an in-memory DuckDB whose views list the files (`Lake.connect`); `twitter.duckdb` keeps the
external contract (`silver.tweets`...) as views over the same files for notebooks and BI tools.
"""

from __future__ import annotations

import atexit
import contextvars
import glob
import hashlib
import io
import json
import os
import re
import shutil
import socket
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

# DuckDB, fsspec and pyarrow are imported where they are used: importing the code location (every
# Dagster process, every step) then does not pay for them (see benchmarks/RESULTS.md, imports).
import fsspec  # light; the object-store reader below subclasses its filesystem
from dagster import ConfigurableResource, get_dagster_logger
from filelock import FileLock, Timeout
from pydantic import PrivateAttr, field_validator

from twitter_assets.rows import RowColumns

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

LAKE_DIR_ENV = "TWITTER_LAKE_DIR"
DEFAULT_LAKE_DIR = "./lake"
DATABASE_FILE = "twitter.duckdb"
CATALOG_MARKER = "catalog.json"
PARTITION_FILE = "part.parquet"
LEGACY_PAGES_FILE = "pages.ndjson"

_SLUG_RE = re.compile(r"^[a-z0-9_]+$")
_PARTITION_KEY_RE = re.compile(r"^([a-z][a-z0-9_]*)/source=[a-z0-9_]+/day=\d{4}-\d{2}-\d{2}/part\.parquet$")
_LANDING_FILE_RE = re.compile(r"^(pages-[0-9a-f]{16}\.ndjson|(tweets|users)-[0-9a-f]{16}\.parquet)$")
_TABLE_RE = re.compile(r"^(silver|gold)\.[a-z][a-z0-9_]*$")

# Tables stored as one Parquet file per (source, day). Adding one here is all a new table needs.
PARTITIONED_TABLES = (
    "silver.tweets",
    "silver.source_days",
    "silver.users_seen",
    "gold.daily_interactions",
    "gold.tweet_sentiment",
    "gold.daily_sentiment",
)

# Views derived from the stored tables: `silver.users` is one row per user, the newest sighting wins.
DERIVED_VIEWS = {
    "silver.users": (
        "silver.users_seen",
        """
        SELECT user_id,
               arg_max(username, (day, source)) AS username,
               arg_max(name, (day, source)) AS name,
               max(created_at) AS created_at,
               min(day) AS first_seen_day,
               max(day) AS last_seen_day
        FROM silver.users_seen GROUP BY user_id
        """,
    ),
}
# Bumped whenever the view definitions change, so `twitter.duckdb` is republished once.
CATALOG_VERSION = 2


# The connection a `with lake.connect():` block has open in this thread (see `Lake.connect`).
_ACTIVE_CONNECTION: contextvars.ContextVar[tuple[str, duckdb.DuckDBPyConnection] | None] = contextvars.ContextVar(
    "twitter_lake_connection", default=None
)


class LakeError(RuntimeError):
    """The lake is in a state the pipeline cannot safely use (torn raw landing, bad name...)."""


@dataclass(frozen=True)
class RawDay:
    """A whole landed day in memory: for small days and tests (the assets stream instead)."""

    pages: list[dict[str, Any]]
    manifest: dict[str, Any]

    @property
    def tweet_count(self) -> int:
        return sum(len(page.get("data") or []) for page in self.pages)


@dataclass(frozen=True)
class LandingComparison:
    """A new landing of a day against the landing it would replace, in distinct tweet ids (pages can
    repeat a tweet, so page-summed counts can make a smaller landing look bigger)."""

    previous: dict[str, Any] | None
    previous_tweets: int
    new_tweets: int
    only_previous: int  # ids the landed day has and the new fetch lacks (deleted upstream, or out of window)
    only_new: int
    previous_readable: bool = True  # False: a torn landing (pages or rows missing or corrupt): always replaced


@dataclass(frozen=True)
class CommitOutcome:
    """What a landing's commit did: whether it became the day's landing, the day's manifest now, and
    where the landing that is not current went when it had tweets the current one lacks."""

    committed: bool
    manifest: dict[str, Any]
    comparison: LandingComparison
    archived: str | None = None


def check_slug(name: str, what: str = "source name") -> str:
    if not isinstance(name, str) or not _SLUG_RE.match(name):
        raise LakeError(f"{what} {name!r} is not a slug [a-z0-9_]+")
    return name


def check_table(table: str) -> str:
    if table not in PARTITIONED_TABLES and table not in DERIVED_VIEWS:
        raise LakeError(f"unknown table {table!r}; the lake knows {', '.join(PARTITIONED_TABLES)}")
    if not _TABLE_RE.match(table):  # pragma: no cover - the registry is constant
        raise LakeError(f"table name {table!r} is not schema.name")
    return table


def sql_string(value: str) -> str:
    """A SQL string literal for a path the lake built (DuckDB takes no parameters in DDL/COPY)."""
    if "\x00" in value:
        raise LakeError(f"a path with a NUL byte cannot be used: {value!r}")
    return "'" + value.replace("'", "''") + "'"


class Lake(ConfigurableResource):
    """The lake root (TWITTER_LAKE_DIR): raw landings, partition files, and DuckDB over them."""

    root: str = DEFAULT_LAKE_DIR
    lock_timeout_seconds: float = 900.0
    duckdb_memory_limit: str = "1GB"

    _fs: Any = PrivateAttr(default=None)
    _fs_pid: int = PrivateAttr(default=0)

    @field_validator("root")
    @classmethod
    def _root_duckdb_can_open(cls, root: str) -> str:
        """DuckDB reads `?` in a database path as the start of URL parameters (`/data/a?b/twitter.duckdb` is
        opened as `/data/a`): refuse it where it is set, not at the first write of the catalog."""
        if "?" in root:
            raise ValueError(
                f"the lake root {root!r} contains '?', which DuckDB cannot open in a path: "
                f"set {LAKE_DIR_ENV} (or the lake resource's root) to a location without it"
            )
        if "\x00" in root:
            raise ValueError(f"the lake root {root!r} contains a NUL byte: set {LAKE_DIR_ENV} to a real directory")
        return root

    # ---- where things are ------------------------------------------------------------------------
    @property
    def is_local(self) -> bool:
        return "://" not in self.root or self.root.startswith("file://")

    @property
    def root_path(self) -> Path:
        """The local root directory (only for a local lake)."""
        if not self.is_local:
            raise LakeError(f"the lake root {self.root} is not a local directory")
        return Path(self.root.removeprefix("file://")).expanduser().resolve()

    @property
    def base(self) -> str:
        return str(self.root_path) if self.is_local else self.root.rstrip("/")

    @property
    def database_path(self) -> Path:
        return self.root_path / DATABASE_FILE

    @property
    def fs(self) -> fsspec.AbstractFileSystem:
        if self._fs is None or (not self.is_local and self._fs_pid != os.getpid()):
            self._fs_pid = os.getpid()  # a forked step process gets its own client (event loop, sockets)
            if self.is_local:
                self._fs = fsspec.filesystem("file")
            else:
                self._fs = _object_store(self.root.split("://", 1)[0])
        return self._fs

    def path(self, *parts: str) -> str:
        return "/".join([self.base, *parts])

    def pattern(self, *parts: str) -> str:
        """A glob under the root: the root's own `[`, `*` or `?` are literal (escaped), the parts' are wildcards."""
        return "/".join([glob.escape(self.base), *parts])

    def raw_day_dir(self, source: str, day: date) -> str:
        return self.path("raw", f"source={check_slug(source)}", f"day={day.isoformat()}")

    def raw_manifest_path(self, source: str, day: date) -> str:
        return f"{self.raw_day_dir(source, day)}/manifest.json"

    def raw_pages_path(self, source: str, day: date, manifest: dict[str, Any] | None = None) -> str:
        manifest = manifest if manifest is not None else (self.read_manifest(source, day) or {})
        return f"{self.raw_day_dir(source, day)}/{manifest.get('pages_file', LEGACY_PAGES_FILE)}"

    def partition_path(self, table: str, source: str, day: date) -> str:
        layer, name = check_table(table).split(".")
        return self.path(layer, name, f"source={check_slug(source)}", f"day={day.isoformat()}", PARTITION_FILE)

    # ---- raw layer -------------------------------------------------------------------------------
    def begin_raw_landing(self, source: str, day: date) -> RawLanding:
        """A landing written page by page; nothing is visible until `commit()` writes the manifest."""
        return RawLanding(self, check_slug(source), day)

    def write_raw_day(
        self, source: str, day: date, pages: list[dict[str, Any]], manifest: dict[str, Any]
    ) -> dict[str, Any]:
        """Land a whole day at once (small days, tools and tests) through the same commit as a fetch; returns
        the committed manifest. `manifest["pagination_tokens"]`, if given, is the token each page was fetched
        with, one per page."""
        tokens = manifest.get("pagination_tokens")
        if tokens is None:
            tokens = [None] * len(pages)
        if len(tokens) != len(pages):
            raise ValueError(
                f"{source} {day}: {len(pages)} pages but {len(tokens)} pagination_tokens: "
                "give one token per page (None for the first)"
            )
        with self.begin_raw_landing(source, day) as landing:
            for page, token in zip(pages, tokens, strict=True):
                landing.add_page(page, token)
            return landing.commit({k: v for k, v in manifest.items() if k != "pagination_tokens"}).manifest

    def read_manifest(self, source: str, day: date) -> dict[str, Any] | None:
        path = self.raw_manifest_path(source, day)
        try:
            with self.fs.open(path, "rb") as stream:
                data = stream.read()
        except FileNotFoundError:
            return None
        try:  # a hand-edited manifest: a clear LakeError (a check verdict), not a JSONDecodeError crash
            manifest = json.loads(data.decode("utf-8"))
        except ValueError as exc:
            raise LakeError(
                f"{path} is not a readable manifest ({exc}): re-materialize the raw partition {day.isoformat()} "
                f"for source {source!r}"
            ) from None
        if not isinstance(manifest, dict):
            raise LakeError(f"{path} is not a manifest object: re-materialize the raw partition {day.isoformat()}")
        return manifest

    def iter_raw_pages(self, source: str, day: date, manifest: dict[str, Any] | None = None) -> Iterator[dict]:
        """The landed pages one at a time, after checking the file against the manifest's SHA-256."""
        manifest = manifest if manifest is not None else self.read_manifest(source, day)
        if manifest is None:
            return
        path = self.raw_pages_path(source, day, manifest)
        self._verify_pages(source, day, path, manifest)
        with self.fs.open(path, "rb") as stream:
            for number, line in enumerate(stream, start=1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except ValueError as exc:
                        raise LakeError(f"{path} line {number} is not JSON ({exc})") from None

    def read_raw_day(self, source: str, day: date) -> RawDay | None:
        """The landed pages of a day, or None if nothing was landed; raise if the landing is torn."""
        manifest = self.read_manifest(source, day)
        if manifest is None:
            return None
        return RawDay(pages=list(self.iter_raw_pages(source, day, manifest)), manifest=manifest)

    def _verify_pages(self, source: str, day: date, path: str, manifest: dict[str, Any]) -> None:
        digest = hashlib.sha256()
        try:
            with self.fs.open(path, "rb") as stream:
                for block in iter(lambda: stream.read(1 << 20), b""):
                    digest.update(block)
        except FileNotFoundError:
            pass
        if digest.hexdigest() != manifest.get("pages_sha256"):
            raise LakeError(
                f"{path} does not match its manifest (interrupted landing?): "
                f"re-materialize the raw partition {day.isoformat()} for source {source!r}"
            )

    def raw_rows(self, source: str, day: date, manifest: dict[str, Any]) -> tuple[str, str]:
        """Paths of the day's compact tweet and user rows; rebuilt from the pages when absent.

        Landings made before the rows existed (or whose rows were deleted) get them here, named by
        the pages' checksum, so they are derived once and always from the verbatim pages.
        """
        sha = manifest["pages_sha256"][:16]
        directory = self.raw_day_dir(source, day)
        tweets, users = f"{directory}/tweets-{sha}.parquet", f"{directory}/users-{sha}.parquet"
        if not (self.fs.exists(tweets) and self.fs.exists(users)):
            with tempfile.TemporaryDirectory(prefix="twitter-rows-") as scratch:
                writer = _RowsWriter(Path(scratch))
                for number, page in enumerate(self.iter_raw_pages(source, day, manifest), start=1):
                    writer.add(number, page)
                local_tweets, local_users = writer.close()
                self._publish(local_users, users, immutable=True)
                self._publish(local_tweets, tweets, immutable=True)
        return tweets, users

    def oldest_landed_day(self) -> date | None:
        """The oldest day of any source with a committed raw landing (a manifest), or None."""
        raw = self.path("raw")
        if not self.fs.exists(raw):
            return None
        days = set()
        for source_dir in self.fs.ls(raw, detail=False):
            name = str(source_dir).rstrip("/").rsplit("/", 1)[-1]
            if not name.startswith("source="):
                continue
            for day_dir in self.fs.ls(source_dir, detail=False):
                day_name = str(day_dir).rstrip("/").rsplit("/", 1)[-1]
                try:
                    days.add((date.fromisoformat(day_name.removeprefix("day=")), name.removeprefix("source=")))
                except ValueError:
                    continue
        for day, source in sorted(days):  # a directory may hold only a killed landing's leftovers
            if _SLUG_RE.match(source) and self.fs.exists(self.raw_manifest_path(source, day)):
                return day
        return None

    def archive_raw_day(self, source: str, day: date, label: str | None = None, manifest: dict | None = None) -> str:
        """Copy a landing of the day (the current one by default) aside, to `superseded/<label>/`,
        before a landing that lacks some of its tweets replaces it. The default label names the
        landing itself (fetch time and checksum), so archiving the same landing twice writes the same
        copy again instead of a second one."""
        manifest = manifest if manifest is not None else self.read_manifest(source, day)
        if label is None:
            fetched = str((manifest or {}).get("fetched_at", "")).replace(":", "").replace("-", "") or "unknown"
            label = f"{fetched}-{str((manifest or {}).get('pages_sha256', ''))[:16]}"
        target = f"{self.raw_day_dir(source, day)}/superseded/{label}"
        if manifest is None:
            return target
        self.fs.makedirs(target, exist_ok=True)
        pages = self.raw_pages_path(source, day, manifest)
        if self.fs.exists(pages):
            self.fs.copy(pages, f"{target}/{manifest.get('pages_file', LEGACY_PAGES_FILE)}")
        else:  # the pages are gone: the compact rows may be all that is left of the landing
            for name in sorted(_row_names(manifest)):
                if self.fs.exists(f"{self.raw_day_dir(source, day)}/{name}"):
                    self.fs.copy(f"{self.raw_day_dir(source, day)}/{name}", f"{target}/{name}")
        self.fs.pipe(f"{target}/manifest.json", _manifest_bytes(manifest))
        return target

    def archive_unreadable_day(self, source: str, day: date, exclude: Iterable[str] = ()) -> str:
        """Copy a day whose manifest cannot be read (and its pages) to `superseded/unreadable-<time>/`,
        before a new landing replaces it: the pages are the record, whatever happened to the manifest.
        `exclude`: names of the replacing landing's own objects (on S3 they are in place before its commit)."""
        exclude = set(exclude)
        directory = self.raw_day_dir(source, day)
        target = f"{directory}/superseded/unreadable-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
        self.fs.makedirs(target, exist_ok=True)
        for path in self.fs.glob(f"{glob.escape(directory)}/*"):
            name = str(path).rsplit("/", 1)[-1]
            if (name == "manifest.json" or name.endswith(".ndjson")) and name not in exclude:
                self.fs.copy(str(path), f"{target}/{name}")
        get_dagster_logger().warning(f"{source} {day}: the unreadable landing was copied to {target}")
        return target

    def landed_tweet_ids(self, source: str, day: date, manifest: dict[str, Any]) -> DistinctIds:
        """The distinct tweet ids of a landing (from its compact rows, a row group at a time)."""
        import pyarrow.parquet as pq

        tweets, _ = self.raw_rows(source, day, manifest)
        ids = DistinctIds()
        with self.fs.open(tweets, "rb") as stream:
            for batch in pq.ParquetFile(stream).iter_batches(columns=["tweet_id"], batch_size=_ROWS_BATCH):
                ids.add(batch.column(0))
        return ids

    @contextmanager
    def _day_lock(self, source: str, day: date) -> Iterator[None]:
        """A local lake's per-day commit lock: a landing decides whether it replaces the landed day, and
        replaces it, while no other landing of that day can commit (an object store decides by ETag)."""
        path = self.root_path / ".locks" / f"raw-{check_slug(source)}-{day.isoformat()}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(path))
        try:
            lock.acquire(timeout=self.lock_timeout_seconds)
        except Timeout:
            raise LakeError(
                f"{path} held for {self.lock_timeout_seconds:.0f} s by another landing of {source} {day}: "
                "materialize the partition again once that run has finished"
            ) from None
        try:
            yield
        finally:
            lock.release()

    # ---- partition files -------------------------------------------------------------------------
    def write_partition(self, table: str, source: str, day: date, rows: pa.Table) -> str:
        """Replace the (table, source, day) file whole; readers see the old file or the new one."""
        import pyarrow.parquet as pq

        path = self.partition_path(table, source, day)
        with tempfile.TemporaryDirectory(prefix="twitter-part-", dir=self._scratch_dir()) as scratch:
            local = os.path.join(scratch, PARTITION_FILE)
            pq.write_table(rows, local, compression="zstd")
            self._publish(local, path)
        self._ensure_catalog(table)
        return path

    def delete_partition(self, table: str, source: str, day: date) -> None:
        path = self.partition_path(table, source, day)
        if self.fs.exists(path):
            self.fs.rm(path)

    def partition_files(self, table: str, days: tuple[date, date] | None = None) -> list[str]:
        """The table's partition files (optionally of days `first..last`), sorted."""
        files = sorted(self._list_partitions(table))
        if days is not None:
            first, last = (d.isoformat() for d in days)
            files = [f for f in files if first <= f.rsplit("/day=", 1)[1][:10] <= last]
        return files

    def _list_partitions(self, table: str) -> dict[str, dict[str, Any]]:
        """{path: details} of the table's partition files; remote paths as `<protocol>://` URLs with
        the listing's ETag and size (one LIST request per table)."""
        layer, name = check_table(table).split(".")
        pattern = self.pattern(layer, name, "source=*", "day=*", PARTITION_FILE)
        if self.is_local:
            return {path: {} for path in self.fs.glob(pattern)}
        protocol = self.root.split("://", 1)[0]
        found = self.fs.glob(pattern, detail=True)
        return {(f if "://" in f else f"{protocol}://{f}"): details for f, details in found.items()}

    def _list_all_partitions(self) -> dict[str, dict[str, dict[str, Any]]]:
        """{table: {path: details}} for every table; remote: one LIST per layer, not one per table."""
        if self.is_local:
            return {table: self._list_partitions(table) for table in PARTITIONED_TABLES}
        protocol = self.root.split("://", 1)[0]
        found: dict[str, dict[str, dict[str, Any]]] = {table: {} for table in PARTITIONED_TABLES}
        for layer in sorted({table.split(".")[0] for table in PARTITIONED_TABLES}):
            try:
                listed = self.fs.find(self.path(layer), detail=True)
            except FileNotFoundError:
                continue
            prefix = self.path(layer).split("://", 1)[1] + "/"
            for path, details in listed.items():
                match = _PARTITION_KEY_RE.match(path.split("://", 1)[-1].removeprefix(prefix))
                if match and f"{layer}.{match.group(1)}" in found:
                    found[f"{layer}.{match.group(1)}"][f"{protocol}://{path.split('://', 1)[-1]}"] = details
        return found

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """An in-memory DuckDB with every table of the lake as a view over its partition files.

        Tables with no file yet are absent (a query names them -> a clear CatalogException). No
        lock is taken: files are replaced atomically, and this connection writes nothing. Inside
        `with lake.connect():` further `connect()` calls of the same lake reuse the open connection
        (a check step judging many days lists the files once, not once per day and check).
        """
        active = _ACTIVE_CONNECTION.get()
        if active is not None and active[0] == self.base:
            yield active[1]
            return
        import duckdb

        db = duckdb.connect(config={"memory_limit": self.duckdb_memory_limit})
        token = None
        try:
            db.execute(f"SET temp_directory = {sql_string(tempfile.gettempdir() + '/twitter-duckdb')}")
            db.execute("SET TimeZone = 'UTC'")
            listings = self._list_all_partitions()
            if not self.is_local:
                listed = {path.split("://", 1)[1]: info for found in listings.values() for path, info in found.items()}
                db.register_filesystem(self._reader_filesystem(listed))
            present = set()
            for table in PARTITIONED_TABLES:
                files = sorted(listings[table])
                if files:
                    listed = ", ".join(sql_string(f) for f in files)
                    db.execute(f"CREATE SCHEMA IF NOT EXISTS {table.split('.')[0]}")
                    db.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet([{listed}], union_by_name = true)")
                    present.add(table)
            _create_derived_views(db, present)
            token = _ACTIVE_CONNECTION.set((self.base, db))
            yield db
        finally:
            if token is not None:
                _ACTIVE_CONNECTION.reset(token)
            db.close()

    def _reader_filesystem(self, listed: dict[str, dict[str, Any]]) -> fsspec.AbstractFileSystem:
        """What one DuckDB connection reads remote objects through (each pinned to one version)."""
        return _PinnedObjects(self.fs, listed)

    # ---- the published catalog (twitter.duckdb) --------------------------------------------------
    def _ensure_catalog(self, table: str) -> None:
        """Publish `twitter.duckdb` views once a table has files (and after a view change)."""
        if not self.is_local:
            return
        marker = self.root_path / CATALOG_MARKER
        try:
            state = json.loads(marker.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            state = {}
        if state.get("version") == CATALOG_VERSION and table in state.get("tables", []):
            return
        self.publish_catalog()

    def publish_catalog(self) -> bool:
        """(Re)create the views of `twitter.duckdb`, migrating tables of an older lake into files.

        A reader holding the database (a notebook, a BI tool) makes this wait up to the lock timeout
        for our own writers and skip for foreign readers: the data is in the files either way, and
        the next write tries again. Returns whether the views were published.
        """
        if not self.is_local:  # no database file on an object store: `connect()` builds the views
            return False
        import duckdb

        lock = FileLock(str(self.database_path) + ".lock")
        try:
            lock.acquire(timeout=self.lock_timeout_seconds)
        except Timeout:
            get_dagster_logger().warning(f"{lock.lock_file} held for {self.lock_timeout_seconds:.0f} s: views later")
            return False
        try:
            try:
                db = duckdb.connect(str(self.database_path))
            except duckdb.IOException as exc:
                # Said in our words, not DuckDB's "Could not set lock": nothing failed, the data is in
                # the partition files (twitter_assets_tests/reliability/test_concurrency.py).
                holder = re.search(r"PID (\d+)", str(exc))
                get_dagster_logger().warning(
                    f"{self.database_path} is open in another process{f' (PID {holder[1]})' if holder else ''}, "
                    "a reader such as a notebook: its views are refreshed on the next write; the data itself "
                    "is already in the partition files (README, Reliability: how readers open the lake)"
                )
                return False
            try:
                _migrate_legacy_tables(self, db)
                published = []
                for table in PARTITIONED_TABLES:
                    layer, name = table.split(".")
                    if not self.partition_files(table):
                        continue
                    pattern = self.pattern(layer, name, "*", "*", PARTITION_FILE)
                    db.execute(f"CREATE SCHEMA IF NOT EXISTS {layer}")
                    db.execute(
                        f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM read_parquet("
                        f"{sql_string(pattern)}, union_by_name = true, hive_partitioning = false)"
                    )
                    published.append(table)
                _create_derived_views(db, set(published), replace=True)
            finally:
                db.close()
            marker = self.root_path / CATALOG_MARKER
            _atomic_local_write(marker, json.dumps({"version": CATALOG_VERSION, "tables": published}).encode())
            return True
        finally:
            lock.release()

    # ---- moving bytes ----------------------------------------------------------------------------
    def _scratch_dir(self) -> str | None:
        """Temporary files go beside the data on a local lake (same filesystem: rename is atomic), in
        this process's own directory under `.incoming/` (see `_process_scratch`)."""
        if not self.is_local:
            return None
        return str(_process_scratch(self.root_path / ".incoming"))

    def _publish(self, local: str | Path, target: str, *, immutable: bool = False, keep_local: bool = False) -> None:
        """Move a finished local file to its place in one step (rename, or one object PUT).

        On an object store the object appears whole or not at all (one PUT, or a multipart upload
        that becomes visible when completed). `immutable`: the name is derived from the content (a
        checksum), so it is written only if absent (`If-None-Match: *`); finding it there is success.
        `keep_local`: the local file stays (a hard link on a local lake: no copy), to publish again.
        """
        if self.is_local:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            with open(local, "rb+") as stream:
                os.fsync(stream.fileno())
            if keep_local and immutable:
                try:
                    os.link(local, target)
                    return
                except FileExistsError:  # the same content, published already
                    return
                except OSError:  # another filesystem (a scratch dir elsewhere): copied below
                    pass
            elif not keep_local:
                try:
                    os.replace(local, target)
                    return
                except OSError:  # another filesystem: copied below
                    pass
            _atomic_local_copy(Path(local), Path(target))  # copy beside, then rename
        elif immutable:
            try:
                self.fs.put_file(str(local), target, mode="create")
            except OSError as exc:
                if not _precondition_failed(exc):
                    raise
        else:
            self.fs.put_file(str(local), target)

    def _commit_manifest(
        self,
        path: str,
        data: bytes,
        settle: Callable[[dict[str, Any] | None], bool],
        attempts: int = 20,
        own_objects: Iterable[str] = (),
    ) -> tuple[dict[str, Any] | None, bool]:
        """Object store: write a day's manifest only over the version it read (`If-Match` its ETag,
        `If-None-Match: *` when there was none); a concurrent commit in between makes it read again.
        `settle(previous)` decides, on each version read, whether to replace it (and archives it when
        it must). Returns the manifest read last and whether it was replaced. No lock: S3 decides."""
        for _ in range(attempts):
            try:
                etag = self.fs.info(path)["ETag"]
            except FileNotFoundError:
                etag = None
            previous = None
            if etag is not None:
                try:
                    previous = json.loads(self.fs.cat_file(path))
                except FileNotFoundError:  # deleted since: try again
                    continue
                except ValueError:  # hand-edited into garbage: kept aside, and this landing replaces it
                    previous = None
                if not isinstance(previous, dict):
                    source, day = _raw_day_of(path)
                    self.archive_unreadable_day(source, day, exclude=own_objects)
                    previous = None
            try:
                take_new = settle(previous)
            except FileNotFoundError:  # a concurrent landing replaced `previous` (and removed its files) meanwhile
                continue
            if not take_new:
                return previous, False
            condition = {"IfMatch": etag} if etag is not None else {"IfNoneMatch": "*"}
            try:
                self.fs.pipe_file(path, data, **condition)
            except (OSError, FileNotFoundError) as exc:
                if _precondition_failed(exc):
                    continue
                raise
            return previous, True
        raise LakeError(f"{path}: {attempts} concurrent commits in a row replaced it while committing")


# ---- scratch space of a local lake ---------------------------------------------------------------
_SCRATCH_OWNER = re.compile(r"^(?P<host>[A-Za-z0-9_-]+)\.(?P<pid>[0-9]+)$")
_swept: set[tuple[str, int]] = set()  # (.incoming directory, pid) already swept by this process
_swept_lock = threading.Lock()


def _host_tag() -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname()) or "localhost"


def _process_scratch(incoming: Path) -> Path:
    """`.incoming/<host>.<pid>/`: the scratch directory of this process. A process killed mid-landing
    (SIGKILL, OOM, a lost worker) leaves its scratch files behind, up to a whole day of pages; the
    first use in each process removes the directories of processes of this host that no longer run.
    Liveness, not age: a landing may legitimately last hours (rate-limit waits on a huge day)."""
    pid, host = os.getpid(), _host_tag()
    mine = incoming / f"{host}.{pid}"
    with _swept_lock:
        if (str(incoming), pid) not in _swept:
            _sweep_dead_scratch(incoming, host, pid)
            _swept.add((str(incoming), pid))
            atexit.register(_remove_if_empty, mine)
    mine.mkdir(parents=True, exist_ok=True)
    return mine


def _remove_if_empty(directory: Path) -> None:
    """At a clean exit a process's scratch directory is empty (every landing commits or aborts): remove it,
    so finished runs leave no trace. Anything still inside stays for the next process's sweep to judge."""
    try:
        directory.rmdir()
    except OSError:  # not empty, gone already, or never created
        pass


def _sweep_dead_scratch(incoming: Path, host: str, me: int) -> None:
    try:
        entries = list(incoming.iterdir())
    except FileNotFoundError:
        return
    for entry in entries:
        owner = _SCRATCH_OWNER.match(entry.name)
        if owner is None or owner["host"] != host or int(owner["pid"]) == me or _pid_alive(int(owner["pid"])):
            continue  # another host's (its own processes sweep it), ours, or still running
        shutil.rmtree(entry, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


# LastModified of S3 objects has whole-second precision: a file is older than a landing's start only
# if it is older by more than that.
_MODIFIED_TIME_MARGIN_S = 2.0


class RawLanding:
    """One day's landing in progress: pages streamed to a temporary file, hashed on the way, with
    their compact rows written in batches beside them. Memory does not grow with the day."""

    def __init__(self, lake: Lake, source: str, day: date):
        self.lake, self.source, self.day = lake, source, day
        self._scratch = Path(tempfile.mkdtemp(prefix=f"raw-{source}-{day}-", dir=lake._scratch_dir()))
        self._pages_path = self._scratch / "pages.ndjson"
        self._pages = open(self._pages_path, "wb")  # noqa: SIM115 - closed in commit/abort
        self._digest = hashlib.sha256()
        self._rows = _RowsWriter(self._scratch)
        self.page_count = 0
        self.tweet_count = 0
        self.pagination_tokens: list[str | None] = []
        self._closed = False
        self._started = time.time()

    def add_page(self, body: dict[str, Any], pagination_token: str | None) -> None:
        line = (json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        self._pages.write(line)
        self._digest.update(line)
        self.page_count += 1
        self.tweet_count += len(body.get("data") or [])
        self.pagination_tokens.append(pagination_token)
        self._rows.add(self.page_count, body)

    def commit(
        self, manifest: dict[str, Any], prefer_new: Callable[[LandingComparison], bool] | None = None
    ) -> CommitOutcome:
        """Publish pages, rows, then the manifest (the commit); remove files no landing refers to.

        Whether this landing replaces the day's landing is decided here, against the landing that is
        current at this moment (under the day's lock, or on the manifest version an object store's
        conditional PUT replaces), not against one read before fetching: a concurrent landing may have
        committed since. A landing with every landed tweet replaces it; otherwise `prefer_new(comparison)`
        decides (default: always). Nothing is lost either
        way: the landing that ends up not current is copied to `superseded/` when it has tweets the
        current one lacks.
        """
        self._pages.flush()
        os.fsync(self._pages.fileno())
        self._pages.close()
        tweets_local, users_local = self._rows.close()
        sha = self._digest.hexdigest()
        names = {"pages": f"pages-{sha[:16]}.ndjson", "tweets": f"tweets-{sha[:16]}.parquet"}
        names["users"] = f"users-{sha[:16]}.parquet"
        directory = self.lake.raw_day_dir(self.source, self.day)
        manifest = {
            **manifest,
            "pages_file": names["pages"],
            "pages_sha256": sha,
            "page_count": self.page_count,
            "tweet_count": self.tweet_count,
            "pagination_tokens": self.pagination_tokens,
        }
        new_ids = self._rows.tweet_ids
        published = {
            names["pages"]: Path(self._pages_path),
            names["tweets"]: Path(tweets_local),
            names["users"]: Path(users_local),
        }
        decided: dict[str, Any] = {}

        def settle(previous: dict[str, Any] | None) -> bool:
            comparison = self._compare(previous, new_ids, sha)
            # a landing with every landed tweet loses nothing by replacing: prefer_new is not asked
            take_new = previous is None or comparison.only_previous == 0 or prefer_new is None
            take_new = take_new or not comparison.previous_readable or prefer_new(comparison)
            archived = None
            if take_new and previous is not None and comparison.only_previous:
                archived = self.lake.archive_raw_day(self.source, self.day, manifest=previous)
            decided.update(comparison=comparison, archived=archived)
            return take_new

        if self.lake.is_local:
            with self.lake._day_lock(self.source, self.day):
                try:
                    previous = self.lake.read_manifest(self.source, self.day)
                except LakeError:  # hand-edited into garbage: kept aside, and this landing replaces it
                    previous = None
                    self.lake.archive_unreadable_day(self.source, self.day)
                committed = settle(previous)
                if committed:
                    for name, local in published.items():
                        self.lake._publish(local, f"{directory}/{name}", immutable=True, keep_local=True)
                    manifest_local = self._scratch / "manifest.json"
                    manifest_local.write_bytes(_manifest_bytes(manifest))
                    self.lake._publish(manifest_local, self.lake.raw_manifest_path(self.source, self.day))
                    self._remove_unreferenced(previous, set(names.values()))  # under the lock: no landing mid-commit
                    self._drop_copies_of(directory, sha)
        else:
            for name, local in published.items():
                self.lake._publish(local, f"{directory}/{name}", immutable=True, keep_local=True)
            manifest_path = self.lake.raw_manifest_path(self.source, self.day)
            previous, committed = self.lake._commit_manifest(
                manifest_path, _manifest_bytes(manifest), settle, own_objects=published
            )
        comparison = decided["comparison"]
        if committed:
            self._restore_removed(directory, published, sha)
            if not self.lake.is_local:
                self._remove_unreferenced(previous, set(names.values()))
                self._drop_copies_of(directory, sha)
            self._remove_scratch()
            return CommitOutcome(True, manifest, comparison, decided["archived"])
        archived = self._archive_unlanded(manifest, comparison) if comparison.only_new else None
        if not self.lake.is_local:  # our objects, which no manifest names
            for name in published:
                if name not in {previous.get("pages_file"), *_row_names(previous)}:
                    self._remove(f"{directory}/{name}")
        self._remove_scratch()
        return CommitOutcome(False, previous, comparison, archived)

    def _drop_copies_of(self, directory: str, sha: str) -> None:
        """Remove `superseded/` copies of the very landing now current (same pages checksum): a commit killed
        after archiving the landing it was about to replace leaves such a copy, and the next landing of the
        same answer makes it redundant.

        On an object store there is no lock: a landing that replaced this one after its commit copies it to
        `superseded/` first, and that copy must stay. So there only a copy made before this landing began
        goes (the margin covers whole-second LastModified), and only while this landing is still current."""
        for path in self.lake.fs.glob(f"{glob.escape(directory)}/superseded/*-{sha[:16]}"):
            try:
                copied = json.loads(self.lake.fs.cat_file(f"{path}/manifest.json"))
                if not self.lake.is_local:
                    made = self.lake.fs.modified(f"{path}/manifest.json")
                    made = made if made.tzinfo is not None else made.replace(tzinfo=timezone.utc)
                    if made.timestamp() + _MODIFIED_TIME_MARGIN_S >= self._started:
                        continue
                    if (self.lake.read_manifest(self.source, self.day) or {}).get("pages_sha256") != sha:
                        return
            except (FileNotFoundError, ValueError, LakeError):
                continue
            if isinstance(copied, dict) and copied.get("pages_sha256") == sha:
                self.lake.fs.rm(str(path), recursive=True)

    def _compare(self, previous: dict[str, Any] | None, new_ids: DistinctIds, sha: str) -> LandingComparison:
        if previous is None:
            return LandingComparison(None, 0, len(new_ids), 0, len(new_ids))
        if previous.get("pages_sha256") == sha:
            return LandingComparison(previous, len(new_ids), len(new_ids), 0, 0)
        try:
            if not self.lake.fs.exists(self.lake.raw_pages_path(self.source, self.day, previous)):
                raise LakeError("its pages are gone")  # the record: rows alone are not a landing
            old_ids = self.lake.landed_tweet_ids(self.source, self.day, previous)
        except Exception as exc:  # noqa: BLE001 - any unreadable part: a torn landing, replaced after a copy
            get_dagster_logger().warning(
                f"{self.source} {self.day}: the landed day cannot be read ({type(exc).__name__}: {exc}); "
                "this landing replaces it and what is left of it is copied to superseded/"
            )
            stake = int(previous.get("tweet_count", 0) or 0)
            return LandingComparison(previous, stake, len(new_ids), stake, len(new_ids), previous_readable=False)
        only_previous, only_new = old_ids.count_not_in(new_ids), new_ids.count_not_in(old_ids)
        return LandingComparison(previous, len(old_ids), len(new_ids), only_previous, only_new)

    def _archive_unlanded(self, manifest: dict[str, Any], comparison: LandingComparison) -> str:
        """The day kept its landing, but this fetch has tweets it lacks: they go to `superseded/` too."""
        fetched = str(manifest.get("fetched_at", "")).replace(":", "").replace("-", "") or "unknown"
        target = f"{self.lake.raw_day_dir(self.source, self.day)}/superseded/{fetched}-{manifest['pages_sha256'][:16]}"
        target += "-not-landed"
        self.lake.fs.makedirs(target, exist_ok=True)
        self.lake._publish(self._pages_path, f"{target}/{manifest['pages_file']}", keep_local=True)
        note = (
            f"not landed: the landing of {comparison.previous_tweets} distinct tweets was kept; this fetch had "
            f"{comparison.new_tweets}, {comparison.only_new} of them not in it"
        )
        self.lake.fs.pipe(f"{target}/manifest.json", _manifest_bytes({**manifest, "not_landed": note}))
        return target

    def _restore_removed(self, directory: str, published: dict[str, Path], sha: str) -> None:
        """Put back our files if a concurrent landing's cleanup took them for a killed landing's leftovers
        (it removes unreferenced files older than its own start: ours, if this landing stalled between
        publishing them and its manifest for longer than that landing's whole fetch). Not when a later
        landing has replaced ours meanwhile: then removing them was right."""
        missing = [name for name in published if not self.lake.fs.exists(f"{directory}/{name}")]
        if not missing:
            return
        current = self.lake.read_manifest(self.source, self.day)
        if current is None or current.get("pages_sha256") != sha:
            return
        for name in missing:
            self.lake._publish(published[name], f"{directory}/{name}", immutable=True, keep_local=True)
        get_dagster_logger().warning(
            f"{self.source} {self.day}: a concurrent landing removed {', '.join(missing)} before this "
            "landing's manifest was committed; published them again"
        )

    def abort(self) -> None:
        if not self._pages.closed:
            self._pages.close()
        self._rows.discard()
        self._remove_scratch()

    def _remove_scratch(self) -> None:
        self._closed = True
        shutil.rmtree(self._scratch, ignore_errors=True)

    def _remove_unreferenced(self, previous: dict[str, Any] | None, keep: set[str]) -> None:
        """Drop the files of the landing this one replaced (`commit` copied it to superseded/ first if it
        had tweets this one lacks)."""
        if previous is None:
            return
        directory = self.lake.raw_day_dir(self.source, self.day)
        sha = str(previous.get("pages_sha256", ""))[:16]
        stale = {previous.get("pages_file", LEGACY_PAGES_FILE), f"tweets-{sha}.parquet", f"users-{sha}.parquet"}
        for name in stale - keep:
            self._remove(f"{directory}/{name}")
        self._remove_uncommitted(directory, keep)

    def _remove(self, path: str) -> None:
        """Delete one file; gone already is done (concurrent landings of a day clean up the same files)."""
        try:
            self.lake.fs.rm(path)
        except FileNotFoundError:
            pass

    def _remove_uncommitted(self, directory: str, keep: set[str]) -> None:
        """Drop files of landings that never committed: a process killed between publishing its
        files and its manifest leaves them behind (found by twitter_assets_tests/reliability/
        test_crash.py). Only files older than this landing's start go: a concurrent landing of the
        same day publishes after it began, so its files are newer and stay. Object stores report
        LastModified in whole seconds (a file published 0.7 s after this landing began can read as
        older), hence the margin."""
        try:  # the landing current now (a concurrent one may have committed since ours): its files stay
            current = self.lake.read_manifest(self.source, self.day) or {}
        except LakeError:
            current = {}
        keep = keep | {str(current.get("pages_file", "")), *_row_names(current)}
        for path in self.lake.fs.glob(f"{glob.escape(directory)}/*"):
            name = str(path).rsplit("/", 1)[-1]
            if name in keep or not _LANDING_FILE_RE.match(name):
                continue
            try:
                modified = self.lake.fs.modified(path)
            except FileNotFoundError:  # removed by a concurrent landing since the listing
                continue
            if modified.tzinfo is None:
                modified = modified.replace(tzinfo=timezone.utc)
            if modified.timestamp() + _MODIFIED_TIME_MARGIN_S < self._started:
                self._remove(path)

    def __enter__(self) -> RawLanding:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self._closed:
            self.abort()


_ROWS_BATCH = 20_000
_DECIMAL_ID = r"^[1-9][0-9]{0,18}$"  # an X API id: a decimal int64 without leading zeros


class DistinctIds:
    """A set of tweet ids built a batch at a time, for counting what one landing has and another lacks.

    X API ids are decimal int64 strings, so they are kept as sorted int64: 8 bytes an id, where the strings
    cost ~150 MB of peak memory for a 1M-tweet day (`make bench`). An id of another shape (hand-made data)
    switches the set to strings, so no two distinct ids ever compare equal."""

    def __init__(self) -> None:
        self._ints: list[Any] = []  # int64 numpy arrays
        self._strings: list[pa.Array] | None = None
        self._distinct: Any = None  # sorted int64 numpy array, or a pa.Array of strings

    def add(self, ids: pa.Array | pa.ChunkedArray) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        if isinstance(ids, pa.ChunkedArray):
            ids = ids.combine_chunks()
        ids = pc.drop_null(ids).cast(pa.string())
        self._distinct = None
        if self._strings is None and len(ids):
            try:
                if pc.all(pc.match_substring_regex(ids, _DECIMAL_ID)).as_py():
                    self._ints.append(pc.cast(ids, pa.int64()).to_numpy(zero_copy_only=False))
                    return
            except pa.ArrowInvalid:  # beyond int64
                pass
            self._strings = [pa.array(self._int_values()).cast(pa.string())]
            self._ints = []
        if self._strings is not None:
            self._strings.append(ids)

    def _int_values(self) -> Any:
        import numpy as np

        return np.concatenate(self._ints) if self._ints else np.empty(0, dtype=np.int64)

    def values(self) -> Any:
        """The distinct ids: a sorted int64 numpy array, or Arrow strings once an id is not a decimal int64."""
        import numpy as np
        import pyarrow as pa

        if self._distinct is None:
            if self._strings is None:  # sort in place and mask: np.unique's own path peaks at ~8x the ids' size
                ids = self._int_values()
                ids.sort()
                first = np.ones(len(ids), dtype=bool)
                np.not_equal(ids[1:], ids[:-1], out=first[1:])
                self._distinct = ids[first]
                self._ints = [self._distinct]
            else:
                self._distinct = pa.chunked_array(self._strings, type=pa.string()).unique()
        return self._distinct

    def __len__(self) -> int:
        return len(self.values())

    def count_not_in(self, other: DistinctIds) -> int:
        """How many of these ids `other` lacks."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        mine, theirs = self.values(), other.values()
        if not len(mine):
            return 0
        if isinstance(mine, np.ndarray) and isinstance(theirs, np.ndarray):  # both sorted and distinct
            if not len(theirs):
                return len(mine)
            at = np.minimum(np.searchsorted(theirs, mine), len(theirs) - 1)
            return int(np.count_nonzero(theirs[at] != mine))
        mine, theirs = (pa.array(v).cast(pa.string()) if isinstance(v, np.ndarray) else v for v in (mine, theirs))
        return len(mine) - int(pc.sum(pc.is_in(mine, value_set=theirs)).as_py() or 0)


class _RowsWriter:
    """Compact tweet and user rows to two local Parquet files, a batch at a time; the landing's distinct tweet
    ids are collected on the way (what the commit compares with the landed day), so they are not read back."""

    BATCH = _ROWS_BATCH

    def __init__(self, directory: Path):
        import pyarrow.parquet as pq

        from twitter_assets.rows import TWEET_ROW_SCHEMA, USER_ROW_SCHEMA

        self.directory = directory
        self._rows = RowColumns()
        self.tweet_ids = DistinctIds()
        self._writers = {
            "tweets": pq.ParquetWriter(directory / "tweets.parquet", TWEET_ROW_SCHEMA, compression="zstd"),
            "users": pq.ParquetWriter(directory / "users.parquet", USER_ROW_SCHEMA, compression="zstd"),
        }

    def add(self, page_number: int, body: dict[str, Any]) -> None:
        self._rows.add(page_number, body)
        if len(self._rows.tweets) >= self.BATCH or len(self._rows.users) >= self.BATCH:
            self._flush()

    def _flush(self) -> None:
        tweets, users = self._rows.take()
        if tweets is not None:
            self._writers["tweets"].write_batch(tweets)
            self.tweet_ids.add(tweets.column("tweet_id"))
        if users is not None:
            self._writers["users"].write_batch(users)

    def close(self) -> tuple[Path, Path]:
        self._flush()
        for writer in self._writers.values():
            writer.close()
        return self.directory / "tweets.parquet", self.directory / "users.parquet"

    def discard(self) -> None:
        for writer in self._writers.values():
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - discarding a half-written scratch file
                pass


def _create_derived_views(db: duckdb.DuckDBPyConnection, present: set[str], replace: bool = False) -> None:
    for view, (base, sql) in DERIVED_VIEWS.items():
        if base in present:
            db.execute(f"CREATE SCHEMA IF NOT EXISTS {view.split('.')[0]}")
            db.execute(f"CREATE {'OR REPLACE ' if replace else ''}VIEW {view} AS {sql}")


def _migrate_legacy_tables(lake: Lake, db: duckdb.DuckDBPyConnection) -> None:
    """Move silver/gold *tables* of a lake made before partition files into those files, once."""
    import pyarrow as pa
    import pyarrow.compute  # noqa: F401 - pa.compute below
    import pyarrow.parquet as pq

    tables = {
        f"{schema}.{name}"
        for schema, name in db.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT temporary"
        ).fetchall()
    }
    if not tables:
        return
    log = get_dagster_logger()
    for table in sorted(tables):
        if table == "silver.users":
            frame = db.sql(
                """SELECT '_migrated' AS source, d.day, 0 AS seen_order, user_id, username, name, created_at
                   FROM silver.users, LATERAL (SELECT unnest([first_seen_day, last_seen_day]) AS day) d"""
            ).to_arrow_table()
            target = "silver.users_seen"
        elif table in PARTITIONED_TABLES:
            frame = db.sql(f"SELECT * FROM {table}").to_arrow_table()
            target = table
        else:
            continue
        keys = sorted({(s, d) for s, d in zip(frame["source"].to_pylist(), frame["day"].to_pylist(), strict=True)})
        for source, day in keys:
            mask = pa.compute.and_(
                pa.compute.equal(frame["source"], source), pa.compute.equal(frame["day"], pa.scalar(day))
            )
            path = lake.partition_path(target, source, day)
            with tempfile.TemporaryDirectory(dir=lake._scratch_dir()) as scratch:
                local = os.path.join(scratch, PARTITION_FILE)
                pq.write_table(frame.filter(mask), local, compression="zstd")
                lake._publish(local, path)
        db.execute(f"DROP TABLE {table}")
        log.info(f"migrated {table}: {frame.num_rows} rows into {len(keys)} partition files of {target}")


class _ObjectCache:
    """Whole small objects of this process by (path, ETag), least recently used out first: an object
    that has not changed is downloaded once per process, not once per query (S3 charges per request
    and a query over the lake touches every partition's footer)."""

    def __init__(self, budget: int):
        self.budget, self.total = budget, 0
        self._items: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: str, etag: str) -> bytes | None:
        with self._lock:
            data = self._items.get((path, etag))
            if data is not None:
                self._items.move_to_end((path, etag))
            return data

    def put(self, path: str, etag: str, data: bytes) -> None:
        if len(data) > self.budget:
            return
        with self._lock:
            if (path, etag) not in self._items:
                self._items[(path, etag)] = data
                self.total += len(data)
            while self.total > self.budget:
                _, dropped = self._items.popitem(last=False)
                self.total -= len(dropped)


_OBJECTS = _ObjectCache(budget=int(os.environ.get("TWITTER_LAKE_OBJECT_CACHE_MB", "128")) << 20)


class _PinnedObjects(fsspec.AbstractFileSystem):
    """What DuckDB reads `s3://` through, one per `Lake.connect()`. DuckDB asks an object's size, its
    footer and its row groups in separate calls; an object replaced in between must not be read as
    the old size with the new bytes. So each object is pinned, on first use in the connection, to one
    version: objects up to `WHOLE_BYTES` are taken whole (one GET, or this process's copy of the
    ETag the listing named), so a reader sees the old object or the new one, never an error. Larger
    ones are read by ranges with `If-Match: <ETag>`: one replaced mid-query fails the query (run it
    again) instead of mixing versions."""

    protocol = ("s3", "s3a")
    WHOLE_BYTES = 16 << 20
    # fsspec keeps every instance built with the same arguments in a class-wide dict and hands it out
    # again: a later connection over an unchanged listing then read objects through an earlier one's pins
    # (an object removed since still read from memory), and each distinct listing's instance, with the
    # bytes it had pinned, stayed for the life of the process. One instance per connection, never shared.
    cachable = False

    def __init__(self, store: fsspec.AbstractFileSystem, listed: dict[str, dict[str, Any]] | None = None):
        super().__init__(skip_instance_cache=True)
        self.store = store
        self._listed = dict(listed or {})  # path -> LIST details (ETag, size) of this connection's views
        self._pins: dict[str, dict[str, Any]] = {}
        self._whole: dict[str, bytes] = {}

    @classmethod
    def _strip_protocol(cls, path):
        path = path[0] if isinstance(path, list) else path
        return str(path).split("://", 1)[-1].rstrip("/")

    def _pin(self, path: str) -> dict[str, Any]:
        path = self._strip_protocol(path)
        if path in self._pins:
            return self._pins[path]
        listed = self._listed.get(path)
        if listed is not None and listed.get("ETag"):
            cached = _OBJECTS.get(path, listed["ETag"])
            if cached is not None:
                self._whole[path] = cached
                self._pins[path] = {**listed, "size": len(cached)}
                return self._pins[path]
        for _ in range(10):
            with self.store.open(path, "rb") as stream:  # one HEAD; its reads carry If-Match
                info = dict(stream.details)
                if info["size"] > self.WHOLE_BYTES:
                    break
                cached = _OBJECTS.get(path, info["ETag"])
                if cached is None:
                    try:
                        cached = stream.read()
                    except OSError:  # replaced between the HEAD and the GET: pin the new one
                        continue
                    _OBJECTS.put(path, info["ETag"], cached)
                self._whole[path] = cached
                break
        self._pins[path] = info
        return info

    def _open(self, path, mode="rb", **kwargs):
        if "r" not in mode:
            raise LakeError("the lake's DuckDB connection only reads objects")
        info = self._pin(path)
        path = self._strip_protocol(path)
        if path in self._whole:
            return io.BytesIO(self._whole[path])
        stream = self.store.open(path, "rb", size=info["size"], cache_type="readahead")
        stream.details = info
        stream.read_kw = {**getattr(stream, "read_kw", {}), "IfMatch": info["ETag"]}
        return stream

    def open(self, path, mode="rb", **kwargs):
        return self._open(path, mode, **kwargs)

    def info(self, path, **kwargs):
        return self._pin(path)

    def size(self, path):
        return self._pin(path)["size"]

    def modified(self, path):
        return self._pin(path).get("LastModified")

    def exists(self, path, **kwargs):
        path = self._strip_protocol(path)
        return path in self._pins or path in self._listed or self.store.exists(path)

    def ls(self, path, detail=True, **kwargs):
        return self.store.ls(path, detail=detail, **kwargs)

    def glob(self, path, **kwargs):
        path = self._strip_protocol(path)
        if not any(char in path for char in "*?["):  # the listed files themselves: no request
            return [path] if self.exists(path) else []
        return self.store.glob(path, **kwargs)


def _object_store(protocol: str) -> fsspec.AbstractFileSystem:
    """The fsspec filesystem of a remote root. `s3://`: s3fs (the `s3` extra) with the standard AWS
    variables (`AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`, keys, `AWS_DEFAULT_REGION`), and no
    listing cache: other workers add and replace objects, so every listing asks the store."""
    if protocol not in ("s3", "s3a"):
        return fsspec.filesystem(protocol, skip_instance_cache=True)
    try:
        import s3fs
    except ImportError as exc:  # pragma: no cover - the extra is missing
        raise LakeError("an s3:// lake root needs s3fs: pip install -e '.[s3]'") from exc
    options: dict[str, Any] = {"use_listings_cache": False, "skip_instance_cache": True}
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        options["endpoint_url"] = endpoint
    return s3fs.S3FileSystem(**options)


def _precondition_failed(exc: BaseException) -> bool:
    """Whether an object-store write was refused by its condition (HTTP 412, `If-None-Match`/`If-Match`)."""
    while exc is not None:
        response = getattr(exc, "response", None)
        if isinstance(response, dict):
            error = response.get("Error") or {}
            status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
            if error.get("Code") in ("PreconditionFailed", "412") or status == 412:
                return True
        exc = exc.__cause__ or exc.__context__
    return False


def _manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


def _atomic_local_copy(source: Path, target: Path) -> None:
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    try:
        shutil.copyfile(source, temporary)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _atomic_local_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
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


def _row_names(manifest: dict[str, Any]) -> set[str]:
    sha = str(manifest.get("pages_sha256", ""))[:16]
    return {f"tweets-{sha}.parquet", f"users-{sha}.parquet"}


def _raw_day_of(manifest_path: str) -> tuple[str, date]:
    """(source, day) of a raw manifest path `.../raw/source=<s>/day=<d>/manifest.json`."""
    parts = manifest_path.rstrip("/").split("/")
    return parts[-3].removeprefix("source="), date.fromisoformat(parts[-2].removeprefix("day="))
