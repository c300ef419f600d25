import json
import math
import os
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

import twitter_assets.lake as lake_module
from twitter_assets.lake import Lake, LakeError, RawLanding

DAY = date(2026, 11, 20)
TWEET = {"id": "1", "text": "olá", "created_at": "2026-11-20T10:00:00.000Z", "author_id": "7"}
USER = {"id": "7", "username": "ana", "name": "Ana"}
PAGES = [
    {"data": [TWEET], "includes": {"users": [USER]}, "meta": {"result_count": 1, "next_token": "t1"}},
    {"meta": {"result_count": 0}},
]


def day_dir(root: Path) -> Path:
    return root / "raw" / "source=aluraonline" / "day=2026-11-20"


def scratch_files(root: Path) -> list[Path]:
    return [path for path in (root / ".incoming").rglob("*") if path.is_file()]


def test_raw_landing_round_trip_is_verbatim_with_compact_rows(tmp_path):
    lake = Lake(root=str(tmp_path))
    manifest = lake.write_raw_day("aluraonline", DAY, PAGES, {"query": "AluraOnline"})
    pages_file = day_dir(tmp_path) / manifest["pages_file"]
    assert [json.loads(line) for line in pages_file.read_text(encoding="utf-8").splitlines()] == PAGES
    landed = lake.read_raw_day("aluraonline", DAY)
    assert landed.pages == PAGES and landed.tweet_count == 1
    assert landed.manifest["query"] == "AluraOnline" and landed.manifest["page_count"] == 2
    assert landed.manifest["pagination_tokens"] == [None, None]
    tweets, users = lake.raw_rows("aluraonline", DAY, manifest)
    rows = duckdb.sql(f"SELECT tweet_id, author_id, text, page, created_at FROM '{tweets}'").fetchall()
    assert rows == [("1", "7", "olá", 1, datetime(2026, 11, 20, 10, tzinfo=timezone.utc))]
    assert duckdb.sql(f"SELECT user_id, username FROM '{users}'").fetchall() == [("7", "ana")]
    assert not list(day_dir(tmp_path).glob("*.tmp")) and not scratch_files(tmp_path)


def test_a_whole_day_lands_with_its_tokens_or_not_at_all(tmp_path):
    """`write_raw_day` records the token each page was fetched with in the one commit; a token list that does
    not match the pages is refused before anything lands (it used to drop the extra pages silently)."""
    lake = Lake(root=str(tmp_path))
    manifest = lake.write_raw_day("aluraonline", DAY, PAGES, {"pagination_tokens": [None, "t1"]})
    assert manifest["pagination_tokens"] == [None, "t1"] == lake.read_manifest("aluraonline", DAY)["pagination_tokens"]
    with pytest.raises(ValueError, match="2 pages but 1 pagination_tokens"):
        lake.write_raw_day("aluraonline", DAY, PAGES, {"pagination_tokens": [None], "query": "other"})
    assert lake.read_manifest("aluraonline", DAY) == manifest and not scratch_files(tmp_path)


def test_nothing_landed_reads_as_none(tmp_path):
    assert Lake(root=str(tmp_path)).read_raw_day("aluraonline", DAY) is None


def test_torn_landing_is_detected(tmp_path):
    lake = Lake(root=str(tmp_path))
    manifest = lake.write_raw_day("aluraonline", DAY, PAGES, {})
    (day_dir(tmp_path) / manifest["pages_file"]).write_text('{"meta": {"result_count": 0}}\n')
    with pytest.raises(LakeError, match="re-materialize the raw partition 2026-11-20"):
        lake.read_raw_day("aluraonline", DAY)


def test_an_interrupted_landing_leaves_the_previous_one_whole(tmp_path):
    """A crash (here: an exception) after pages were written but before the manifest commits."""
    lake = Lake(root=str(tmp_path))
    before = lake.write_raw_day("aluraonline", DAY, PAGES, {"query": "AluraOnline"})
    with pytest.raises(RuntimeError), lake.begin_raw_landing("aluraonline", DAY) as landing:
        landing.add_page({"meta": {"result_count": 0}}, None)
        raise RuntimeError("killed between the pages and the manifest")
    assert lake.read_manifest("aluraonline", DAY) == before
    assert lake.read_raw_day("aluraonline", DAY).pages == PAGES
    assert not scratch_files(tmp_path)


