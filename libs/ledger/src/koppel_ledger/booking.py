"""Booking one revision in the ledger, exactly once, whatever crashes in between.

1. **Intent before create.** Before any create, the document about to be made (number,
   reference, debtor, placement) is written to the order (`intent`). No create is ever
   sent without a stored intent.
2. **Look up before creating again.** A worker that finds an intent — after a crash, a
   timeout or a 5xx on the create — first reads exactly that number back. Ours (same
   reference, same kind) → recorded, no create. Absent → the create is repeated *with the
   same number*, so even a create the ledger finished late cannot lead to two documents:
   the ledger refuses a duplicate number, and on any refusal of a create we read the
   number again (we ask the ledger rather than trust its wording) and adopt it if it is
   ours. Only a number held by someone else's document leads to another number.
3. **Record, then publish.** The ledger's ids and the booking event (outbox, same write)
   are recorded together and the intent removed; the runtime publishes the outbox.
4. **Read back** the document and compare it with the order (`check.compare`).
"""

from __future__ import annotations

import logging
import os
import signal
from dataclasses import dataclass, replace

from koppel_bookkeeping import plan_booking
from koppel_chassis import PermanentError
from koppel_contracts import (
    LEDGER_CHECKS,
    BookingStatus,
    CheckEvent,
    ConnectionSettings,
    Notice,
    OrderEventKind,
    make_event_id,
)

from .adapter import DraftRequest, LedgerSession, NotReplaceable, is_ours
from .check import compare
from .clock import Clock
from .decide import Amend, CreateNew, CreditOnly, NothingToCredit, book_action
from .events import Events, rate_amounts, summary
from .metrics import LedgerMetrics, current_meter
from .records import KEEP, Change, LedgerDoc, Op, OrderRecord, OutboxItem, RecordedPlan, State
from .store import Lock, OrderStore

log = logging.getLogger(__name__)

# Numbers tried for one document before the refusal stands (each further try means the
# ledger holds someone else's document under the number we drew).
MAX_NUMBER_ATTEMPTS = 3


@dataclass
class Run:
    """One worker's pass over one revision of one order."""

    record: OrderRecord
    lock: Lock
    settings: ConnectionSettings
    version: int
    session: LedgerSession
    free_intent: LedgerDoc | None = None
    calls_recorded: int = 0  # ledger calls already counted in the record
    released: bool = False  # the finishing write went through (and let go of the order)
    # A new document, recorded in memory and written with the revision's last write (one
    # write less per order); written on its own as soon as anything goes wrong.
    deferred: Change | None = None

    @property
    def revision(self) -> int:
        return self.record.revision


