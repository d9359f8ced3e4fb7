"""What a poll asks the shop, worked out without I/O: the `date_upd` intervals to list
(orders, and credit slips, which do not move their order's `date_upd`) and the cursor.

The cursor is the newest `date_upd` seen per resource, in the shop's own wall-clock time
(PrestaShop compares its datetimes as text, without a zone, §3). The next poll lists from
the cursor minus an overlap window (clock skew, changes committed late); a first poll
from when the connection was made (the runtime's `since`), minus the same overlap. The
interval's end is a day past now: the filter is an inclusive BETWEEN on both ends.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .webservice import SHOP_DATETIME, shift, shop_time

ORDERS, SLIPS = "orders", "slips"


@dataclass(frozen=True)
class Cursor:
    orders: str | None = None  # the newest order date_upd seen
    slips: str | None = None  # the newest credit slip date_upd seen

    @classmethod
    def parse(cls, raw: str | None) -> Cursor:
        """A stored cursor; anything unreadable starts over from the window."""
        try:
            data = json.loads(raw) if raw else {}
            return cls(_valid(data.get(ORDERS)), _valid(data.get(SLIPS)))
        except (ValueError, TypeError, AttributeError):
            return cls()

    def dump(self) -> str | None:
        if self.orders is None and self.slips is None:
            return None
        return json.dumps({ORDERS: self.orders, SLIPS: self.slips}, sort_keys=True)

    def advanced(self, orders: str | None, slips: str | None) -> Cursor:
        """Never backwards: text order is time order for PrestaShop's datetimes."""
        return Cursor(_newest(self.orders, orders), _newest(self.slips, slips))


def _valid(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        datetime.strptime(value, SHOP_DATETIME)
    except ValueError:
        return None
    return value


def _newest(a: str | None, b: str | None) -> str | None:
    present = [v for v in (a, b) if v]
    return max(present) if present else None


@dataclass(frozen=True)
class Interval:
    start: str
    end: str

    @property
    def filter(self) -> str:
        return f"[{self.start},{self.end}]"


def interval(
    last_seen: str | None, since: datetime, now: datetime, overlap_seconds: float, zone: ZoneInfo
) -> Interval:
    start = last_seen if last_seen is not None else shop_time(since, zone)
    return Interval(shift(start, -overlap_seconds), shop_time(now + timedelta(days=1), zone))


def placed_interval(start: datetime, end: datetime, zone: ZoneInfo) -> Interval:
    """`date_add` from `start` to `end`, in shop time to the second, both included: the
    caller keeps what lies in [start, end) exactly."""
    return Interval(shop_time(start, zone), shop_time(end, zone))