def test_a_new_landing_replaces_the_files_of_the_previous_one(tmp_path):
    lake = Lake(root=str(tmp_path))
    first = lake.write_raw_day("aluraonline", DAY, PAGES, {})
    second = lake.write_raw_day("aluraonline", DAY, PAGES[:1], {})
    names = {path.name for path in day_dir(tmp_path).iterdir()}
    sha = second["pages_sha256"][:16]
    assert names == {"manifest.json", second["pages_file"], f"tweets-{sha}.parquet", f"users-{sha}.parquet"}
    assert first["pages_file"] not in names


def test_source_names_are_validated_before_building_paths(tmp_path):
    for name in ("../etc", "Alura", "a b", "a;DROP TABLE x"):
        with pytest.raises(LakeError, match="slug"):
            Lake(root=str(tmp_path)).raw_day_dir(name, DAY)


def test_partition_files_are_queryable_and_a_reader_never_blocks_a_writer(tmp_path):
    lake = Lake(root=str(tmp_path))
    table = pa.table({"source": ["a"], "day": pa.array([DAY], pa.date32()), "n_tweets": [3]})
    lake.write_partition("gold.daily_interactions", "a", DAY, table)
    reader = duckdb.connect(str(lake.database_path), read_only=True)  # a notebook holding the file
    try:
        assert reader.execute("SELECT n_tweets FROM gold.daily_interactions").fetchall() == [(3,)]
        lake.write_partition("gold.daily_interactions", "a", DAY, table.set_column(2, "n_tweets", pa.array([5])))
        lake.write_partition("gold.daily_interactions", "b", DAY, table.set_column(0, "source", pa.array(["b"])))
        assert sorted(reader.execute("SELECT source, n_tweets FROM gold.daily_interactions").fetchall()) == [
            ("a", 5),
            ("b", 3),
        ]
    finally:
        reader.close()
    with lake.connect() as db:
        assert db.execute("SELECT count(*) FROM gold.daily_interactions").fetchone() == (2,)


def test_an_unknown_table_or_a_missing_one_says_so(tmp_path):
    lake = Lake(root=str(tmp_path))
    with pytest.raises(LakeError, match="unknown table"):
        lake.partition_path("silver.nope", "a", DAY)
    with lake.connect() as db, pytest.raises(duckdb.CatalogException, match="tweets.? does not exist"):
        db.execute("SELECT * FROM silver.tweets")


def test_a_lake_with_tables_inside_the_database_is_migrated_to_partition_files(tmp_path):
    """Lakes made before partition files kept silver/gold as tables in twitter.duckdb."""
    db = duckdb.connect(str(tmp_path / "twitter.duckdb"))
    db.execute("CREATE SCHEMA silver; CREATE SCHEMA gold")
    db.execute("CREATE TABLE silver.tweets (source VARCHAR, tweet_id VARCHAR, day DATE)")
    db.execute("INSERT INTO silver.tweets VALUES ('a', '1', DATE '2026-11-19'), ('a', '2', DATE '2026-11-20')")
    db.execute(
        "CREATE TABLE silver.users (user_id VARCHAR PRIMARY KEY, username VARCHAR, name VARCHAR, "
        "created_at TIMESTAMPTZ, first_seen_day DATE, last_seen_day DATE)"
    )
    db.execute("INSERT INTO silver.users VALUES ('7', 'ana', 'Ana', NULL, DATE '2026-11-18', DATE '2026-11-20')")
    db.close()
    lake = Lake(root=str(tmp_path))
    assert lake.publish_catalog()
    with lake.connect() as lake_db:
        assert lake_db.execute("SELECT tweet_id FROM silver.tweets ORDER BY 1").fetchall() == [("1",), ("2",)]
        assert lake_db.execute("SELECT user_id, username, first_seen_day FROM silver.users").fetchall() == [
            ("7", "ana", date(2026, 11, 18))
        ]
    contract = duckdb.connect(str(tmp_path / "twitter.duckdb"), read_only=True)
    assert contract.execute("SELECT count(*) FROM silver.tweets").fetchone() == (2,)
    assert contract.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = 'tweets'"
    ).fetchone() == ("VIEW",)
    contract.close()


