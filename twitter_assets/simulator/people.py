"""The synthetic corpus's people: the brand account and a deterministic pool of Brazilian users."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from random import Random

from twitter_assets.simulator.records import User, format_api_time, snowflake, to_ms
from twitter_assets.simulator.text import BIOS, COURSES, FIRST_NAMES, SURNAMES, TemplatePool

# The real @AluraOnline, as the API returned it.
ALURA = User(
    id=1566580880,
    username="AluraOnline",
    name="Alura",
    created_at="2013-07-03T20:02:23.000Z",
    description="Escola online de tecnologia. Cursos de programação, front-end, data science, DevOps, UX e mais.",
    verified=False,
    public_metrics={"followers_count": 95120, "following_count": 512, "tweet_count": 21043, "listed_count": 610},
)

_POOL_START_MS = to_ms(datetime(2008, 1, 1, tzinfo=timezone.utc))
_POOL_END_MS = to_ms(datetime(2025, 6, 1, tzinfo=timezone.utc))
# Before late 2013 user ids were sequential integers; after, snowflakes.
_SNOWFLAKE_USERS_FROM_MS = to_ms(datetime(2013, 11, 1, tzinfo=timezone.utc))
_BIOS = TemplatePool(BIOS)


def account_user(username: str) -> User:
    """The tracked account: the real record for AluraOnline, a stable made-up one for any other handle."""
    if username.lower() == ALURA.username.lower():
        return ALURA
    digest = int.from_bytes(hashlib.blake2b(username.lower().encode(), digest_size=8).digest(), "big")
    return User(
        id=100_000_000 + digest % 1_400_000_000,
        username=username,
        name=username,
        created_at="2012-03-01T12:00:00.000Z",
        description=f"Perfil oficial de {username}",
        verified=False,
        public_metrics={"followers_count": 10_000, "following_count": 100, "tweet_count": 5_000, "listed_count": 50},
    )


def user_pool(seed: int, count: int, reserved: User) -> list[User]:
    """`count` users with unique ids and handles, the same for the same seed.

    Handles never collide (case-insensitively) with the reserved account's.
    """
    rng = Random(f"{seed}:users")
    users: list[User] = []
    taken_names = {reserved.username.lower()}
    taken_ids = {reserved.id}
    while len(users) < count:
        first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        username = _handle(rng, first, last)
        if username.lower() in taken_names:
            continue
        created_ms = _POOL_START_MS + int(rng.random() ** 0.7 * (_POOL_END_MS - _POOL_START_MS)) // 1000 * 1000
        if created_ms < _SNOWFLAKE_USERS_FROM_MS:
            user_id = 10_000_000 + (created_ms - _POOL_START_MS) // 60_000 * 20 + rng.randrange(20)
        else:
            user_id = snowflake(created_ms + rng.randrange(1000), rng.getrandbits(22))
        if user_id in taken_ids:
            continue
        taken_names.add(username.lower())
        taken_ids.add(user_id)
        followers = int(rng.paretovariate(1.1) * 40)
        users.append(
            User(
                id=user_id,
                username=username,
                name=_display_name(rng, first, last),
                created_at=format_api_time(created_ms),
                description=_BIOS.render(rng, account=reserved.username),
                verified=rng.random() < 0.01,
                public_metrics={
                    "followers_count": followers,
                    "following_count": int(rng.paretovariate(1.5) * 80),
                    "tweet_count": int(rng.paretovariate(1.2) * 300),
                    "listed_count": followers // 200,
                },
            )
        )
    return users


def _plain(word: str) -> str:
    """ASCII lowercase of a Portuguese name, for handles."""
    return word.lower().translate(str.maketrans("áàâãéêíóôõúüç", "aaaaeeiooouuc"))


def _handle(rng: Random, first: str, last: str) -> str:
    first, last = _plain(first), _plain(last)
    pattern = rng.randrange(7)
    if pattern == 0:
        handle = f"{first}{last}"
    elif pattern == 1:
        handle = f"{first}_{last}"
    elif pattern == 2:
        handle = f"{first}{rng.randint(1, 2005)}"
    elif pattern == 3:
        handle = f"{first}{last[0]}{rng.randint(10, 99)}"
    elif pattern == 4:
        handle = f"dev_{first}"
    elif pattern == 5:
        handle = f"{first}{last}dev"
    else:
        handle = f"{last}{first[0]}_{rng.randint(1, 99)}"
    return handle[:15]


def _display_name(rng: Random, first: str, last: str) -> str:
    roll = rng.random()
    if roll < 0.7:
        return f"{first} {last}"
    if roll < 0.8:
        return f"{first} | Dev {rng.choice(COURSES)}"
    if roll < 0.9:
        return f"{first} {last} {rng.choice(('🚀', '💻', '☕', '🏳️‍🌈', '🇧🇷'))}"
    return first
