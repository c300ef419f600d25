"""Checks of the silver tables: unique, complete, typed and referentially sound, per partition.

Blocking (but the author share, a warning): a broken silver day does not flow into gold.
"""

from collections.abc import Callable
from datetime import date

from dagster import AssetChecksDefinition, AssetCheckSeverity

from twitter_assets.assets.silver import SILVER_TWEETS_KEY, SILVER_USERS_KEY, tweet_rows
from twitter_assets.checks.partitioned import DayVerdict, build_partitioned_check
from twitter_assets.lake import Lake, LakeError
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
        expected: dict[str, set[str]] = {}
        for source in sources:
            try:
                landing = lake.read_raw_day(source.name, day)
            except LakeError as exc:
                return DayVerdict(False, str(exc))
            if landing is not None:
                expected[source.name] = {row["tweet_id"] for row in tweet_rows(source.name, day, landing)[0]}
        with lake.connect() as db:
            rows = db.execute("SELECT source, tweet_id FROM silver.tweets WHERE day = $day", {"day": day}).fetchall()
        actual: dict[str, set[str]] = {}
        for source, tweet_id in rows:
            actual.setdefault(source, set()).add(tweet_id)
        problems, counts = [], {}
        for name in sorted(set(expected) | set(actual)):
            want, have = expected.get(name, set()), actual.get(name, set())
            counts[name] = {"raw": len(want), "silver": len(have)}
            if want - have:
                problems.append(
                    f"{name}: {len(want - have)} raw tweets missing from silver, e.g. {sorted(want - have)[:3]}"
                )
            if have - want:
                problems.append(f"{name}: {len(have - want)} silver tweets not in raw, e.g. {sorted(have - want)[:3]}")
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
    if duplicates:
        return DayVerdict(
            False, f"{len(duplicates)} user ids appear more than once: {[user for user, _ in duplicates]}"
        )
    return DayVerdict(True, "one row per user_id")


def usernames_not_empty(lake: Lake, day: date) -> DayVerdict:
    with lake.connect() as db:
        empty = db.execute(
            "SELECT user_id FROM silver.users WHERE username IS NULL OR trim(username) = '' LIMIT 20"
        ).fetchall()
    if empty:
        return DayVerdict(False, f"{len(empty)} users have an empty username: {[user for (user,) in empty]}")
    return DayVerdict(True, "every user has a username")


def build_silver_checks(sources: list[Source]) -> list[AssetChecksDefinition]:
    return [
        build_partitioned_check(
            asset=SILVER_TWEETS_KEY,
            name="tweet_ids_unique",
            judge=tweet_ids_unique,
            description="tweet_id is unique per source.",
        ),
        build_partitioned_check(
            asset=SILVER_TWEETS_KEY,
            name="required_columns_not_null",
            judge=required_columns_not_null,
            description=f"No nulls in {', '.join(REQUIRED_TWEET_COLUMNS)}.",
        ),
        build_partitioned_check(
            asset=SILVER_TWEETS_KEY,
            name="created_at_inside_day",
            judge=created_at_inside_day,
            description="Every created_at lies inside the partition's UTC day.",
        ),
        build_partitioned_check(
            asset=SILVER_TWEETS_KEY,
            name="complete_against_raw",
            judge=make_complete_against_raw(sources),
            description="Silver holds exactly the distinct raw tweets of the day, per source.",
        ),
        build_partitioned_check(
            asset=SILVER_TWEETS_KEY,
            name="authors_known",
            judge=authors_known,
            blocking=False,
            severity=AssetCheckSeverity.WARN,
            additional_deps=[SILVER_USERS_KEY],
            description="Share of tweets whose author_id is in silver.users (referential completeness).",
        ),
        build_partitioned_check(
            asset=SILVER_USERS_KEY, name="user_ids_unique", judge=user_ids_unique, description="One row per user_id."
        ),
        build_partitioned_check(
            asset=SILVER_USERS_KEY,
            name="usernames_not_empty",
            judge=usernames_not_empty,
            description="Every user has a non-empty username.",
        ),
    ]
