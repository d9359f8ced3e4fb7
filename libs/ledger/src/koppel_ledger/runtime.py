"""The ledger runtime: from a received order revision to its ledger effect, exactly once.

`LedgerRuntime.work(order_id)` owns the order (a lock decided by a unique insert) and
brings it up to its latest revision (`revision.RevisionSteps`): `decide.gate` says whether
the ledger may be called, `booking.Booking` books, records and checks,
`decide.after_failure` turns what the ledger could not take into the order's next state.
Everything that cannot finish now is left in the store with its next attempt; the retry
scheduler (`run_due`) picks it up, so one slow order never blocks its partition.

**Batch mode** (`on_orders`): what one Kafka fetch delivered is taken at once. The latest
revision per order counts; orders seen for the first time are stored *and owned* by one
bulk insert (`store.receive_new`: whoever inserts an order's document owns it), known
orders go the way of a single message. Then every order is booked in a task of its own:
the ledger is called concurrently (at most `connection_concurrency` calls per connection,
`limits.py`), and the store sends the writes of all orders at the same step as one bulk
write (`bulk.py`). Every order's effect is recorded and its events published before the
handler returns and the offsets are committed; an error fails the batch, which Kafka
redelivers — every order in it is then a duplicate or carries on from its stored state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Protocol

from koppel_chassis import log_context
from koppel_contracts import ConnectionSettings, Envelope, OrderEvent, Topic, order_key

from .adapter import LedgerAdapter
from .booking import Booking
from .clock import Clock, utcnow
from .events import Events
from .holds import HoldStore
from .limits import ConnectionLimits
from .metrics import LedgerMetrics
from .records import OrderRecord, Received
from .revision import RevisionSteps
from .settings import LedgerSettings
from .store import LostLock, OrderStore, lock_of
from .texts import RUNTIME_FIXABLE, RUNTIME_TEXTS, merged

log = logging.getLogger(__name__)

# Outbox entries still there after this were left by a crash: the scheduler publishes them.
STALE_OUTBOX = timedelta(seconds=10)
MAX_REVISIONS_PER_RUN = 20


class Connections(Protocol):
    async def current(self, connection_id: str) -> tuple[ConnectionSettings, int] | None: ...
    async def version_of(self, connection_id: str) -> int | None: ...


class Publisher(Protocol):
    async def publish(self, topic: Topic, event: Envelope) -> None: ...


def latest_revisions(events: Sequence[OrderEvent]) -> list[OrderEvent]:
    """Per order, the highest revision in the batch (the runtime books an order up to its
    latest revision anyway); in the order the orders first appear."""
    latest: dict[str, OrderEvent] = {}
    for event in events:
        order_id = order_key(event.connection_id, event.order_ref)
        known = latest.get(order_id)
        if known is None or event.revision > known.revision:
            latest[order_id] = event
    return list(latest.values())


class LedgerRuntime(RevisionSteps):
    def __init__(
        self,
        adapter: LedgerAdapter,
        settings: LedgerSettings,
        *,
        store: OrderStore,
        holds: HoldStore,
        connections: Connections,
        publisher: Publisher,
        metrics: LedgerMetrics,
        clock: Clock = utcnow,
    ) -> None:
        self.adapter = adapter
        self.settings = settings
        self.store = store
        self.holds = holds
        self.connections = connections
        self.publisher = publisher
        self.metrics = metrics
        self.clock = clock
        self.events = Events(adapter.component, adapter.source_system)
        self.texts = merged(RUNTIME_TEXTS, adapter.texts)
        self.fixable = RUNTIME_FIXABLE | adapter.settings_fixable
        self.policy = settings.retry_policy()
        self.booking = Booking(
            store=store,
            events=self.events,
            metrics=metrics,
            clock=clock,
            display_name=adapter.display_name,
            can_replace=adapter.can_replace,
            always_look_up=settings.always_look_up,
            crash_after_creates=settings.crash_after_creates or int(settings.crash_after_create),
        )
        self.limits = ConnectionLimits(settings.connection_concurrency)
        self.wake = asyncio.Event()
        self._last_purge = clock()
        self._last_sweep: datetime | None = None

    # ==== entry points ====================================================================

    async def on_order(self, event: OrderEvent) -> None:
        """The Kafka handler: store the revision, then work on the order right away."""
        with _about(event):
            if await self._books_here(event):
                await self._receive(event)

    async def on_orders(self, events: Sequence[OrderEvent]) -> None:
        """The Kafka handler in batch mode (see the module docstring)."""
        mine = [e for e in latest_revisions(events) if await self._books_here(e)]
        owned = await self.store.receive_new(mine) if mine else []

        async def take(event: OrderEvent, record: OrderRecord | None) -> None:
            with _about(event):
                if record is None:
                    await self._receive(event)  # a known order
                else:
                    await self._own(record)  # new, and ours since its insert

        outcomes = await asyncio.gather(
            *(take(e, r) for e, r in zip(mine, owned, strict=True)), return_exceptions=True
        )
        failed = [o for o in outcomes if isinstance(o, BaseException)]
        if failed:
            # After every other order of the batch finished: Kafka redelivers the batch.
            raise failed[0]

    async def _books_here(self, event: OrderEvent) -> bool:
        current = await self.connections.current(event.connection_id)
        if current is not None and current[0].ledger.system != self.adapter.system:
            # Another ledger's connection: nothing to keep (every ledger service reads
            # every order). Orders that arrive before any settings are kept and wait.
            log.debug("order of a connection that books in another ledger")
            return False
        return True

    async def _receive(self, event: OrderEvent) -> None:
        order_id = order_key(event.connection_id, event.order_ref)
        received, record = await self.store.receive(event)
        if received == Received.DUPLICATE:
            log.info("duplicate order event", extra={"event_id": event.event_id})
            record = await self.store.get(order_id)
            if record is None:
                return
            due = record.next_attempt_at is not None and record.next_attempt_at <= self.clock()
            if due:
                await self.work(order_id)  # redelivered after a crash in the middle
            elif record.outbox:
                await self.flush(record)  # events a crash may have left unpublished
            return
        await self.work(order_id, record)

    async def on_settings(self, connection_id: str, settings: ConnectionSettings | None) -> None:
        """New settings: forget sessions, release a hold, resume held and waiting orders."""
        self.adapter.drop(connection_id)
        if settings is None:
            return
        version = await self.connections.version_of(connection_id)
        if version is not None and await self.holds.release(connection_id, version):
            log.info("connection hold released", extra={"connection_id": connection_id})
        resumed = await self.store.resume_connection(connection_id, self.fixable)
        if resumed:
            log.info(
                "orders resumed after new settings",
                extra={"connection_id": connection_id, "orders": resumed},
            )
            self.wake.set()

    async def run_due(self) -> int:
        """One scheduler pass: every order whose next attempt is due, a few at a time."""
        await self.sweep()
        due = await self.store.due(self.settings.scheduler_batch)
        limit = asyncio.Semaphore(4)

        async def one(order_id: str, hint_at: datetime) -> None:
            async with limit:
                try:
                    await self.work(order_id)
                    await self.store.settle(order_id, hint_at)
                except Exception:
                    log.exception("retry of order failed", extra={"order": order_id})

        await asyncio.gather(*(one(order_id, at) for order_id, at in due))
        for hold in await self.holds.with_unpublished(STALE_OUTBOX):
            await self.flush_hold(hold.connection_id)
        now = self.clock()
        if now - self._last_purge > timedelta(minutes=10):
            self._last_purge = now
            # Released locks are deleted when released; these are the ones of dead workers.
            await self.store.purge_locks(older_than=self.store.lock * 2)
            await self.adapter.maintain()
        return len(due)

    async def sweep(self, *, force: bool = False) -> None:
        """The safety net behind the schedule hints, at start and every `sweep_interval`:
        due orders without a hint get one, outboxes a crash left behind are published."""
        now = self.clock()
        interval = timedelta(seconds=self.settings.sweep_interval_seconds)
        if not force and self._last_sweep is not None and now - self._last_sweep < interval:
            return
        self._last_sweep = now
        for order_id, at in await self.store.unscheduled(1000):
            await self.store.schedule_if_missing(order_id, at)
        for record in await self.store.with_unpublished(STALE_OUTBOX, 1000):
            await self.flush(record)

    # ==== owning an order ================================================================

    async def work(self, order_id: str, record: OrderRecord | None = None) -> None:
        """Own the order and bring it up to its latest revision. `record`: as just stored."""
        claimed = await self.store.claim(order_id, record)
        if claimed is None:
            # Another worker owns it and picks up any newer revision before letting go;
            # should it die instead, the scheduler looks again once its lock expired.
            await self.store.schedule(order_id, self.clock() + self.store.lock, unless_sooner=True)
            return
        await self._own(claimed)

    async def _own(self, record: OrderRecord) -> None:
        """Bring an order this worker owns up to its latest revision, then let go."""
        order_id = record.id
        lock = lock_of(record)
        released = False
        try:
            for _ in range(MAX_REVISIONS_PER_RUN):
                revision = record.revision
                # The revision's last write also lets go of the order, unless a newer
                # revision arrived meanwhile (then `released` stays False and we go on).
                released = await self._process(record)
                await self.flush(record)
                if released:
                    break
                fresh = await self.store.get(order_id)
                if fresh is None:
                    break
                if fresh.lock_owner != lock.owner:
                    raise LostLock(order_id)
                if fresh.revision == revision:
                    break
                record = fresh  # a newer revision arrived while we were busy
        except LostLock:
            log.warning("lost the order to another worker", extra={"order": order_id})
        finally:
            if not released:
                await self.store.release(order_id, lock)

    async def flush(self, record: OrderRecord) -> None:
        """Publish the outbox as this worker knows it, then remove the entries in one write.
        A crash in between re-publishes them with the same event ids, which consumers
        ignore."""
        published = []
        for event_id, item in record.outbox_items():
            await self.publisher.publish(item.topic, item.event)
            published.append(event_id)
        if published:
            await self.store.published(record.id, published)
            record.outbox = {}


def _about(event: OrderEvent) -> AbstractContextManager[None]:
    return log_context(
        connection_id=event.connection_id, order_ref=event.order_ref, revision=event.revision
    )