def test_a_landing_from_before_compact_rows_gets_them_from_its_pages(tmp_path):
    """The old layout: pages.ndjson and a manifest that names no pages file."""
    directory = day_dir(tmp_path)
    directory.mkdir(parents=True)
    body = "".join(json.dumps(page, ensure_ascii=False, separators=(",", ":")) + "\n" for page in PAGES).encode()
    (directory / "pages.ndjson").write_bytes(body)
    import hashlib

    manifest = {"pages_sha256": hashlib.sha256(body).hexdigest(), "tweet_count": 1, "page_count": 2}
    (directory / "manifest.json").write_text(json.dumps(manifest))
    lake = Lake(root=str(tmp_path))
    tweets, _ = lake.raw_rows("aluraonline", DAY, lake.read_manifest("aluraonline", DAY))
    assert duckdb.sql(f"SELECT tweet_id FROM '{tweets}'").fetchall() == [("1",)]


def test_cleaning_up_files_a_concurrent_landing_already_removed_is_not_an_error(tmp_path):
    """Two writers that replaced the same landing both remove its files: the second finds them gone
    (seen with four concurrent writers on S3: FileNotFoundError from the loser)."""
    lake = Lake(root=str(tmp_path))
    first = lake.write_raw_day("aluraonline", DAY, PAGES, {})
    second = lake.write_raw_day("aluraonline", DAY, PAGES[:1], {})  # removed the first landing's files
    sha = second["pages_sha256"][:16]
    current = {"manifest.json", second["pages_file"], f"tweets-{sha}.parquet", f"users-{sha}.parquet"}
    directory = lake.raw_day_dir("aluraonline", DAY)
    gone = [f"{directory}/{first['pages_file']}", f"{directory}/tweets-{first['pages_sha256'][:16]}.parquet"]
    listing = lake.fs.glob

    def listing_taken_before_the_other_writer_removed_them(pattern: str):  # the interleaving, made exact
        return [*listing(pattern), *gone]

    with lake.begin_raw_landing("aluraonline", DAY) as late:  # a writer that also read `first` as replaced
        lake.fs.glob = listing_taken_before_the_other_writer_removed_them
        try:
            late._remove_unreferenced(first, keep=current)
        finally:
            del lake.fs.glob
        late.abort()
    assert {path.name for path in day_dir(tmp_path).iterdir()} == current
    assert lake.read_raw_day("aluraonline", DAY).pages == PAGES[:1]


def test_a_concurrent_landings_file_stamped_in_whole_seconds_is_not_taken_for_a_leftover(tmp_path):
    """S3 reports LastModified truncated to the second: a file a concurrent landing published just after
    this landing began can read as up to a second older than its start. It must stay (CI on moto S3:
    the winning manifest then named a deleted pages file)."""
    lake = Lake(root=str(tmp_path))
    lake.write_raw_day("aluraonline", DAY, PAGES, {})
    directory = day_dir(tmp_path)
    with lake.begin_raw_landing("aluraonline", DAY) as landing:
        published = directory / "pages-0123456789abcdef.ndjson"  # another writer's, not committed yet
        published.write_bytes(b"{}\n")
        stamped = math.floor(landing._started)  # as S3 reports a file written just after our start
        os.utime(published, (stamped, stamped))
        leftover = directory / "pages-fedcba9876543210.ndjson"  # a killed landing's, from long before
        leftover.write_bytes(b"{}\n")
        os.utime(leftover, (landing._started - 60, landing._started - 60))
        landing._remove_uncommitted(str(lake.raw_day_dir("aluraonline", DAY)), keep=set())
        landing.abort()
    assert published.exists() and not leftover.exists()


def test_files_a_concurrent_cleanup_removed_before_the_manifest_are_published_again(tmp_path, monkeypatch):
    """A landing that stalls between publishing its files and its manifest for longer than a concurrent
    landing's whole fetch has its files taken for a killed landing's leftovers (older than that one's
    start). After committing, it puts them back: the manifest never names a missing file for long."""
    lake = Lake(root=str(tmp_path))
    directory = day_dir(tmp_path)
    publish = Lake._publish
    removed: list[str] = []

    def cleanup_strikes_before_the_manifest(self, local, target, **options):
        if target.endswith("manifest.json"):
            for path in directory.glob("*-*.*"):
                removed.append(path.name)
                path.unlink()
        publish(self, local, target, **options)

    monkeypatch.setattr(Lake, "_publish", cleanup_strikes_before_the_manifest)
    manifest = lake.write_raw_day("aluraonline", DAY, PAGES, {"query": "AluraOnline"})
    sha = manifest["pages_sha256"][:16]
    assert sorted(removed) == sorted([f"pages-{sha}.ndjson", f"tweets-{sha}.parquet", f"users-{sha}.parquet"])
    assert lake.read_raw_day("aluraonline", DAY).pages == PAGES
    assert lake.raw_rows("aluraonline", DAY, manifest)[0].endswith(f"tweets-{sha}.parquet")
    assert not scratch_files(tmp_path)


