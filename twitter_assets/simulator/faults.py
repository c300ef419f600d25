"""FaultPlan: the failures the next requests will meet, queued (FIFO) or drawn at random.

Kinds:
- "503" / "500": the API's error body for that status.
- "429": a window 429 whose `x-rate-limit-reset` is now + `reset_after` s (rounded up); then service resumes.
- "usage_cap": the monthly usage-cap 429, while `x-rate-limit-remaining` is still > 0.
- "reset": the TCP connection is closed abruptly (RST), no response at all.
- "truncate": the headers with the full Content-Length, then half of the body, then the connection closes.
- "slow": the answer comes normally after `seconds`.
- "malformed": a 200 whose JSON is not a search page (no `meta`), as a broken cache or proxy answers.
Each fault applies to exactly one request. Queued faults come first; random chaos only draws when
nothing queued matches.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from random import Random

KINDS = ("503", "500", "429", "usage_cap", "reset", "truncate", "slow", "malformed")


@dataclass(frozen=True)
class Fault:
    kind: str
    path: str | None = None  # only requests whose path starts with this
    seconds: float = 1.0  # "slow"
    reset_after: float = 1.0  # "429"

    def applies_to(self, path: str) -> bool:
        return self.path is None or path.startswith(self.path)


class FaultPlan:
    """Thread-safe: the server's handler threads take faults while a test pushes them."""

    def __init__(self) -> None:
        self._queue: list[Fault] = []
        self._random: tuple[float, tuple[str, ...], Random, str | None] | None = None
        self._lock = threading.Lock()

    def push(
        self,
        kind: str,
        *,
        count: int = 1,
        path: str | None = None,
        seconds: float = 1.0,
        reset_after: float = 1.0,
    ) -> None:
        """Queue `count` faults of `kind` for the next requests (to `path`, when given)."""
        _check_kind(kind)
        if count < 1 or seconds < 0 or reset_after < 0:
            raise ValueError("count must be >= 1; seconds and reset_after must be >= 0")
        with self._lock:
            self._queue.extend(Fault(kind, path, seconds, reset_after) for _ in range(count))

    def random(
        self,
        rate: float,
        kinds: Iterable[str] = ("503", "reset", "truncate"),
        seed: int = 0,
        path: str | None = None,
    ) -> None:
        """Fail each request with probability `rate`, with a kind drawn from `kinds` (seeded RNG). 0 stops."""
        kinds = tuple(kinds)
        for kind in kinds:
            _check_kind(kind)
        if not 0.0 <= rate <= 1.0 or (rate and not kinds):
            raise ValueError("rate must be within [0, 1] and kinds must not be empty")
        with self._lock:
            self._random = (rate, kinds, Random(seed), path) if rate else None

    def clear(self) -> None:
        """Forget queued faults and stop random chaos."""
        with self._lock:
            self._queue.clear()
            self._random = None

    @property
    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._queue)

    def take(self, path: str) -> Fault | None:
        """The fault the request to `path` meets, if any (consumed)."""
        with self._lock:
            for index, fault in enumerate(self._queue):
                if fault.applies_to(path):
                    return self._queue.pop(index)
            if self._random is not None:
                rate, kinds, rng, only = self._random
                if (only is None or path.startswith(only)) and rng.random() < rate:
                    return Fault(rng.choice(kinds), only)
        return None


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(KINDS)}")
