"""The ledger runtime: from a received order revision to its ledger effect, exactly once.

`LedgerRuntime.work(order_id)` owns the order (a lock decided by a unique insert) and
brings it up to its latest revision: `decide.gate` says whether the ledger may be called,
`booking.Booking` books, records and checks, `decide.after_failure` turns what the ledger
could not take into the order's next state. Everything that cannot finish now is left in
the store with its next attempt; the retry scheduler (`run_due`) picks it up, so one
slow order never blocks its partition.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Protocol

from koppel_bookkeeping import BookingRefused, refusal_text
from koppel_chassis import (
    CredentialsError,
    PermanentError,
    SecretUnreadable,
    TransientError,
    log_context,
)
from koppel_contracts import ConnectionSettings, Envelope, OrderEvent, Topic, order_key
from pymongo.errors import PyMongoError

from .adapter import LedgerAdapter, Refusal, SettingsIncomplete
from .booking import Booking, Run
from .clock import Clock, utcnow
from .decide import (
    CredentialsRefused,
    Finish,
    HeldAlready,
    Ignore,
    Proceed,
    Quiet,
    Refused,
    Transition,
    Unavailable,
    Wait,
    after_failure,
    gate,
    waiting,
)
from .events import Events
from .holds import HoldStore
from .metrics import LedgerMetrics, metered
from .records import Change, OrderRecord, Received, State
from .settings import LedgerSettings
from .store import LostLock, OrderStore, lock_of
from .texts import RUNTIME_FIXABLE, RUNTIME_TEXTS, merged
from .texts import refusal_text as runtime_text

log = logging.getLogger(__name__)

# Outbox entries still there after this were left by a crash: the scheduler publishes them.
STALE_OUTBOX = timedelta(seconds=10)
MAX_REVISIONS_PER_RUN = 20


class Connections(Protocol):
    async def current(self, connection_id: str) -> tuple[ConnectionSettings, int] | None: ...
    async def version_of(self, connection_id: str) -> int | None: ...


class Publisher(Protocol):
    async def publish(self, topic: Topic, event: Envelope) -> None: ...


class LedgerRuntime:
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
            crash_after_create=settings.crash_after_create,
        )
        self.wake = asyncio.Event()
        self._last_purge = clock()
        self._last_sweep: datetime | None = None

    # ==== entry points ====================================================================

    async def on_order(self, event: OrderEvent) -> None:
        """The Kafka handler: store the revision, then work on the order right away."""
        order_id = order_key(event.connection_id, event.order_ref)
        with log_context(
            connection_id=event.connection_id, order_ref=event.order_ref, revision=event.revision
        ):
            current = await self.connections.current(event.connection_id)
            if current is not None and current[0].ledger.system != self.adapter.system:
                # Another ledger's connection: nothing to keep (every ledger service reads
                # every order). Orders that arrive before any settings are kept and wait.
                log.debug("order of a connection that books in another ledger")
                return
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
        lock = lock_of(claimed)
        record = claimed
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

    async def flush_hold(self, connection_id: str) -> None:
        hold = await self.holds.get(connection_id)
        for event_id, item in hold.outbox_items() if hold else []:
            await self.publisher.publish(item.topic, item.event)
            await self.holds.published(connection_id, event_id)

    # ==== one revision ===================================================================

    async def _process(self, record: OrderRecord) -> bool:
        """One revision, up to its last write; True when that write let go of the order."""
        event = record.event
        with log_context(
            connection_id=event.connection_id, order_ref=event.order_ref, revision=record.revision
        ):
            lock = lock_of(record)
            current = await self.connections.current(event.connection_id)
            hold = await self.holds.get(event.connection_id)
            step = gate(record, current, hold, self.adapter.system, self.clock())
            if isinstance(step, Finish):
                return await self.store.write(
                    record.id,
                    lock,
                    Change(next_attempt_at=None),
                    revision=record.revision,
                    release=True,
                )
            if isinstance(step, Ignore):
                log.info("order ignored: the connection books in another ledger")
                change = Change(
                    state=State.IGNORED, next_attempt_at=None, done_revision=record.revision
                )
                return await self._finish(record, Transition(change))
            if isinstance(step, Wait):
                return await self._finish(
                    record, waiting(step.reason_code, self.clock(), self.policy)
                )
            assert current is not None
            settings, version = current
            if isinstance(step, HeldAlready):
                outcome = self._credentials(settings, step.reason or "-", announce=False)
                return await self._fail(record, settings, version, outcome)
            if isinstance(step, Quiet):
                # The quota is used up: wait for it without spending calls on refusals.
                seconds = (step.until - self.clock()).total_seconds()
                quota = Unavailable("ledger quota used up", status=429, retry_after=seconds)
                return await self._fail(record, settings, version, quota)
            assert isinstance(step, Proceed)
            return await self._book(record, settings, version)

    async def _book(self, record: OrderRecord, settings: ConnectionSettings, version: int) -> bool:
        run: Run | None = None
        language = settings.merchant.language
        with metered() as meter:
            try:
                try:
                    session = self.adapter.session(record.connection_id, settings)
                except SettingsIncomplete as error:
                    raise Refusal("settings_incomplete", detail=str(error)) from None
                run = Run(record, lock_of(record), settings, version, session)
                await self.booking.book_and_check(run)
                if run.released:
                    await self._restored(record.connection_id, settings, version)
                    return True
                return False
            except LostLock:
                raise
            except BookingRefused as error:
                reason, suggestion = refusal_text(error, language)
                outcome: Refused | Unavailable | CredentialsRefused = Refused(
                    error.reason_code, reason, suggestion
                )
            except Refusal as error:
                outcome = self._refused(error.reason_code, error.params, settings)
            except (CredentialsError, SecretUnreadable) as error:
                self.adapter.drop(record.connection_id)
                outcome = self._credentials(settings, str(error), announce=True)
            except TransientError as error:
                outcome = Unavailable(str(error), error.status, error.retry_after)
            except PermanentError as error:
                if run is not None:
                    await run.session.forget_reference()  # our cached data may be wrong
                explained = run.session.explain(error) if run is not None else None
                if explained is not None:
                    outcome = self._refused(explained.reason_code, explained.params, settings)
                else:
                    outcome = self._refused("ledger_refused", {"message": str(error)}, settings)
            except PyMongoError:
                raise  # our own database: let Kafka redeliver once it is back
            except Exception as error:
                # A bug must not block the partition: retry later like an outage, and end
                # as a persistent failure (with an alert) if it persists.
                log.exception("unexpected error while booking; retrying later")
                outcome = Unavailable(f"internal error: {error}")
            finally:
                recorded = run.calls_recorded if run is not None else 0
                if meter.calls > recorded and not (run is not None and run.released):
                    await self.store.add_calls(record.id, meter.calls - recorded)
                    if run is not None:
                        run.calls_recorded = meter.calls
        return await self._fail(record, settings, version, outcome)

    # ==== when the ledger could not take it ===============================================

    def _text(
        self, code: str, params: dict[str, object], settings: ConnectionSettings
    ) -> tuple[str, str]:
        values = {
            "ledger": self.adapter.display_name,
            "dossier": settings.ledger.dossier_id,
            **params,
        }
        return runtime_text(self.texts, code, values, settings.merchant.language)

    def _refused(
        self, code: str, params: dict[str, object], settings: ConnectionSettings
    ) -> Refused:
        reason, suggestion = self._text(code, params, settings)
        known = code if code in self.texts else "ledger_refused"
        return Refused(known, reason, suggestion)

    def _credentials(
        self, settings: ConnectionSettings, message: str, *, announce: bool
    ) -> CredentialsRefused:
        reason, suggestion = self._text("credentials_refused", {"message": message}, settings)
        return CredentialsRefused(message, reason, suggestion, announce=announce)

    async def _fail(
        self,
        record: OrderRecord,
        settings: ConnectionSettings,
        version: int,
        outcome: Refused | Unavailable | CredentialsRefused,
    ) -> bool:
        transition = after_failure(
            record,
            outcome,
            version=version,
            events=self.events,
            policy=self.policy,
            now=self.clock(),
            text=lambda code, params: self._text(code, params, settings),
        )
        if transition.quiet_until is not None:
            await self.holds.quiet(record.connection_id, transition.quiet_until)
        if transition.hold is not None:
            held_version, reason, alert = transition.hold
            if await self.holds.hold(record.connection_id, held_version, reason, [alert]):
                log.warning("credentials refused: connection held")
                await self.flush_hold(record.connection_id)
        return await self._finish(record, transition)

    async def _finish(self, record: OrderRecord, transition: Transition) -> bool:
        """The revision's last write; skipped when a newer revision arrived meanwhile."""
        change = transition.change
        if change.next_attempt_at is not None:
            await self.store.schedule(record.id, change.next_attempt_at)
        released = await self.store.write(
            record.id, lock_of(record), change, revision=record.revision, release=True
        )
        if released:
            change.apply(record)
            if transition.log:
                log.info(transition.log, extra=transition.log_fields)
        return released

    async def _restored(
        self, connection_id: str, settings: ConnectionSettings, version: int
    ) -> None:
        """After a hold was released, the first success announces the connection restored."""
        reason, suggestion = self._text("connection_restored", {}, settings)
        alert = self.events.restored(connection_id, version, reason, suggestion, self.clock())
        if await self.holds.restored(connection_id, [alert]):
            log.info("connection restored", extra={"connection_id": connection_id})
            await self.flush_hold(connection_id)
