"""The lake on S3-compatible object storage (the moto server of `distributed/services.py`, real HTTP on
127.0.0.1): the unit behaviours of `test_lake.py` on an `s3://` root, the conditional writes, and a
pipeline backfill whose silver and gold rows equal the same backfill on a local lake."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone

import duckdb
import pyarrow as pa
import pytest

from twitter_assets.lake import Lake, LakeError
from twitter_assets.sources import Source

pytestmark = [pytest.mark.distributed, pytest.mark.timeout(300)]

DAY = date(2026, 11, 20)
TWEET = {"id": "1", "text": "olá", "created_at": "2026-11-20T10:00:00.000Z", "author_id": "7"}
USER = {"id": "7", "username": "ana", "name": "Ana"}
PAGES = [
    {"data": [TWEET], "includes": {"users": [USER]}, "meta": {"result_count": 1, "next_token": "t1"}},
    {"meta": {"result_count": 0}},
]


@pytest.fixture(scope="module")
def s3_env() -> Iterator[dict[str, str]]:
    from twitter_assets_tests.distributed.services import Services

    with Services(["s3"]) as services:
        saved = {key: os.environ.get(key) for key in services.env}
        os.environ.update(services.env)
        try:
            yield services.env
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@pytest.fixture
def lake(s3_env) -> Lake:
    """A fresh prefix of the bucket for each test."""
    return Lake(root=f"s3://{s3_env['TWITTER_S3_BUCKET']}/t-{uuid.uuid4().hex[:10]}")


def s3_client(s3_env):
    import boto3

    return boto3.client("s3")


def keys_under(lake: Lake, *parts: str) -> set[str]:
    return {path.rsplit("/", 1)[1] for path in lake.fs.find(lake.path(*parts))}


# ---- raw landings -----------------------------------------------------------------------------------
def test_s3_raw_landing_round_trip_is_verbatim_with_compact_rows(lake):
    manifest = lake.write_raw_day("aluraonline", DAY, PAGES, {"query": "AluraOnline"})
    pages_object = lake.raw_pages_path("aluraonline", DAY, manifest)
    assert pages_object.startswith("s3://")
    assert [json.loads(line) for line in lake.fs.cat_file(pages_object).decode().splitlines()] == PAGES
    landed = lake.read_raw_day("aluraonline", DAY)
    assert landed.pages == PAGES and landed.tweet_count == 1 and landed.manifest["page_count"] == 2
    tweets, users = lake.raw_rows("aluraonline", DAY, manifest)
    with lake.connect() as db:  # DuckDB reads s3:// through the registered fsspec filesystem
        rows = db.execute(f"SELECT tweet_id, author_id, text, page, created_at FROM '{tweets}'").fetchall()
        assert rows == [("1", "7", "olá", 1, datetime(2026, 11, 20, 10, tzinfo=timezone.utc))]
        assert db.execute(f"SELECT user_id, username FROM '{users}'").fetchall() == [("7", "ana")]
    sha = manifest["pages_sha256"][:16]
    assert keys_under(lake, "raw") == {"manifest.json", manifest["pages_file"], f"tweets-{sha}.parquet",
                                       f"users-{sha}.parquet"}  # fmt: skip


def test_s3_a_crashed_landing_leaves_the_previous_one_whole(lake, monkeypatch):
    """Killed after the pages objects were PUT but before the manifest: readers still see the old day."""
    before = lake.write_raw_day("aluraonline", DAY, PAGES, {"query": "AluraOnline"})

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed between the pages and the manifest")

    monkeypatch.setattr(Lake, "_commit_manifest", crash)
    with pytest.raises(KeyboardInterrupt), lake.begin_raw_landing("aluraonline", DAY) as landing:
        landing.add_page({"meta": {"result_count": 0}}, None)
        landing.commit({"query": "AluraOnline"})
    monkeypatch.undo()
    assert lake.read_manifest("aluraonline", DAY) == before
    assert lake.read_raw_day("aluraonline", DAY).pages == PAGES  # checksum verified against the manifest
    # an exception inside the block (nothing published at all) leaves it whole too
    with pytest.raises(RuntimeError), lake.begin_raw_landing("aluraonline", DAY) as landing:
        landing.add_page({"meta": {"result_count": 0}}, None)
        raise RuntimeError("the API failed")
    assert lake.read_raw_day("aluraonline", DAY).pages == PAGES


def test_s3_objects_a_concurrent_cleanup_removed_before_the_manifest_are_put_again(lake, monkeypatch):
    """A landing stalled between its objects and its manifest for longer than a concurrent landing's
    whole fetch: that landing's leftover cleanup removes its objects. After its conditional manifest PUT,
    the stalled landing finds them gone and PUTs them again (test_lake.py has the local twin)."""
    commit = Lake._commit_manifest
    removed: list[str] = []

    def cleanup_strikes_before_the_manifest(self, path, data, *args, **kwargs):
        for name in keys_under(lake, "raw") - {"manifest.json"}:
            removed.append(name)
            lake.fs.rm(f"{lake.raw_day_dir('aluraonline', DAY)}/{name}")
        return commit(self, path, data, *args, **kwargs)

    monkeypatch.setattr(Lake, "_commit_manifest", cleanup_strikes_before_the_manifest)
    manifest = lake.write_raw_day("aluraonline", DAY, PAGES, {"query": "AluraOnline"})
    monkeypatch.undo()
    sha = manifest["pages_sha256"][:16]
    assert sorted(removed) == sorted([manifest["pages_file"], f"tweets-{sha}.parquet", f"users-{sha}.parquet"])
    assert keys_under(lake, "raw") == {"manifest.json", *removed}
    assert lake.read_raw_day("aluraonline", DAY).pages == PAGES


def test_s3_a_new_landing_replaces_the_objects_of_the_previous_one(lake):
    first = lake.write_raw_day("aluraonline", DAY, PAGES, {})
    second = lake.write_raw_day("aluraonline", DAY, PAGES[:1], {})
    sha = second["pages_sha256"][:16]
    assert keys_under(lake, "raw") == {"manifest.json", second["pages_file"], f"tweets-{sha}.parquet",
                                       f"users-{sha}.parquet"}  # fmt: skip
    assert first["pages_file"] != second["pages_file"]
    archived = lake.archive_raw_day("aluraonline", DAY, "20261121T000000Z")
    assert lake.fs.exists(f"{archived}/{second['pages_file']}") and lake.fs.exists(f"{archived}/manifest.json")


def test_s3_checksum_named_objects_are_written_only_if_absent(lake, s3_env):
    """`If-None-Match: *`: an existing checksum-named object is never overwritten (moto enforces it)."""
    manifest = lake.write_raw_day("aluraonline", DAY, PAGES, {})
    pages = lake.raw_pages_path("aluraonline", DAY, manifest)
    original = lake.fs.cat_file(pages)
    bucket, key = pages.removeprefix("s3://").split("/", 1)
    import botocore.exceptions

    with pytest.raises(botocore.exceptions.ClientError, match="PreconditionFailed"):
        s3_client(s3_env).put_object(Bucket=bucket, Key=key, Body=b"tampered", IfNoneMatch="*")
    again = lake.write_raw_day("aluraonline", DAY, PAGES, {})  # the same content lands again: no error
    assert again["pages_sha256"] == manifest["pages_sha256"] and lake.fs.cat_file(pages) == original


def test_s3_concurrent_landings_of_one_day_end_with_one_whole_landing(lake):
    """Four writers, no lock: each manifest PUT is conditional on the version it read (`If-Match`), so
    a writer that lost the race re-reads, judges the landing it would now replace (each lacks the
    others' tweet: it is copied to superseded/ first) and removes exactly the objects it replaced."""
    variants = [[{"data": [{**TWEET, "id": str(n)}], "meta": {"result_count": 1}}] for n in range(4)]
    errors: list[BaseException] = []

    def land(pages):
        try:
            Lake(root=lake.root).write_raw_day("aluraonline", DAY, pages, {})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=land, args=(pages,)) for pages in variants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    landed = lake.read_raw_day("aluraonline", DAY)
    assert landed.pages in variants
    sha = landed.manifest["pages_sha256"][:16]
    directory = lake.raw_day_dir("aluraonline", DAY)
    current = {path.rsplit("/", 1)[1] for path in lake.fs.find(directory) if "/superseded/" not in path}
    assert current == {"manifest.json", landed.manifest["pages_file"], f"tweets-{sha}.parquet", f"users-{sha}.parquet"}
    kept = {
        json.loads(line)["data"][0]["id"]
        for path in lake.fs.find(directory)
        if path.rsplit("/", 1)[1].startswith("pages-")
        for line in lake.fs.cat_file(path).decode().splitlines()
    }
    assert kept == {"0", "1", "2", "3"}  # every writer's tweet: current, or in superseded/


