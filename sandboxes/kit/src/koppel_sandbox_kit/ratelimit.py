"""Fixed-window rate limits, the kind shop and ledger APIs publish
("N calls per minute per resource", "N calls per dossier per day")."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: float


class FixedWindowLimiter:
    def __init__(
        self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, key: str) -> Verdict:
        now = self.clock()
        start, count = self._windows.get(key, (now, 0))
        if now - start >= self.window:
            start, count = now, 0
        reset = max(0.0, self.window - (now - start))
        if count >= self.limit:
            self._windows[key] = (start, count)
            return Verdict(False, self.limit, 0, reset)
        self._windows[key] = (start, count + 1)
        return Verdict(True, self.limit, self.limit - count - 1, reset)

    def reset(self) -> None:
        self._windows.clear()
