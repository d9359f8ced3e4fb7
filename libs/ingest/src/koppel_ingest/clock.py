"""Time, injectable: the contract suite moves a hand-set clock instead of sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """MongoDB may hand back naive UTC datetimes (FerretDB does): make them aware."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class SetClock:
    """Stands still until a test moves it on (`tick`)."""

    def __init__(self, at: datetime | None = None) -> None:
        self.at = at or datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at

    def tick(self, seconds: float) -> datetime:
        self.at = self.at + timedelta(seconds=seconds)
        return self.at