def test_s3_a_versioned_bucket_keeps_every_replaced_manifest(s3_env):
    """With bucket versioning on (moto supports it), replacing a manifest keeps its history."""
    bucket = f"versioned-{uuid.uuid4().hex[:8]}"
    client = s3_client(s3_env)
    client.create_bucket(Bucket=bucket)
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    lake = Lake(root=f"s3://{bucket}/lake")
    lake.write_raw_day("aluraonline", DAY, PAGES, {"query": "first"})
    lake.write_raw_day("aluraonline", DAY, PAGES[:1], {"query": "second"})
    key = lake.raw_manifest_path("aluraonline", DAY).removeprefix(f"s3://{bucket}/")
    versions = client.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]
    queries = [json.loads(client.get_object(Bucket=bucket, Key=key, VersionId=v["VersionId"])["Body"].read())["query"]
               for v in versions]  # fmt: skip
    assert sorted(queries) == ["first", "second"]
    assert lake.read_manifest("aluraonline", DAY)["query"] == "second"


def test_s3_a_manifest_edited_into_garbage_is_kept_aside_and_the_next_landing_replaces_it(lake):
    """The object-store twin of the local test in test_pipeline.py: the conditional commit reads garbage,
    copies the manifest and pages to superseded/unreadable-<time>/, and lands the new answer."""
    old = lake.write_raw_day("aluraonline", DAY, PAGES, {"query": "AluraOnline"})
    garbage = b"{'query': 'AluraOnline',"
    lake.fs.pipe_file(lake.raw_manifest_path("aluraonline", DAY), garbage)
    with pytest.raises(LakeError, match="re-materialize the raw partition 2026-11-20"):
        lake.read_manifest("aluraonline", DAY)
    new_pages = [{"data": [{**TWEET, "id": "2"}], "includes": {"users": [USER]}, "meta": {"result_count": 1}}]
    lake.write_raw_day("aluraonline", DAY, new_pages, {})
    assert lake.read_raw_day("aluraonline", DAY).pages == new_pages
    kept = [path for path in lake.fs.find(lake.raw_day_dir("aluraonline", DAY)) if "/superseded/unreadable-" in path]
    assert {path.rsplit("/", 1)[1] for path in kept} == {"manifest.json", old["pages_file"]}
    (manifest_copy,) = [path for path in kept if path.endswith("/manifest.json")]
    assert lake.fs.cat_file(manifest_copy) == garbage
    (pages_copy,) = [path for path in kept if path.endswith(old["pages_file"])]
    assert [json.loads(line) for line in lake.fs.cat_file(pages_copy).decode().splitlines()] == PAGES