def test_files_of_a_landing_replaced_meanwhile_are_not_published_again(tmp_path, monkeypatch):
    """If a later landing replaced ours before we looked, its cleanup was right: nothing comes back."""
    lake = Lake(root=str(tmp_path))
    directory = day_dir(tmp_path)
    restore = RawLanding._restore_removed
    later = [{"data": [TWEET, {**TWEET, "id": "2"}], "includes": {"users": [USER]}, "meta": {"result_count": 2}}]

    def a_later_landing_commits_right_after_ours(self, *args):
        monkeypatch.setattr(RawLanding, "_restore_removed", restore)
        lake.write_raw_day("aluraonline", DAY, later, {"query": "AluraOnline"})  # its cleanup removes ours
        restore(self, *args)

    monkeypatch.setattr(RawLanding, "_restore_removed", a_later_landing_commits_right_after_ours)
    ours = lake.write_raw_day("aluraonline", DAY, PAGES, {"query": "AluraOnline"})
    assert lake.read_raw_day("aluraonline", DAY).pages == later
    assert not [path for path in directory.iterdir() if ours["pages_sha256"][:16] in path.name]


def test_a_process_that_exits_cleanly_leaves_no_scratch_directory(tmp_path):
    """A finished run (the demo, a step's subprocess) removes its own empty `.incoming/<host>.<pid>/` at exit;
    it used to stay until the next process swept it."""
    code = (
        "import sys, datetime; from twitter_assets.lake import Lake; "
        "Lake(root=sys.argv[1]).write_raw_day('aluraonline', datetime.date(2026, 11, 20), "
        "[{'data': [], 'meta': {'result_count': 0}}], {}); print('landed')"
    )
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "landed" in done.stdout
    assert (tmp_path / ".incoming").is_dir()  # the landing used it
    assert list((tmp_path / ".incoming").iterdir()) == []


def test_scratch_of_processes_that_no_longer_run_is_swept_and_nothing_else(tmp_path):
    """A process killed mid-landing leaves up to a day of pages in its scratch directory; the next
    process to use the lake removes it. A running process's, another host's and unknown entries stay."""
    incoming = tmp_path / ".incoming"
    host = lake_module._host_tag()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        entries = {
            "dead": incoming / f"{host}.{int(dead.stdout)}",
            "running": incoming / f"{host}.{running.pid}",
            "other host": incoming / f"elsewhere.{int(dead.stdout)}",
            "unknown": incoming / "raw-aluraonline-2026-11-20-abc",
        }
        for entry in entries.values():
            (entry / "pages.ndjson").parent.mkdir(parents=True)
            (entry / "pages.ndjson").write_bytes(b"{}\n")
        Lake(root=str(tmp_path)).write_raw_day("aluraonline", DAY, PAGES, {})
        assert {name for name, entry in entries.items() if entry.exists()} == {"running", "other host", "unknown"}
        assert (incoming / f"{host}.{os.getpid()}").is_dir()  # this process's own, empty after the landing
    finally:
        running.kill()
        running.wait()


def tweets_page(ids) -> dict:
    return {"data": [{**TWEET, "id": str(n)} for n in ids], "includes": {"users": [USER]}, "meta": {"result_count": 1}}


def archived_ids(lake: Lake, archived: str) -> set[str]:
    (pages,) = Path(archived).glob("pages-*.ndjson")
    return {
        t["id"] for line in pages.read_text(encoding="utf-8").splitlines() for t in json.loads(line).get("data", [])
    }