@dataclass
class Booking:
    store: OrderStore
    events: Events
    metrics: LedgerMetrics
    clock: Clock
    display_name: str
    can_replace: bool
    always_look_up: bool = False
    crash_after_creates: int = 0  # test hook: SIGKILL this process after that many creates
    creates: int = 0

    async def record(self, run: Run, change: Change) -> None:
        await self.store.write(run.record.id, run.lock, change)
        change.apply(run.record)

    # ---- the whole revision ---------------------------------------------------------------

    async def book_and_check(self, run: Run) -> None:
        if run.record.intent is not None:
            await self.resolve_intent(run)
        if run.record.booked_revision < run.revision:
            await self.book(run)
        check = None
        try:
            if run.record.checked_revision < run.revision:
                check = await self.check(run)
        except Exception:
            await self.record_deferred(run)  # what was created stays recorded
            raise
        meter = current_meter()
        calls = meter.calls if meter else 0
        finish = Change(next_attempt_at=None, calls=calls - run.calls_recorded)
        if check is not None:
            finish = replace(check, next_attempt_at=None, calls=calls - run.calls_recorded)
        deferred, run.deferred = run.deferred, None
        # One write records the document (when new), the check, counts the calls and lets
        # go of the order.
        last = deferred.then(finish) if deferred else finish
        run.released = await self.store.write(
            run.record.id, run.lock, last, revision=run.revision, release=True
        )
        if run.released:
            run.calls_recorded = calls
            finish.apply(run.record)
            self.metrics.observe_calls(run.record.calls)
        elif deferred is not None or check is not None:
            # A newer revision arrived: still record the document and this check.
            alone = (deferred.then(check) if check else deferred) if deferred else check
            assert alone is not None
            await self.record(run, alone)

    async def record_deferred(self, run: Run) -> None:
        deferred, run.deferred = run.deferred, None
        if deferred is not None:
            await self.store.write(run.record.id, run.lock, deferred)

    async def book(self, run: Run) -> None:
        action = book_action(run.record, self.can_replace)
        revision = run.revision
        if isinstance(action, NothingToCredit):
            log.info("cancelled order has nothing in the ledger to credit")
            await self.record(
                run,
                Change(
                    state=action.state,
                    booked_revision=revision,
                    checked_revision=revision,
                    done_revision=revision,
                ),
            )
            return
        open_doc = run.record.ledger
        if isinstance(action, CreditOnly):
            assert open_doc is not None
            credit = await self.create(run, Op.CREDIT, open_doc.plan, source=open_doc)
            await self.record_credit(run, credit, final=True)
            return
        plan = self.plan(run)
        if isinstance(action, CreateNew):
            created = await self.create(run, Op.INVOICE, plan)
            await self.record_open(run, created, action.status, defer=True)
            return
        assert isinstance(action, Amend) and open_doc is not None
        if action.try_replace:
            draft = replace(open_doc, plan=plan, revision=revision)
            try:
                replaced = await run.session.replace(open_doc, draft)
            except NotReplaceable:
                log.info("the document can no longer be changed: crediting and rebooking")
            else:
                await self.record_open(run, replaced, BookingStatus.REPLACED)
                return
        credit = await self.create(run, Op.CREDIT, open_doc.plan, source=open_doc)
        await self.record_credit(run, credit, final=False)
        created = await self.create(run, Op.INVOICE, plan)
        await self.record_open(run, created, BookingStatus.REPLACED)

    def plan(self, run: Run) -> RecordedPlan:
        """The ledger-neutral plan (koppel_bookkeeping); raises BookingRefused."""
        order = run.record.event.order
        language = run.settings.merchant.language
        plan = plan_booking(order, run.settings.ledger.booking, language=language)
        return RecordedPlan.of(plan, language)

    # ---- creating exactly once ------------------------------------------------------------

    async def create(
        self, run: Run, op: Op, plan: RecordedPlan, *, source: LedgerDoc | None = None
    ) -> LedgerDoc:
        reuse = run.free_intent
        if reuse is not None and (reuse.op != op or reuse.revision != run.revision):
            reuse = None
        run.free_intent = None
        request = DraftRequest(
            op,
            run.record.id,
            run.record.event,
            run.revision,
            plan,
            source=source,
            reuse=reuse,
            credits=len(run.record.credits),
        )
        if self.always_look_up and op == Op.INVOICE and reuse is None:
            adopted = await self._look_up(run, request)
            if adopted is not None:
                return adopted
        draft = await run.session.prepare(request)
        if source is not None:
            draft = replace(draft, cancels=source.number)
        for attempt in range(1, MAX_NUMBER_ATTEMPTS + 1):
            await self.record(run, Change(state=State.BOOKING, intent=draft))
            try:
                created = await run.session.create(draft)
            except PermanentError:
                if attempt == MAX_NUMBER_ATTEMPTS:
                    raise
                # Refused: ask the ledger what is under that number before concluding.
                found = await run.session.read(draft)
                if is_ours(found, draft):
                    log.info("the number holds our own earlier create; adopting it")
                    return replace(draft, ledger_id=found.ledger_id if found else None)
                if found is None:
                    raise  # not about the number: the refusal stands
                log.info("the number is taken by another document; taking another")
                draft = await run.session.renumber(draft)
                continue
            self.creates += 1
            if self.crash_after_creates and self.creates >= self.crash_after_creates:
                log.warning(
                    "TEST HOOK crash_after_create: killing this process now",
                    extra={"creates": self.creates},
                )
                os.kill(os.getpid(), signal.SIGKILL)
            log.info("document created", extra={"op": op.value, "number": created.number})
            return created
        raise AssertionError("unreachable")  # pragma: no cover

    async def _look_up(self, run: Run, request: DraftRequest) -> LedgerDoc | None:
        """`always_look_up`: the order may be in the ledger already (typed in by hand, or
        booked by a previous koppeling): adopt it instead of creating a second one."""
        known = {c.number for c in run.record.credits} | run.record.credited_numbers()
        probe = await run.session.prepare(request, number="")
        for found in await run.session.find(probe):
            if found.reference == probe.reference and not found.credit:
                if found.number in known:
                    continue
                log.info("order found in the ledger before creating it; adopting it")
                debtor = probe.debtor
                if found.debtor_id:
                    debtor = replace(debtor, id=found.debtor_id, source="found")
                return replace(probe, number=found.number, debtor=debtor, ledger_id=found.ledger_id)
        return None

    async def resolve_intent(self, run: Run) -> None:
        """A create may have happened before a crash: look the intended document up."""
        intent = run.record.intent
        assert intent is not None
        found = await run.session.read(intent)
        if not is_ours(found, intent):
            # Not created: its number can be used again — unless someone else took it.
            run.free_intent = intent if found is None else None
            log.info("intent looked up: not in the ledger", extra={"taken": found is not None})
            return
        log.info(
            "intent looked up: in the ledger already, recording it",
            extra={"op": intent.op.value, "number": intent.number},
        )
        created = replace(intent, ledger_id=found.ledger_id if found else intent.ledger_id)
        if intent.op == Op.CREDIT:
            final = intent.revision == run.revision and run.record.kind == OrderEventKind.CANCELLED
            await self.record_credit(run, created, final=final)
        else:
            status = BookingStatus.REPLACED if run.record.credits else BookingStatus.BOOKED
            await self.record_open(run, created, status)

    # ---- recording ----------------------------------------------------------------------

    def _notices(self, doc: LedgerDoc) -> list[Notice]:
        return [Notice(code=code, text=text) for code, text in doc.plan.notice_texts()]

    async def record_open(
        self, run: Run, created: LedgerDoc, status: BookingStatus, *, defer: bool = False
    ) -> None:
        """The order's document exists in the ledger: record it and announce it. `defer`:
        with the revision's last write (`book_and_check`)."""
        booked = created.revision >= run.revision
        ref = run.session.ledger_ref(created)
        event = self.events.booking(
            run.record.event, created.revision, status, ref, self.clock(), self._notices(created)
        )
        change = Change(
            ledger=created,
            state=State.BOOKED,
            intent=None,
            booked_revision=run.revision if booked else KEEP,
            outbox=(event,),
        )
        if defer:
            assert run.deferred is None
            change.apply(run.record)
            run.deferred = change
        else:
            await self.record(run, change)
        self.metrics.booked(status.value)

    async def record_credit(self, run: Run, credit: LedgerDoc, *, final: bool) -> None:
        """The credit note exists: the open document is cancelled out (ledger None)."""
        outbox: tuple[OutboxItem, ...] = ()
        if final:
            ref = run.session.ledger_ref(credit)
            outbox = (
                self.events.booking(
                    run.record.event, run.revision, BookingStatus.CREDITED, ref, self.clock()
                ),
            )
            self.metrics.booked(BookingStatus.CREDITED.value)
        change = Change(
            ledger=None,
            add_credit=credit,
            state=State.CREDITED if final else State.BOOKING,
            intent=None,
            booked_revision=run.revision if final else KEEP,
            last_credit=credit if final else KEEP,
            outbox=outbox,
        )
        await self.record(run, change)

    # ---- the read-back check ------------------------------------------------------------

    async def check(self, run: Run) -> Change | None:
        """Read the document back and compare: the state to record and the check event."""
        cancelled = run.record.kind == OrderEventKind.CANCELLED
        doc = run.record.last_credit if cancelled else run.record.ledger
        if doc is None:
            return None
        found = await run.session.read(doc)
        booking = run.settings.ledger.booking
        language = run.settings.merchant.language
        result = compare(
            doc, found, tolerance=booking.tolerance, language=language, ledger=self.display_name
        )
        event = run.record.event
        check = CheckEvent(
            event_id=make_event_id(
                self.events.component, "check", run.record.id, str(run.revision)
            ),
            occurred_at=self.clock(),
            connection_id=event.connection_id,
            source_system=self.events.source,
            correlation_id=event.correlation_id,
            order_ref=event.order_ref,
            order_revision=run.revision,
            outcome=result.outcome,
            order=summary(event),
            ledger_ref=run.session.ledger_ref(doc),
            expected_total_incl_vat=doc.expected_total,
            booked_total_incl_vat=result.booked_total,
            difference=result.difference,
            tolerance=booking.tolerance,
            expected_customer=result.expected_customer,
            booked_customer=result.booked_customer,
            details=result.details,
            expected_vat=rate_amounts(result.expected_vat),
            booked_vat=rate_amounts(result.booked_vat) if result.booked_vat is not None else None,
            notices=self._notices(doc),
        )
        if result.mismatch:
            log.warning("read-back differs from the order", extra={"details": result.details})
        if cancelled:
            state = State.CREDITED
        else:
            state = State.MISMATCH if result.mismatch else State.VERIFIED
        return Change(
            state=state,
            check_outcome=result.outcome.value,
            checked_revision=run.revision,
            done_revision=run.revision,
            attempts=0,
            first_failure_at=None,
            reason_code=None,
            outbox=(OutboxItem(LEDGER_CHECKS, check),),
        )
