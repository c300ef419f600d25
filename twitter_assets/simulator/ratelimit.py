"""Per-token, per-endpoint request windows, like the API's `x-rate-limit-*` headers.

A window opens with the first request after the previous one reset and lasts `window_seconds`; its
reset is a whole epoch second (the header is an int), so a client sleeping until the reset is never
early.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RateState:
    """What the headers say after a request; `allowed` is False when the window was already spent."""

    limit: int
    remaining: int
    reset: int  # epoch seconds
    allowed: bool = True

    def headers(self) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(self.remaining),
            "x-rate-limit-reset": str(self.reset),
        }


class RateLimiter:
    def __init__(self, limits: dict[str, int], window_seconds: float, now: Callable[[], float]):
        """`limits` per endpoint name; `now` returns epoch seconds (the server's clock)."""
        if window_seconds <= 0 or any(limit < 1 for limit in limits.values()):
            raise ValueError("rate limits must be >= 1 and the window > 0 s")
        self._limits = limits
        self._window = window_seconds
        self._now = now
        self._windows: dict[tuple[str, str], tuple[int, int]] = {}  # (token, endpoint) -> (reset, used)
        self._lock = threading.Lock()

    def _current(self, key: tuple[str, str], now: float) -> tuple[int, int]:
        reset, used = self._windows.get(key, (0, 0))
        if now >= reset:
            reset, used = math.ceil(now + self._window), 0
        return reset, used

    def hit(self, token: str, endpoint: str) -> RateState:
        """Count one request, unless the window is spent (then `allowed` is False)."""
        limit = self._limits[endpoint]
        with self._lock:
            key = (token, endpoint)
            reset, used = self._current(key, self._now())
            if used >= limit:
                return RateState(limit, 0, reset, allowed=False)
            self._windows[key] = (reset, used + 1)
            return RateState(limit, limit - used - 1, reset)

    def peek(self, token: str, endpoint: str) -> RateState:
        """The state without counting a request (for answers that do not reach the endpoint)."""
        limit = self._limits[endpoint]
        with self._lock:
            reset, used = self._current((token, endpoint), self._now())
            return RateState(limit, limit - used, reset)
