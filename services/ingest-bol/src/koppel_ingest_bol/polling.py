"""What a poll considers, and the historic listing — from bol's lists (bol.md §3.1, §3.3).

A poll lists, since its cursor (with `overlap`), both fulfilment methods, all pages:
1. **orders changed** — `GET /retailer/orders?status=ALL&fulfilment-method=ALL` with
   `change-interval-minute` (the minutes since the last poll; at most 60), or, after a
   longer gap, one listing per Dutch calendar day with `latest-change-date` (at most three
   months back). Placing an order is its first change, so new (open) orders are here; so
   are shipped and cancelled items. The candidate's fingerprint is the order's newest
   `latestChangedDateTime`: a change listing shows an order's changed items, so always
   its most recently changed one — an order seen again unchanged is not fetched again.
2. **shipments** since the newest shipment seen (FBR and FBB: the list takes one method
   at a time): an order that left the order list before a poll saw it (bol lists handled
   orders only 48 hours) is still found, and fetched — rebuilt from its shipments when
   bol no longer shows its detail (`BolSession.fetch`).
3. **handled returns** since the newest handling seen: each return item's credited units
   are kept (`returns.py`) and its order is re-read. A return never makes an order bol
   had before the connection bookable: such candidates say `bookable=False`, so the
   runtime re-reads only orders it published (and an order it never saw stays unseen).
Orders placed before `window.since` (the connection's start, or the runtime's window)
are left out of 1 and 2. The cursor (JSON) keeps the poll's moment (the runtime's clock)
and the newest shipment and return handling seen (bol's clock): each list is cut where it
was cut last time, whatever the two clocks say.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from koppel_ingest import Candidate, Changes, OrderUnreadable, PollWindow

from .client import BolClient, BolJson
from .orders import Returned, latest_change, moment, returned_items
from .returns import ReturnsStore

log = logging.getLogger(__name__)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")  # bol's calendar days are Dutch
MAX_INTERVAL = timedelta(minutes=60)  # `change-interval-minute` is at most 60
HISTORY = timedelta(days=90)  # `latest-change-date`: "up to 3 months of history"
METHODS = ("FBR", "FBB")


@dataclass(frozen=True)
class Cursor:
    polled: datetime
    shipped: datetime | None = None
    returned: datetime | None = None

    def dump(self) -> str:
        return json.dumps(
            {k: v.isoformat() if v else None for k, v in vars(self).items()}, sort_keys=True
        )

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        if not text:
            return None
        try:
            data = json.loads(text)
            shipped, returned = data.get("shipped"), data.get("returned")
            return cls(
                polled=datetime.fromisoformat(data["polled"]),
                shipped=datetime.fromisoformat(shipped) if shipped else None,
                returned=datetime.fromisoformat(returned) if returned else None,
            )
        except (ValueError, TypeError, KeyError):
            log.warning("unreadable poll cursor %r: starting from the window", text)
            return None


def when(value: object) -> datetime | None:
    """A list item's date-time, None when absent or unreadable: one odd list item must
    not stop a poll (the order's fetch records what is wrong with it)."""
    if not value:
        return None
    try:
        return moment(value, "date-time")
    except OrderUnreadable:
        return None


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


@dataclass(frozen=True)
class Listing:
    """One `GET /retailer/orders` filter: minutes back, or one day."""

    change_interval_minute: int | None = None
    latest_change_date: str | None = None


def change_listings(start: datetime, now: datetime) -> list[Listing]:
    """The order listings that cover every change since `start`: one `change-interval-
    minute` listing for a gap of an hour at most, else one per Dutch day (three months
    back at most)."""
    gap = now - start
    if gap <= MAX_INTERVAL:
        return [Listing(change_interval_minute=max(1, math.ceil(gap.total_seconds() / 60)))]
    first = max(start, now - HISTORY).astimezone(AMSTERDAM).date()
    last = now.astimezone(AMSTERDAM).date()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [Listing(latest_change_date=day.isoformat()) for day in days]


class Lister:
    def __init__(
        self, client: BolClient, returns: ReturnsStore, connection_id: str, overlap: timedelta
    ) -> None:
        self.client = client
        self.returns = returns
        self.connection_id = connection_id
        self.overlap = overlap

    async def changes(self, window: PollWindow) -> Changes:
        cursor = Cursor.parse(window.cursor)
        start = (cursor.polled if cursor is not None else window.since) - self.overlap
        found: dict[str, Candidate] = {}
        for listing in change_listings(start, window.now):
            listed = self.client.orders(
                change_interval_minute=listing.change_interval_minute,
                latest_change_date=listing.latest_change_date,
            )
            async for entry in listed:
                placed = when(entry.get("orderPlacedDateTime"))
                if placed is not None and placed < window.since:
                    continue
                self._changed(found, entry)
        shipped_floor = cursor.shipped - self.overlap if cursor and cursor.shipped else start
        shipped = await self._shipments(found, shipped_floor, window.since)
        returned_floor = cursor.returned - self.overlap if cursor and cursor.returned else start
        returned = await self._returns(found, returned_floor)
        previous = cursor or Cursor(window.now)
        after = Cursor(
            window.now, _later(previous.shipped, shipped), _later(previous.returned, returned)
        )
        return Changes(list(found.values()), cursor=after.dump())

    @staticmethod
    def _changed(found: dict[str, Candidate], entry: BolJson) -> None:
        order_id = str(entry["orderId"])
        try:
            fingerprint = latest_change(entry.get("orderItems") or [])
        except OrderUnreadable:
            fingerprint = None
        known = found.get(order_id)
        if known is not None and known.fingerprint and fingerprint:
            fingerprint = max(known.fingerprint, fingerprint)  # seen on several days
        found[order_id] = Candidate(order_id, order_number=order_id, fingerprint=fingerprint)

    async def _shipments(
        self, found: dict[str, Candidate], floor: datetime, since: datetime
    ) -> datetime | None:
        newest: datetime | None = None
        for method in METHODS:
            async with aclosing(self.client.shipments(fulfilment_method=method)) as listed:
                async for shipment in listed:
                    shipped_at = when(shipment.get("shipmentDateTime"))
                    newest = _later(newest, shipped_at)
                    if shipped_at is not None and shipped_at < floor:
                        break  # newest first: the rest was seen before
                    order = shipment.get("order") or {}
                    placed = when(order.get("orderPlacedDateTime"))
                    if placed is not None and placed < since:
                        continue
                    order_id = str(order["orderId"])
                    found.setdefault(order_id, Candidate(order_id, order_number=order_id))
        return newest

    async def _returns(self, found: dict[str, Candidate], floor: datetime) -> datetime | None:
        newest: datetime | None = None
        seen = []
        async for items, at in self._handled_returns(floor):
            newest = _later(newest, at)
            seen.extend(items)
        await self.returns.record(self.connection_id, seen)
        for item in seen:
            known = found.get(item.order_id)
            if known is None:
                found[item.order_id] = Candidate(
                    item.order_id, order_number=item.order_id, bookable=False
                )
            else:
                found[item.order_id] = replace(known, fingerprint=None)
        return newest

    async def _handled_returns(
        self, floor: datetime
    ) -> AsyncIterator[tuple[list[Returned], datetime | None]]:
        """Handled returns (their items and when they were handled), the last handled
        first, down to `floor`."""
        async with aclosing(self.client.handled_returns()) as listed:
            async for ret in listed:
                try:
                    items = returned_items(ret)
                except (OrderUnreadable, KeyError, TypeError, ValueError):
                    log.warning("a return bol lists cannot be read: %r", ret)
                    continue
                handled = [i.handled_at for i in items if i.handled_at is not None]
                at = max(handled) if handled else None
                if at is not None and at < floor:
                    return
                yield items, at

    # ---- historic orders ------------------------------------------------------------------

    async def placed_between(
        self, start: datetime, end: datetime, now: datetime
    ) -> AsyncIterator[str]:
        """Orders placed in [start, end), oldest first: those bol still lists (open, or
        handled in the last 48 hours) and those it shipped in the last three months. An
        order handled longer ago than bol's three-month shipment window cannot be listed
        at all; nor can one cancelled entirely more than 48 hours ago (nothing to book)."""
        if start < now - HISTORY:
            log.warning(
                "bol lists shipments of three months only: orders placed before %s that were"
                " handled more than 48 hours ago are not found",
                (now - HISTORY).date(),
            )
        # A return is handled after its order was placed: older ones are of older orders.
        seen = [item async for items, _ in self._handled_returns(start) for item in items]
        await self.returns.record(self.connection_id, seen)
        placed: dict[str, datetime] = {}
        async with aclosing(self.client.orders()) as listed:
            async for entry in listed:
                at = when(entry.get("orderPlacedDateTime"))
                if at is not None and at < start:
                    break  # newest placed first
                if at is not None and at < end:
                    placed[str(entry["orderId"])] = at
        for method in METHODS:
            async with aclosing(self.client.shipments(fulfilment_method=method)) as listed:
                async for shipment in listed:
                    shipped_at = when(shipment.get("shipmentDateTime"))
                    if shipped_at is not None and shipped_at < start:
                        break  # shipped before the period: placed before it too
                    order = shipment.get("order") or {}
                    at = when(order.get("orderPlacedDateTime"))
                    if at is not None and start <= at < end:
                        placed[str(order["orderId"])] = at
        for order_id in sorted(placed, key=lambda o: (placed[o], o)):
            yield order_id
