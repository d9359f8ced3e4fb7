"""Historic orders of a period (`koppel migrate`, the dashboard's Migratie).

The shop lists the orders placed in the period (`ShopSession.placed_between`); each goes
through the same fetch and mapping as a live order. A dry run publishes nothing and says
what a real run would publish: how many orders, their total and the VAT per rate as the
ledger would book it (the booking plan over the connection's own booking options — so an
order the ledger would refuse, e.g. a VAT rate without an account, is counted as such
before anything is booked). A real run publishes through the runtime's order sync, so an
order the live flow already published is recognised and not published again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from koppel_bookkeeping import BookingRefused, plan_booking
from koppel_contracts import BookingOptions, CanonicalOrder, MigrationProgress, RateAmount
from pydantic import ValidationError

from .adapter import OrderUnreadable, ShopOrder
from .guard import Connection
from .store import OrderStore

log = logging.getLogger(__name__)

Progress = Callable[["MigrationTally"], Awaitable[None]]


@dataclass
class MigrationTally:
    """What a migration found so far. `refused`: orders the ledger would refuse, per reason
    code of the booking plan (a dry run's warning; a real run publishes them and the ledger
    reports each)."""

    orders: int = 0
    published: int = 0
    recognised: int = 0
    skipped: int = 0
    failed: int = 0
    total_incl_vat: Decimal = Decimal("0.00")
    vat: dict[Decimal, Decimal] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)
    first_refusal: dict[str, BookingRefused] = field(default_factory=dict)  # to explain it

    def progress(self) -> MigrationProgress:
        return MigrationProgress(
            orders=self.orders,
            published=self.published,
            total_incl_vat=self.total_incl_vat,
            vat=[RateAmount(vat_rate=r, amount=a) for r, a in sorted(self.vat.items())],
            skipped=self.skipped,
            failed=self.failed,
        )


@dataclass(frozen=True)
class MigrationReport:
    tally: MigrationTally
    connection_usable: bool  # False: the connection is broken (see its alert)

    @property
    def orders(self) -> int:
        """Orders of the period the shop listed."""
        return self.tally.orders


def count_bookable(tally: MigrationTally, order: CanonicalOrder, booking: BookingOptions) -> None:
    """Add one bookable order to the tally: its total, and its VAT per rate as booked."""
    tally.total_incl_vat += order.totals.total_incl_vat
    try:
        plan = plan_booking(order, booking)
    except BookingRefused as refusal:
        tally.refused[refusal.reason_code] = tally.refused.get(refusal.reason_code, 0) + 1
        tally.first_refusal.setdefault(refusal.reason_code, refusal)
        return
    for rate in plan.rate_totals:
        tally.vat[rate.vat_rate] = tally.vat.get(rate.vat_rate, Decimal("0.00")) + rate.vat_amount


class Migration:
    """One period of one connection, run by whoever holds the connection's guard."""

    def __init__(
        self,
        store: OrderStore,
        sync: Callable[[Connection, str, ShopOrder], Awaitable[None]],
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.sync = sync
        self.clock = clock

    async def run(
        self,
        connection: Connection,
        start: datetime,
        end: datetime,
        *,
        dry_run: bool,
        tally: MigrationTally,
        progress: Progress | None = None,
        every_seconds: float = 1.0,
    ) -> None:
        session = connection.session
        last_report = self.clock()
        async for source_order_id in session.placed_between(start, end):
            tally.orders += 1
            await self._one(connection, source_order_id, dry_run, tally)
            now = self.clock()
            if progress is not None and (now - last_report).total_seconds() >= every_seconds:
                last_report = now
                await progress(tally)

    async def _one(
        self, connection: Connection, source_order_id: str, dry_run: bool, tally: MigrationTally
    ) -> None:
        session = connection.session
        try:
            order = await session.fetch(source_order_id)
        except OrderUnreadable:
            tally.failed += 1
            if not dry_run:
                await self.sync(connection, source_order_id, None)  # records the failure
            return
        if order is None or not order.placed or order.cancelled or not order.bookable:
            tally.skipped += 1
            return
        try:
            canonical = await session.canonical(order)
        except (OrderUnreadable, ValidationError):
            tally.failed += 1
            canonical = None
        if canonical is not None:
            count_bookable(tally, canonical, connection.settings.ledger.booking)
        if dry_run:
            return
        before = await self._revision(connection.connection_id, source_order_id)
        await self.sync(connection, source_order_id, order)
        after = await self._revision(connection.connection_id, source_order_id)
        if canonical is None:
            return
        if after > before:
            tally.published += 1
        else:
            tally.recognised += 1

    async def _revision(self, connection_id: str, source_order_id: str) -> int:
        seen = await self.store.source(connection_id, source_order_id)
        if seen is None:
            return 0
        record = await self.store.order(connection_id, seen.order_ref)
        return record.revision if record is not None else 0
