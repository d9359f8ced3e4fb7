"""Time as bol writes it: date-times with the Dutch offset (`2019-04-29T18:18:21+02:00`),
dates as `yyyy-mm-dd` (bol.md §9 item 10), and an injectable clock for tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from koppel_sandbox_kit import ManualClock as KitManualClock
from koppel_sandbox_kit import utcnow_seconds

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


class ManualClock(KitManualClock):
    """The kit's clock (`BolState(clock=ManualClock(start))`, then
    `clock.advance(minutes=10)`), started at the whole second when no start is given:
    bol's timestamps carry no fraction."""

    def __init__(self, start: datetime | None = None) -> None:
        super().__init__(start or utcnow_seconds())


def bol_datetime(moment: datetime) -> str:
    return moment.astimezone(AMSTERDAM).isoformat(timespec="seconds")


def bol_date(day: date) -> str:
    return day.isoformat()


def utc_text(moment: datetime) -> str:
    """`2023-03-16T12:53:03Z`, the form of the `JWT expired at …` message."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_date(moment: datetime) -> date:
    """The Dutch calendar day of a moment: what `latest-change-date` filters on."""
    return moment.astimezone(AMSTERDAM).date()


def months_back(moment: datetime, months: int) -> datetime:
    """The same wall-clock moment `months` calendar months earlier (clamped to month end)."""
    local = moment.astimezone(AMSTERDAM)
    month_index = local.year * 12 + (local.month - 1) - months
    year, month = divmod(month_index, 12)
    month += 1
    day = min(local.day, _days_in_month(year, month))
    return local.replace(year=year, month=month, day=day)


def _days_in_month(year: int, month: int) -> int:
    following = date(year + (month == 12), month % 12 + 1, 1)
    return (following - timedelta(days=1)).day