def test_a_landing_is_judged_against_the_landing_committed_while_it_fetched(tmp_path):
    """Two runs of one day: B read no landing before fetching, A committed 100 tweets meanwhile (two pages
    repeating the same 100: 200 by page sums). B's 5 tweets replace them only with A's copied aside,
    counted in distinct ids; B's judge sees A's landing, not the empty day B started from."""
    lake = Lake(root=str(tmp_path))
    with lake.begin_raw_landing("aluraonline", DAY) as late:
        late.add_page(tweets_page(range(101, 106)), None)
        lake.write_raw_day("aluraonline", DAY, [tweets_page(range(1, 101))] * 2, {})  # A commits meanwhile
        seen = []
        outcome = late.commit({}, prefer_new=lambda comparison: seen.append(comparison) or True)
    (comparison,) = seen
    assert (comparison.previous_tweets, comparison.new_tweets, comparison.only_previous) == (100, 5, 100)
    assert outcome.committed and outcome.archived
    assert archived_ids(lake, outcome.archived) == {str(n) for n in range(1, 101)}
    assert lake.read_raw_day("aluraonline", DAY).tweet_count == 5


def test_a_landing_that_keeps_the_day_puts_its_own_extra_tweets_aside(tmp_path):
    lake = Lake(root=str(tmp_path))
    with lake.begin_raw_landing("aluraonline", DAY) as late:
        late.add_page(tweets_page(range(95, 106)), None)
        before = lake.write_raw_day("aluraonline", DAY, [tweets_page(range(1, 101))], {})
        outcome = late.commit({}, prefer_new=lambda c: c.new_tweets >= c.previous_tweets)
    assert not outcome.committed and outcome.manifest == before
    assert lake.read_raw_day("aluraonline", DAY).manifest == before
    assert outcome.comparison.only_new == 5 and outcome.archived.endswith("-not-landed")
    assert archived_ids(lake, outcome.archived) == {str(n) for n in range(95, 106)}
    sha = before["pages_sha256"][:16]
    landed = {p.name for p in day_dir(tmp_path).iterdir() if p.is_file()}
    assert landed == {"manifest.json", before["pages_file"], f"tweets-{sha}.parquet", f"users-{sha}.parquet"}
    assert not scratch_files(tmp_path)


def test_a_landing_with_every_landed_tweet_replaces_it_without_a_copy(tmp_path):
    lake = Lake(root=str(tmp_path))
    lake.write_raw_day("aluraonline", DAY, [tweets_page(range(1, 11))], {})
    with lake.begin_raw_landing("aluraonline", DAY) as landing:
        landing.add_page(tweets_page(range(1, 13)), None)
        outcome = landing.commit({}, prefer_new=lambda c: False)  # not asked: nothing would be lost
    assert outcome.committed and outcome.archived is None and outcome.comparison.only_previous == 0
    assert not (day_dir(tmp_path) / "superseded").exists()


def test_a_lake_root_with_glob_characters_keeps_its_tables(tmp_path):
    """`[` and `*` in the root were read as wildcards: every table vanished from queries and views."""
    lake = Lake(root=str(tmp_path / "lake[1]*"))
    lake.write_partition("silver.source_days", "aluraonline", DAY, pa.table({"source": ["aluraonline"], "day": [DAY]}))
    assert lake.partition_files("silver.source_days")
    with lake.connect() as db:
        assert db.execute("SELECT count(*) FROM silver.source_days").fetchone() == (1,)
    with duckdb.connect(str(lake.database_path), read_only=True) as db:
        assert db.execute("SELECT count(*) FROM silver.source_days").fetchone() == (1,)


