"""Time a test can set: a sandbox reads its `Clock`, a test hands it a `ManualClock` and moves
it instead of sleeping (token lifetimes, rate-limit windows, "changed since")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def utcnow_seconds() -> datetime:
    """Now, to the second: for APIs whose timestamps carry no fraction."""
    return datetime.now(UTC).replace(microsecond=0)


class ManualClock:
    """A clock that only moves when told: `State(clock=ManualClock(start))`, then
    `clock.advance(minutes=10)`. A naive `start` is taken as UTC."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or utcnow()
        if self.now.tzinfo is None:
            self.now = self.now.replace(tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move forward by `timedelta(**delta)`; returns the new now."""
        self.now += timedelta(**delta)
        return self.now
