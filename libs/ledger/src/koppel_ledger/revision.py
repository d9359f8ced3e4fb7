"""One revision of an order, up to its last write: may the ledger be called now
(`decide.gate`), book it (`booking.Booking`), and what the ledger could not take becomes
the order's next state (`decide.after_failure`), with holds and alerts for the whole
connection. `LedgerRuntime` owns the order around these steps (`runtime.py`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from koppel_bookkeeping import BookingRefused, refusal_text
from koppel_chassis import (
    CredentialsError,
    PermanentError,
    SecretUnreadable,
    TransientError,
    log_context,
)
from koppel_contracts import ConnectionSettings
from pymongo.errors import PyMongoError

from .adapter import LedgerAdapter, Refusal, SettingsIncomplete, Texts
from .booking import Booking, Run
from .clock import Clock
from .decide import (
    CredentialsRefused,
    Finish,
    HeldAlready,
    Ignore,
    Proceed,
    Quiet,
    Refused,
    RetryPolicy,
    Transition,
    Unavailable,
    Wait,
    after_failure,
    gate,
    waiting,
)
from .events import Events
from .holds import HoldStore
from .limits import ConnectionLimits
from .metrics import metered
from .records import Change, OrderRecord, State
from .store import LostLock, OrderStore, lock_of
from .texts import refusal_text as runtime_text

if TYPE_CHECKING:
    from .runtime import Connections, Publisher

log = logging.getLogger(__name__)


class RevisionSteps:
    """The steps of one revision; `LedgerRuntime` provides what they use."""

    adapter: LedgerAdapter
    store: OrderStore
    holds: HoldStore
    connections: Connections
    publisher: Publisher
    clock: Clock
    events: Events
    texts: Texts
    policy: RetryPolicy
    booking: Booking
    limits: ConnectionLimits
    wake: asyncio.Event  # the scheduler looks for due orders now

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
                released = await self._finish(
                    record, waiting(step.reason_code, self.clock(), self.policy)
                )
                if released and step.reason_code == "settings_pending":
                    await self._unless_settings_arrived(record)
                return released
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

    async def _unless_settings_arrived(self, record: OrderRecord) -> None:
        """Settings stored between this order's look-up and its write as waiting were
        handled (`on_settings` resumes waiting orders) before this order was waiting:
        read again, now that it is, and give it a worker now instead of at the re-check."""
        if await self.connections.version_of(record.connection_id) is not None:
            await self.store.schedule(record.id, self.clock())
            self.wake.set()

    async def _book(self, record: OrderRecord, settings: ConnectionSettings, version: int) -> bool:
        run: Run | None = None
        language = settings.merchant.language
        with metered() as meter:
            try:
                try:
                    session = self.adapter.session(record.connection_id, settings)
                except SettingsIncomplete as error:
                    raise Refusal("settings_incomplete", detail=str(error)) from None
                session = self.limits.session(record.connection_id, session)
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
        hold = await self.holds.get(connection_id)  # the common case: from the cache
        if hold is None or hold.held or not hold.restore_pending:
            return
        reason, suggestion = self._text("connection_restored", {}, settings)
        alert = self.events.restored(connection_id, version, reason, suggestion, self.clock())
        if await self.holds.restored(connection_id, [alert]):
            log.info("connection restored", extra={"connection_id": connection_id})
            await self.flush_hold(connection_id)
