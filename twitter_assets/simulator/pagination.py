"""`next_token`: an opaque, deterministic cursor shaped like the real ones.

A token encodes the position after the last tweet of a page (its created_at and id, the sort key)
and a checksum over that position and the request it continues (query and window). The same page
always yields the same token; a token from another query or window, or a tampered one, is rejected.
Tokens never expire, like the API's.
"""

from __future__ import annotations

import hashlib
import string
from typing import NamedTuple

# Every real token seen starts like this; the rest is lowercase base 36.
PREFIX = "b26v89c19zqg8o3f"
_BODY_LENGTH = 29  # real tokens are 45 characters
_DIGITS = string.digits + string.ascii_lowercase


class Cursor(NamedTuple):
    """The sort key of the last tweet served: the next page starts strictly after it."""

    created_ms: int
    tweet_id: int


class InvalidToken(ValueError):
    """Not a token this simulator issued for this query and window."""


def _checksum(cursor: Cursor, binding: str) -> int:
    data = f"{cursor.created_ms}:{cursor.tweet_id}:{binding}".encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=4).digest(), "big")


def encode_token(cursor: Cursor, binding: str) -> str:
    """The token for the page after `cursor`; `binding` identifies the request (query and window)."""
    number = (((cursor.created_ms << 64) | cursor.tweet_id) << 32) | _checksum(cursor, binding)
    digits = []
    while number:
        number, digit = divmod(number, 36)
        digits.append(_DIGITS[digit])
    return PREFIX + "".join(reversed(digits)).rjust(_BODY_LENGTH, "0")


def decode_token(token: str, binding: str) -> Cursor:
    """The cursor in `token`; InvalidToken unless it was issued for the same `binding`."""
    body = token[len(PREFIX) :]
    if not token.startswith(PREFIX) or len(body) != _BODY_LENGTH or not all(char in _DIGITS for char in body):
        raise InvalidToken(token)
    number = int(body, 36)
    checksum, number = number & 0xFFFFFFFF, number >> 32
    cursor = Cursor(created_ms=number >> 64, tweet_id=number & ((1 << 64) - 1))
    if _checksum(cursor, binding) != checksum:
        raise InvalidToken(token)
    return cursor
