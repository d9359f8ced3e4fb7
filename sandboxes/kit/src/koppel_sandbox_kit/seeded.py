"""`SeededState`: the skeleton of a sandbox's memory.

A sandbox keeps everything in memory and changes it only from synchronous code on the event
loop. Its data is built by `_init_data` and filled by an optional seed (the demo data); the
control API's reset goes back to exactly what the seed produced. Tests inject a clock, and
the control API can move the sandbox's time forward on top of it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Self

from .clock import Clock, utcnow
from .faults import FaultInjector


class SeededState:
    """Subclasses set their own settings, then call `super().__init__`, and build their
    data in `_init_data` (called again by `reset`)."""

    def __init__(
        self, clock: Clock | None = None, seed: Callable[[Self], None] | None = None
    ) -> None:
        self._clock: Clock = clock or utcnow
        self._seed = seed
        self.faults = FaultInjector()
        self.clock_offset = timedelta(0)
        self._init_data()
        if seed is not None:
            seed(self)

    def _init_data(self) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        """Back to what the seed produced: data, faults and the control API's clock offset
        (the injected clock itself is the test's)."""
        self.faults.clear()
        self.clock_offset = timedelta(0)
        self._init_data()
        if self._seed is not None:
            self._seed(self)

    def now(self) -> datetime:
        moment = self._clock()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment + self.clock_offset

    def advance_clock(self, seconds: float) -> None:
        self.clock_offset += timedelta(seconds=seconds)
