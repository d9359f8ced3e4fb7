"""Receive -> normalise -> publish for one order.

`OrderSync.sync(connection, source_order_id)` is the one way an order gets published,
whether a webhook, the poll or a migration noticed it: fetch the order (fresh) -> work
out which order it is (a re-issue keeps its number) -> decide created / amended /
cancelled / nothing (`decide`) -> map (the adapter) -> claim the next revision with its
event in the outbox (`store`) -> publish -> clear the outbox entry.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from koppel_chassis import KeyedLocks, describe_validation_error, log_context
from koppel_contracts import SHOP_ORDERS, CanonicalOrder, OrderEventKind
from koppel_privacy import KeyIssuer
from pydantic import ValidationError

from .adapter import OrderUnreadable, ShopAdapter, ShopOrder
from .clock import Clock
from .decide import (
    OnCancelled,
    booking_fingerprint,
    cancelled_version,
    next_kind,
    on_cancelled,
    order_event,
    publication,
)
from .guard import Alerts, ConcurrentChange, Connection, Publisher
from .records import OrderRecord, Publication
from .store import OrderStore

log = logging.getLogger(__name__)


def first_record(connection_id: str, order: ShopOrder) -> OrderRecord:
    """The order as it starts when this id is its first: its ref is the id."""
    return OrderRecord(
        connection_id=connection_id,
        order_ref=order.source_order_id,
        source_order_id=order.source_order_id,
        placed_at=order.placed_at,
        order_number=order.order_number,
        lookup_key=order.lookup_key,
    )


class OrderSync:
    def __init__(
        self,
        adapter: ShopAdapter,
        store: OrderStore,
        publisher: Publisher,
        alerts: Alerts,
        clock: Clock,
        stale: timedelta,
        privacy: KeyIssuer | None = None,
    ) -> None:
        self.adapter = adapter
        self.store = store
        self.publisher = publisher
        self.alerts = alerts
        self.clock = clock
        self.stale = stale  # an outbox entry this old was left by a crash
        # Seals the customer's personal data in every published order (None: in clear).
        self.privacy = privacy
        # In this process, a webhook and the poll for one shop id never interleave (one
        # lock per id, held from the fetch on, so nothing acts on a stale read), nor do
        # the ids of one re-issue (a second lock per order number). Different orders of
        # one shop run side by side; replicas are kept apart by the claim.
        self._locks = KeyedLocks()

    async def sync(
        self, connection: Connection, source_order_id: str, fetched: ShopOrder | None = None
    ) -> None:
        """`fetched`: the order as just read by the caller (a migration), saving a fetch."""
        connection_id = connection.connection_id
        async with self._locks.hold((connection_id, "id", source_order_id)):
            order = fetched or await self._fetch(connection, source_order_id)
            if order is False:
                return
            number = order.order_number if order is not None and self.adapter.reissues else None
            if number is None:
                await self._apply(connection, source_order_id, order)
                return
            async with self._locks.hold((connection_id, "number", number)):
                await self._apply(connection, source_order_id, order)

    async def _fetch(self, connection: Connection, source_order_id: str) -> ShopOrder | bool | None:
        """The order, None when the shop no longer has it, False when it is unreadable (the
        failure is recorded)."""
        try:
            return await connection.session.fetch(source_order_id)
        except OrderUnreadable as error:
            seen = await self.store.source(connection.connection_id, source_order_id)
            order_ref = seen.order_ref if seen is not None else source_order_id
            await self.alerts.ingest_failure(
                connection, source_order_id, order_ref, str(error), error.summary, error.number
            )
            return False

    async def _apply(
        self, connection: Connection, source_order_id: str, order: ShopOrder | None
    ) -> None:
        if order is None:
            await self._gone(connection, source_order_id)
            return
        if not order.placed:
            return  # an unfinished checkout: nothing to book (yet)
        connection_id = connection.connection_id
        with log_context(source_order_id=source_order_id, order_number=order.order_number):
            record, seen = await self.store.resolve(
                first_record(connection_id, order), by_number=self.adapter.reissues
            )
            if seen.superseded_by is not None:
                return  # a re-issue replaced this id; the new id carries the order
            record = await self.settle(record)
            with log_context(order_ref=record.order_ref):
                if order.cancelled:
                    await self._cancelled(connection, record, source_order_id, order.source_status)
                    waiting = False
                else:
                    waiting = not await self._current(connection, record, order)
            if order.fingerprint != seen.fingerprint:  # the poll's "changed?" memory
                await self.store.remember_fingerprint(
                    connection_id, source_order_id, order.fingerprint
                )
            if self.adapter.revisit_unbookable:
                if waiting:
                    await self.store.watch(connection_id, source_order_id, self.clock())
                else:
                    await self.store.unwatch(connection_id, source_order_id)

    async def _current(self, connection: Connection, record: OrderRecord, order: ShopOrder) -> bool:
        """Publish what changed; True when the order is published (now or before)."""
        if not record.published and not order.bookable:
            return False  # saves reading (and mapping) orders that are not bookable yet
        canonical = await self._canonical(connection, record, order)
        if canonical is None:
            return record.published
        kind = next_kind(record, booking_fingerprint(canonical), order.bookable)
        if kind is not None:
            await self._publish(record, kind, canonical)
        return True

    async def _canonical(
        self, connection: Connection, record: OrderRecord, order: ShopOrder
    ) -> CanonicalOrder | None:
        try:
            return await connection.session.canonical(order)
        except OrderUnreadable as error:
            detail = str(error)
        except ValidationError as error:
            detail = describe_validation_error(error)
        await self.alerts.ingest_failure(
            connection,
            order.source_order_id,
            record.order_ref,
            detail,
            order.summary,
            order.order_number,
        )
        return None

    async def _cancelled(
        self,
        connection: Connection,
        record: OrderRecord,
        source_order_id: str,
        source_status: str | None,
    ) -> None:
        step = on_cancelled(record, source_order_id, self.adapter.reissues)
        if step == OnCancelled.NOTHING:
            return
        if step == OnCancelled.LOOK_FOR_SUCCESSOR:
            successor = await connection.session.successor(record)
            if successor is not None:
                # Inside the locks the caller holds: the successor carries the same number.
                order = await self._fetch(connection, successor)
                if order is not False:
                    await self._apply(connection, successor, order)
                return
        if record.last_order is None:
            raise LookupError(f"order {record.order_ref} was published but its content is missing")
        published = CanonicalOrder.model_validate(record.last_order)
        await self._publish(
            record, OrderEventKind.CANCELLED, cancelled_version(published, source_status)
        )

    async def _gone(self, connection: Connection, source_order_id: str) -> None:
        """The shop no longer knows the id: re-issued under a new id, or removed."""
        connection_id = connection.connection_id
        if self.adapter.revisit_unbookable:
            await self.store.unwatch(connection_id, source_order_id)
        seen = await self.store.source(connection_id, source_order_id)
        if seen is None or seen.superseded_by is not None:
            return
        record = await self.store.order(connection_id, seen.order_ref)
        if record is not None:
            record = await self.settle(record)
            await self._cancelled(
                connection, record, source_order_id, self.adapter.cancelled_status
            )

    # ---- publishing --------------------------------------------------------------------

    async def _publish(
        self, record: OrderRecord, kind: OrderEventKind, order: CanonicalOrder
    ) -> None:
        now = self.clock()
        event = order_event(record, kind, order, self.adapter.source_system, now)
        if self.privacy is not None:
            # Sealed from here on: outbox, stored order and topic never hold it in clear.
            event = await self.privacy.seal(event)
        claimed = publication(event, now, booking_fingerprint(order))
        if not await self.store.claim(record, claimed):
            raise ConcurrentChange(f"order {record.order_ref} changed while it was being published")
        await self._send(claimed)
        log.info(
            "order published",
            extra={"kind": kind.value, "revision": event.revision, "event_id": event.event_id},
        )

    async def _send(self, claimed: Publication) -> None:
        """Publish a claimed revision, then clear its outbox entry."""
        event = claimed.event
        await self.publisher.publish(SHOP_ORDERS, event)
        await self.store.published(claimed)
        if event.supersedes_source_order_id is not None:
            await self.store.mark_superseded(
                event.connection_id, event.supersedes_source_order_id, by=claimed.source_order_id
            )

    async def settle(self, record: OrderRecord) -> OrderRecord:
        """The order with its pending revision published (a crash left it, or another
        worker is publishing it right now: then ConcurrentChange)."""
        if record.pending is None:
            return record
        entry = await self.store.entry(record.connection_id, record.order_ref, record.pending)
        if entry is None:
            await self.store.clear_pending(record)  # published; the clearing was cut short
        elif entry.created_at > self.clock() - self.stale:
            raise ConcurrentChange(f"revision {record.pending} of {record.order_ref} is in flight")
        else:
            await self._send(entry)
        fresh = await self.store.order(record.connection_id, record.order_ref)
        assert fresh is not None
        return fresh

    async def flush_outbox(self, connection_id: str) -> int:
        """Publish the events a crash left in the outbox (older than `stale`), completing an
        order update the crash cut short first."""
        entries = await self.store.outbox(connection_id, self.clock() - self.stale)
        for entry in entries:
            await self.store.adopt(entry)
            await self._send(entry)
        return len(entries)
