"""Checks of the silver tables: unique, complete, typed and referentially sound, per partition.

All of them are SQL over the lake's partition files (no re-parsing of the raw JSON): the raw side of
`complete_against_raw` is the compact rows the landing derived from the pages, whose count the raw
checks hold against the pages themselves. Blocking (but the author share, a warning): a broken
silver day does not flow into gold.
"""

from collections.abc import Callable
from datetime import date

from dagster import AssetChecksDefinition, AssetCheckSeverity

from twitter_assets.assets.silver import SILVER_TWEETS_KEY, SILVER_USERS_KEY
from twitter_assets.checks.partitioned import DayCheck, DayVerdict, build_layer_checks
from twitter_assets.lake import Lake
from twitter_assets.partitions import day_bounds
from twitter_assets.sources import Source

REQUIRED_TWEET_COLUMNS = ("source", "tweet_id", "day", "created_at", "author_id", "text")


def tweet_ids_unique(lake: Lake, day: date) -> DayVerdict:
    with lake.connect() as db:
        duplicates = db.execute(
            """SELECT source, tweet_id, count(*) AS copies FROM silver.tweets WHERE day = $day
               GROUP BY source, tweet_id HAVING count(*) > 1 ORDER BY copies DESC, tweet_id LIMIT 20""",
            {"day": day},
        ).fetchall()
    if duplicates:
        listed = ", ".join(f"{source}/{tweet_id} x{copies}" for source, tweet_id, copies in duplicates)
        return DayVerdict(
            False, f"{len(duplicates)} tweet ids appear more than once: {listed}", {"duplicates": len(duplicates)}
        )
    return DayVerdict(True, "every (source, tweet_id) appears once")


def required_columns_not_null(lake: Lake, day: date) -> DayVerdict:
    # Column names come from the constant above, never from data.
    counts = ", ".join(f"count(*) FILTER (WHERE {column} IS NULL)" for column in REQUIRED_TWEET_COLUMNS)
    with lake.connect() as db:
        nulls = db.execute(f"SELECT {counts} FROM silver.tweets WHERE day = $day", {"day": day}).fetchone()
    by_column = {column: int(count) for column, count in zip(REQUIRED_TWEET_COLUMNS, nulls, strict=True) if count}
    if by_column:
        listed = ", ".join(f"{column}: {count}" for column, count in by_column.items())
        return DayVerdict(False, f"required columns hold nulls ({listed})", {"null_counts": by_column})
    return DayVerdict(True, f"no nulls in {', '.join(REQUIRED_TWEET_COLUMNS)}")


def created_at_inside_day(lake: Lake, day: date) -> DayVerdict:
    start, end = day_bounds(day)
    with lake.connect() as db:
        outside = db.execute(
            """SELECT tweet_id, created_at FROM silver.tweets
               WHERE day = $day AND NOT (created_at >= $start AND created_at < $end) LIMIT 20""",
            {"day": day, "start": start, "end": end},
        ).fetchall()
    if outside:
        examples = ", ".join(f"{tweet_id} at {created_at:%Y-%m-%dT%H:%M:%SZ}" for tweet_id, created_at in outside[:5])
        return DayVerdict(False, f"{len(outside)}+ tweets of {day} were created on another day: {examples}")
    return DayVerdict(True, f"every created_at is inside {day} UTC")


def make_complete_against_raw(sources: list[Source]) -> Callable[[Lake, date], DayVerdict]:
    def complete_against_raw(lake: Lake, day: date) -> DayVerdict:
        start, end = day_bounds(day)
        problems, counts = [], {}
        with lake.connect() as db:
            for source in sources:
                manifest = lake.read_manifest(source.name, day)
                if manifest is None:
                    continue
                tweets_rows, _ = lake.raw_rows(source.name, day, manifest)
                rows_total = db.execute("SELECT count(*) FROM read_parquet($rows)", {"rows": tweets_rows}).fetchone()[0]
                if rows_total != manifest.get("tweet_count"):
                    problems.append(
                        f"{source.name}: the compact rows hold {rows_total} tweets, the manifest "
                        f"{manifest.get('tweet_count')}: re-materialize the raw partition"
                    )
                missing, extra, raw_n, silver_n = db.execute(
                    """
                    WITH raw AS (SELECT DISTINCT tweet_id FROM read_parquet($rows)
                                 WHERE created_at >= $start AND created_at < $end),
                         silver AS (SELECT tweet_id FROM silver.tweets WHERE day = $day AND source = $source)
                    SELECT
                        (SELECT list(tweet_id ORDER BY tweet_id) FROM (SELECT * FROM raw EXCEPT SELECT * FROM silver)),
                        (SELECT list(tweet_id ORDER BY tweet_id) FROM (SELECT * FROM silver EXCEPT SELECT * FROM raw)),
                        (SELECT count(*) FROM raw), (SELECT count(*) FROM silver)
                    """,
                    {"rows": tweets_rows, "start": start, "end": end, "day": day, "source": source.name},
                ).fetchone()
                counts[source.name] = {"raw": raw_n, "silver": silver_n}
                if missing:
                    problems.append(f"{source.name}: {len(missing)} raw tweets missing from silver, e.g. {missing[:3]}")
                if extra:
                    problems.append(f"{source.name}: {len(extra)} silver tweets not in raw, e.g. {extra[:3]}")
            landed = {source.name for source in sources if source.name in counts}
            strays = db.execute(
                "SELECT DISTINCT source FROM silver.tweets WHERE day = $day ORDER BY source", {"day": day}
            ).fetchall()
        for (stray,) in strays:
            if stray not in landed:
                problems.append(f"{stray}: silver holds tweets of {day} but nothing is landed for it")
        if problems:
            return DayVerdict(False, "; ".join(problems) + ": re-materialize silver for this day", {"counts": counts})
        return DayVerdict(True, "silver holds exactly the raw tweets of the day", {"counts": counts})

    return complete_against_raw