def test_s3_silver_reads_the_new_landing_when_a_re_landing_removed_the_objects_it_was_reading(lake):
    """On S3 a vanished object reaches DuckDB's reader as a duckdb.Error, not an OSError: silver's retry
    (`on_current_landing`) must see it, read the new manifest and go on; with no new landing it re-raises."""
    from dagster import build_asset_context

    from twitter_assets.assets.silver import LandedDay, on_current_landing

    source = Source(name="aluraonline", query="AluraOnline")
    first = lake.write_raw_day("aluraonline", DAY, PAGES, {})
    landed = LandedDay(source, DAY, first, *lake.raw_rows("aluraonline", DAY, first))
    both = [{"data": [TWEET, {**TWEET, "id": "2"}], "includes": {"users": [USER]}, "meta": {"result_count": 2}}]
    read: list[str] = []
    re_land = [both]

    def tweet_ids(current: LandedDay) -> list[str]:
        if re_land:  # a raw run re-lands the day after silver read the manifest, before it reads the rows
            lake.write_raw_day("aluraonline", DAY, re_land.pop(), {})
        read.append(current.tweets_rows)
        with lake.connect() as db:
            return sorted(row[0] for row in db.execute(f"SELECT tweet_id FROM '{current.tweets_rows}'").fetchall())

    context = build_asset_context()
    assert on_current_landing(context, lake, landed, tweet_ids) == ["1", "2"]
    assert len(read) == 2 and read[0] != read[1] and not lake.fs.exists(read[0])

    current = lake.read_manifest("aluraonline", DAY)
    landed = LandedDay(source, DAY, current, *lake.raw_rows("aluraonline", DAY, current))
    lake.fs.rm(landed.tweets_rows)  # gone, and no new landing: a real error, not retried
    read.clear()
    with pytest.raises((OSError, duckdb.Error)):
        on_current_landing(context, lake, landed, tweet_ids)
    assert len(read) == 1