def test_a_lake_root_duckdb_cannot_open_is_refused_where_it_is_set(tmp_path):
    """DuckDB opens `<root>/twitter.duckdb` with a `?` in the root as another path: the first catalog write
    failed with "Cannot open file .../q.wal?lake/twitter.duckdb". Now the setting is named, and nothing is written."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=r"contains '\?'.*set TWITTER_LAKE_DIR"):
        Lake(root=str(tmp_path / "q?lake"))
    assert not (tmp_path / "q?lake").exists()
    env = {**os.environ, "TWITTER_LAKE_DIR": str(tmp_path / "q?lake")}
    loaded = subprocess.run(
        [sys.executable, "-c", "import twitter_assets.definitions as d; d.defs.get_repository_def()"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert loaded.returncode != 0 and "set TWITTER_LAKE_DIR" in loaded.stderr


@pytest.mark.parametrize("lost", ["pages", "pages and rows"])
def test_a_torn_landing_is_replaced_and_what_is_left_of_it_kept(tmp_path, lost):
    """A landing whose pages (or pages and rows) are gone cannot be compared: it was kept against a smaller
    fetch for good (silver could not read it). It is replaced, its rows copied aside when they are all that is left."""
    lake = Lake(root=str(tmp_path))
    torn = lake.write_raw_day("aluraonline", DAY, [tweets_page(range(1, 101))], {})
    sha = torn["pages_sha256"][:16]
    (day_dir(tmp_path) / torn["pages_file"]).unlink()
    if lost == "pages and rows":
        (day_dir(tmp_path) / f"tweets-{sha}.parquet").unlink()
    with lake.begin_raw_landing("aluraonline", DAY) as landing:
        landing.add_page(tweets_page(range(1, 6)), None)
        outcome = landing.commit({}, prefer_new=lambda c: c.new_tweets >= c.previous_tweets)
    assert outcome.committed and not outcome.comparison.previous_readable
    assert lake.read_raw_day("aluraonline", DAY).tweet_count == 5
    kept = {path.name for path in Path(outcome.archived).iterdir()}
    assert kept == (
        {"manifest.json"}
        | ({f"tweets-{sha}.parquet", f"users-{sha}.parquet"} if lost == "pages" else {f"users-{sha}.parquet"})
    )


def test_cleanup_keeps_the_files_of_the_landing_current_now(tmp_path):
    """A concurrent landing committed after ours began, with files stamped before our start (published from an
    old scratch file): our clean-up of uncommitted leftovers must not take them."""
    lake = Lake(root=str(tmp_path))
    with lake.begin_raw_landing("aluraonline", DAY) as ours:
        current = lake.write_raw_day("aluraonline", DAY, PAGES, {})
        for path in day_dir(tmp_path).glob("*-*.*"):
            os.utime(path, (ours._started - 60, ours._started - 60))
        ours._remove_uncommitted(str(lake.raw_day_dir("aluraonline", DAY)), keep=set())
        ours.abort()
    assert lake.read_raw_day("aluraonline", DAY).manifest["pages_sha256"] == current["pages_sha256"]


def test_a_copy_left_by_a_killed_commit_goes_when_its_landing_is_current_again(tmp_path, monkeypatch):
    """A commit that archived the landing it would replace, then died before its manifest, leaves a copy of the
    landing still current; the next landing of that same answer removes the now redundant copy."""
    lake = Lake(root=str(tmp_path))
    current = lake.write_raw_day("aluraonline", DAY, [tweets_page(range(1, 11))], {})
    publish = Lake._publish

    def killed_at_the_manifest(self, local, target, **options):
        if target.endswith("manifest.json"):
            raise KeyboardInterrupt("killed")
        publish(self, local, target, **options)

    monkeypatch.setattr(Lake, "_publish", killed_at_the_manifest)
    with pytest.raises(KeyboardInterrupt), lake.begin_raw_landing("aluraonline", DAY) as other:
        other.add_page(tweets_page(range(20, 25)), None)
        other.commit({})
    monkeypatch.undo()
    (copy,) = (day_dir(tmp_path) / "superseded").iterdir()
    assert copy.name.endswith(current["pages_sha256"][:16])
    lake.write_raw_day("aluraonline", DAY, [tweets_page(range(1, 11))], {})  # the same answer again
    assert list((day_dir(tmp_path) / "superseded").iterdir()) == []


def test_distinct_ids_compare_as_int64_and_fall_back_to_strings_for_other_shapes():
    """X API ids are kept as int64 (8 bytes an id); an id of another shape switches the set to strings, so that
    `0123` and `123`, or an id beyond int64, never compare equal to another."""
    import pyarrow as pa

    from twitter_assets.lake import DistinctIds

    def ids(*batches):
        out = DistinctIds()
        for batch in batches:
            out.add(pa.chunked_array([pa.array(batch, type=pa.string())]))
        return out

    landed = ids(["1860000000000000001", "1860000000000000002", None], ["1860000000000000002", "5"])
    assert landed.values().dtype.kind == "i" and len(landed) == 3  # nulls ignored, repeats counted once
    fetched = ids(["1860000000000000002", "7"])
    assert (landed.count_not_in(fetched), fetched.count_not_in(landed)) == (2, 1)
    odd = ids(["123", "9223372036854775807"], ["0123", "99999999999999999999", "abc", "123"])
    assert not isinstance(odd.values(), type(landed.values())) and len(odd) == 5
    assert (odd.count_not_in(ids(["123"])), ids(["123", "456"]).count_not_in(odd)) == (4, 1)
    assert ids().count_not_in(landed) == 0 and landed.count_not_in(ids()) == 3