def authors_known(lake: Lake, day: date) -> DayVerdict:
    with lake.connect() as db:
        total, known = db.execute(
            """SELECT count(*), count(u.user_id) FROM silver.tweets t
               LEFT JOIN silver.users u ON u.user_id = t.author_id WHERE t.day = $day""",
            {"day": day},
        ).fetchone()
    share = 1.0 if total == 0 else known / total
    metadata = {"tweets": total, "authors_known": known, "share": round(share, 4)}
    if known < total:
        return DayVerdict(
            False,
            f"{total - known} of {total} tweets have an author_id missing from silver.users ({share:.1%} known)",
            metadata,
        )
    return DayVerdict(True, f"all {total} tweets have their author in silver.users", metadata)


def user_ids_unique(lake: Lake, day: date) -> DayVerdict:
    with lake.connect() as db:
        duplicates = db.execute(
            "SELECT user_id, count(*) FROM silver.users GROUP BY user_id HAVING count(*) > 1 LIMIT 20"
        ).fetchall()
        per_day = db.execute(
            """SELECT source, user_id, count(*) FROM silver.users_seen WHERE day = $day
               GROUP BY source, user_id HAVING count(*) > 1 LIMIT 20""",
            {"day": day},
        ).fetchall()
    if duplicates or per_day:
        listed = [user for user, _ in duplicates] + [f"{source}/{user}" for source, user, _ in per_day]
        return DayVerdict(False, f"{len(listed)} user ids appear more than once: {listed}")
    return DayVerdict(True, "one row per user_id (and per user, source and day in silver.users_seen)")


def usernames_not_empty(lake: Lake, day: date) -> DayVerdict:
    with lake.connect() as db:
        empty = db.execute(
            """SELECT DISTINCT user_id FROM silver.users_seen
               WHERE day = $day AND (username IS NULL OR trim(username) = '') ORDER BY user_id LIMIT 20""",
            {"day": day},
        ).fetchall()
    if empty:
        return DayVerdict(False, f"{len(empty)} users have an empty username: {[user for (user,) in empty]}")
    return DayVerdict(True, "every user seen that day has a username")


def build_silver_checks(sources: list[Source]) -> list[AssetChecksDefinition]:
    return [
        build_layer_checks(
            "silver_tweets_checks",
            SILVER_TWEETS_KEY,
            [
                DayCheck("tweet_ids_unique", "tweet_id is unique per source.", tweet_ids_unique),
                DayCheck(
                    "required_columns_not_null",
                    f"No nulls in {', '.join(REQUIRED_TWEET_COLUMNS)}.",
                    required_columns_not_null,
                ),
                DayCheck(
                    "created_at_inside_day",
                    "Every created_at lies inside the partition's UTC day.",
                    created_at_inside_day,
                ),
                DayCheck(
                    "complete_against_raw",
                    "Silver holds exactly the distinct raw tweets of the day, per source.",
                    make_complete_against_raw(sources),
                ),
                DayCheck(
                    "authors_known",
                    "Share of tweets whose author_id is in silver.users (referential completeness).",
                    authors_known,
                    blocking=False,
                    severity=AssetCheckSeverity.WARN,
                    additional_deps=[SILVER_USERS_KEY],
                ),
            ],
            table="silver.tweets",
        ),
        build_layer_checks(
            "silver_users_checks",
            SILVER_USERS_KEY,
            [
                DayCheck("user_ids_unique", "One row per user_id.", user_ids_unique),
                DayCheck("usernames_not_empty", "Every user has a non-empty username.", usernames_not_empty),
            ],
            table="silver.users_seen",
        ),
    ]