# ---- partition objects ------------------------------------------------------------------------------
def gold_row(source: str, n: int) -> pa.Table:
    return pa.table({"source": [source] * n, "day": pa.array([DAY] * n, pa.date32()), "n_tweets": list(range(n))})


def test_s3_partition_objects_round_trip_and_list_as_s3_urls(lake):
    lake.write_partition("gold.daily_interactions", "a", DAY, gold_row("a", 1))
    lake.write_partition("gold.daily_interactions", "b", DAY + timedelta(days=1), gold_row("b", 2))
    files = lake.partition_files("gold.daily_interactions")
    assert files == [
        lake.root + "/gold/daily_interactions/source=a/day=2026-11-20/part.parquet",
        lake.root + "/gold/daily_interactions/source=b/day=2026-11-21/part.parquet",
    ]
    assert lake.partition_files("gold.daily_interactions", (DAY, DAY)) == files[:1]
    with lake.connect() as db:
        assert db.execute("SELECT source, count(*) FROM gold.daily_interactions GROUP BY 1 ORDER BY 1").fetchall() == [
            ("a", 1),
            ("b", 2),
        ]
        assert db.execute(f"SELECT count(*) FROM read_parquet('{files[1]}')").fetchone() == (2,)
    lake.delete_partition("gold.daily_interactions", "b", DAY + timedelta(days=1))
    assert lake.partition_files("gold.daily_interactions") == files[:1]
    assert lake.partition_files("silver.tweets") == []


def test_s3_replace_is_atomic_and_a_reader_during_replaces_sees_old_or_new(lake):
    """A writer replaces one partition 30 times (1000 rows, then 3000...); a reader querying all along
    sees a whole version every time, never a torn object or an error."""
    lake.write_partition("gold.daily_interactions", "a", DAY, gold_row("a", 1000))
    stop, seen, errors = threading.Event(), set(), []

    def read():
        reader = Lake(root=lake.root)
        while not stop.is_set():
            try:
                with reader.connect() as db:
                    seen.add(db.execute("SELECT count(*), sum(n_tweets) FROM gold.daily_interactions").fetchone())
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for n in range(30):
            lake.write_partition("gold.daily_interactions", "a", DAY, gold_row("a", 1000 if n % 2 else 3000))
    finally:
        stop.set()
        thread.join(60)
    assert not errors, errors[0]
    assert seen <= {(1000, sum(range(1000))), (3000, sum(range(3000)))} and seen, seen
    assert keys_under(lake, "gold") == {"part.parquet"}  # no temporary object was ever left


def test_s3_each_connection_reads_through_its_own_pins(lake):
    """fsspec hands out one cached instance per distinct constructor arguments: two connections over the same
    listing shared the first one's pins, so an object removed after the first read was still served from
    memory, and every listing's reader (with the bytes it pinned) stayed for the life of the process."""
    from twitter_assets.lake import _PinnedObjects

    manifest = lake.write_raw_day("aluraonline", DAY, PAGES, {})
    tweets, _ = lake.raw_rows("aluraonline", DAY, manifest)
    with lake.connect() as db:
        assert db.execute(f"SELECT tweet_id FROM '{tweets}'").fetchall() == [("1",)]
    lake.fs.rm(tweets)
    with lake.connect() as db, pytest.raises(duckdb.IOException, match="No files found"):
        db.execute(f"SELECT tweet_id FROM '{tweets}'").fetchall()
    assert lake._reader_filesystem({}) is not lake._reader_filesystem({})
    assert not _PinnedObjects._cache


def test_s3_lake_has_no_catalog_database(lake):
    lake.write_partition("gold.daily_interactions", "a", DAY, gold_row("a", 1))
    assert lake.publish_catalog() is False
    assert not lake.fs.exists(lake.path("twitter.duckdb")) and not lake.fs.exists(lake.path("catalog.json"))
    with pytest.raises(LakeError, match="not a local directory"):
        lake.database_path  # noqa: B018


# ---- a whole backfill -------------------------------------------------------------------------------
def rounded(rows: list[tuple]) -> list[tuple]:
    """Averages may differ in the last bit (DuckDB sums in parallel, in any order): compare to 1e-12."""
    return [tuple(round(v, 12) if isinstance(v, float) else v for v in row) for row in rows]


def test_s3_pipeline_backfill_equals_the_same_backfill_on_a_local_lake(s3_env, tmp_path, make_x_api):
    from dagster import instance_for_test

    from twitter_assets_tests.pipeline_fixtures import Pipeline

    sources = [Source(name="aluraonline", query="AluraOnline", account="AluraOnline"), Source("python", "python")]
    today = datetime.now(timezone.utc).date()
    first, last = today - timedelta(days=3), today - timedelta(days=1)
    lakes = {
        "s3": Lake(root=f"s3://{s3_env['TWITTER_S3_BUCKET']}/pipeline-{uuid.uuid4().hex[:8]}"),
        "local": Lake(root=str(tmp_path / "lake")),
    }
    tables = {}
    for name, lake in lakes.items():
        with instance_for_test() as instance:
            pipeline = Pipeline(sources=sources, x_api=make_x_api(), lake=lake, instance=instance)
            result = pipeline.backfill(first, last)
            assert result.success, name
            failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
            assert not failed, failed
        with lake.connect() as db:
            tables[name] = {
                "silver.tweets": db.execute("SELECT * FROM silver.tweets ORDER BY source, tweet_id").fetchall(),
                "silver.users": db.execute("SELECT * FROM silver.users ORDER BY user_id").fetchall(),
                "silver.source_days": db.execute("SELECT * FROM silver.source_days ORDER BY source, day").fetchall(),
                "gold.daily_interactions": db.execute(
                    "SELECT * FROM gold.daily_interactions ORDER BY source, day"
                ).fetchall(),
                "gold.daily_sentiment": db.execute("SELECT * FROM gold.daily_sentiment ORDER BY ALL").fetchall(),
            }
    for table, rows in tables["local"].items():
        assert rows, f"{table} is empty: nothing compared"
        assert rounded(tables["s3"][table]) == rounded(rows), f"{table} differs between the S3 and the local lake"
    assert not lakes["s3"].fs.exists(lakes["s3"].path("twitter.duckdb"))
    assert lakes["s3"].partition_files("gold.daily_interactions", (first, last))[0].startswith("s3://")


def test_s3_a_copy_left_by_a_killed_commit_goes_but_a_later_replacements_copy_stays(lake):
    """A copy of the current landing made before a landing of the same answer began (a commit killed after
    archiving) is redundant once that landing commits; a copy made after it began (a concurrent landing that
    replaced it archives it) is not, and stays."""
    current = lake.write_raw_day("aluraonline", DAY, PAGES, {})
    left = lake.archive_raw_day("aluraonline", DAY, manifest=current)  # what a killed commit leaves
    time.sleep(3.1)  # LastModified is in whole seconds; the landing only trusts copies clearly older than itself
    lake.write_raw_day("aluraonline", DAY, PAGES, {})  # the same answer again
    assert not lake.fs.exists(f"{left}/manifest.json")

    landing = lake.begin_raw_landing("aluraonline", DAY)  # began before the copy below was made
    for page in PAGES:
        landing.add_page(page, None)
    made_after = lake.archive_raw_day(
        "aluraonline", DAY, label=f"20990101T000000Z-{current['pages_sha256'][:16]}", manifest=current
    )
    landing.commit({})
    assert lake.fs.exists(f"{made_after}/manifest.json")
