"""What happens to one order: claim → plan → book in Octopus → record → check → publish.

`Booker.work(order_id)` owns the order's state document (a lock in the document
itself) and brings it up to its latest revision, step by step, recording after
every step in Octopus so a crash anywhere resumes at the right place:

1. an `intent` (operation, document number, reference) is stored *before* any
   create; a worker that finds an intent reads that document number back first
   and adopts what it finds instead of creating a second document;
2. the Octopus ids are recorded together with the booking event (outbox);
3. the document is read back and compared with the order (check event).

Failures are classified: a refusal (VAT rules, mapping, Octopus 4xx) fails the
order with a reason and a suggestion; Octopus unavailable (timeouts, 5xx, 429)
schedules a retry with a growing delay until `persistent_after`; refused
credentials hold the whole connection until new settings arrive.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from koppel_bookkeeping import BookingRefused, plan_booking, refusal_text
from koppel_chassis import (
    ConnectionStore,
    CredentialsError,
    EventPublisher,
    ExternalError,
    PermanentError,
    SecretUnreadable,
    TransientError,
    log_context,
)
from koppel_contracts import (
    LEDGER_BOOKINGS,
    LEDGER_CHECKS,
    OPS_ALERTS,
    AlertEvent,
    AlertKind,
    BookingEvent,
    BookingMode,
    BookingStatus,
    CheckEvent,
    CheckOutcome,
    ConnectionSettings,
    Failure,
    FailureKind,
    Language,
    LedgerRef,
    LedgerSystem,
    OctopusOptions,
    OrderEvent,
    OrderEventKind,
    OrderSummary,
    SourceSystem,
    make_event_id,
    order_key,
)
from pymongo.errors import PyMongoError

from .client import (
    ClientRegistry,
    OctopusClient,
    OctopusMetrics,
    SettingsIncomplete,
    current_meter,
    metered,
    octopus_message,
)
from .debtors import Debtor, RelationIndex, customer_name
from .mapping import (
    LEDGER_ZONE,
    BookedDocument,
    Header,
    Plan,
    RecordedPlan,
    document_date,
    financial_body,
    invoice_body,
    read_financial,
    read_invoice,
    vat_percentages,
)
from .reference import Placement, ReferenceCache
from .refusals import Refusal
from .refusals import refusal_text as own_refusal_text
from .settings import LedgerOctopusSettings
from .state import (
    Clock,
    HoldStore,
    LostLock,
    OrderStore,
    OutboxItem,
    Received,
    State,
    aware,
    backoff_seconds,
    outbox_items,
    utcnow,
)

log = logging.getLogger(__name__)

COMPONENT = "ledger-octopus"
DEFAULT_JOURNAL = {BookingMode.INVOICE: "V1", BookingMode.FINANCIAL: "F1"}
JOURNAL_TYPE = {BookingMode.INVOICE: "V", BookingMode.FINANCIAL: "F"}
_TAKEN_MARKERS = ("bestaat al", "already", "duplicate", "existe déjà", "existe deja")
_BOOKED_MARKERS = ("al geboekt", "already booked", "is booked", "déjà comptabilis")
_MODULE_OFF_MARKERS = ("facturatiemodule", "invoice module", "module de facturation")
_RELATION_MARKERS = ("relatie bestaat niet", "relation unknown", "relation does not exist")
MAX_NUMBER_ATTEMPTS = 3
# A 429 asking to wait longer than this is a used-up daily quota, not a burst limit:
# the whole connection then waits instead of spending more calls on refusals.
QUOTA_QUIET_SECONDS = 60.0
# Outbox entries still there after this were left by a crash: the scheduler publishes them.
STALE_OUTBOX = timedelta(seconds=10)


@dataclass
class Run:
    """One worker's pass over one order."""

    doc_id: str
    owner: str
    doc: dict[str, Any]
    event: OrderEvent
    settings: ConnectionSettings
    version: int
    client: OctopusClient
    free_intent: dict[str, Any] | None = None
    recovered: list[OutboxItem] = field(default_factory=list)
    calls_recorded: int = 0  # Octopus calls already counted in the document
    released: bool = False  # the finishing write went through (and let go of the order)

    @property
    def revision(self) -> int:
        return int(self.doc["revision"])

    @property
    def language(self) -> Language:
        return self.settings.merchant.language


@dataclass(frozen=True)
class Created:
    """A document that exists in Octopus (created now, or found after a crash)."""

    op: str  # invoice | credit
    mode: BookingMode
    placement: Placement
    journal: str
    document_nr: int
    debtor: Debtor
    reference: str
    plan: RecordedPlan
    revision: int

    def stored(self) -> dict[str, Any]:
        return {
            "op": self.op,
            "mode": self.mode.value,
            "bookyear_id": self.placement.bookyear_id,
            "period": self.placement.period,
            "journal": self.journal,
            "document_nr": self.document_nr,
            "relation_id": self.debtor.relation_id,
            "external_id": self.debtor.external_id,
            "debtor_source": self.debtor.source,
            "reference": self.reference,
            "plan": self.plan.to_json(),
            "revision": self.revision,
        }

    @classmethod
    def load(cls, data: dict[str, Any]) -> Created:
        return cls(
            op=data["op"],
            mode=BookingMode(data["mode"]),
            placement=Placement(int(data["bookyear_id"]), int(data["period"])),
            journal=data["journal"],
            document_nr=int(data["document_nr"]),
            debtor=Debtor(
                data.get("relation_id"), data.get("external_id"), data.get("debtor_source", "")
            ),
            reference=data["reference"],
            plan=RecordedPlan.from_json(data["plan"]),
            revision=int(data["revision"]),
        )

    def ledger_ref(self) -> LedgerRef:
        return LedgerRef(
            booking_id=f"{self.placement.bookyear_id}/{self.journal}/{self.document_nr}",
            document_number=str(self.document_nr),
            debtor_id=str(self.debtor.relation_id or self.debtor.external_id or "") or None,
            journal=self.journal,
        )

    @property
    def expected_total(self) -> Decimal:
        total = self.plan.total_incl_vat
        return -total if self.op == "credit" else total


class AlreadyBooked(Exception):
    """The concept invoice was booked in Octopus meanwhile: it cannot be replaced."""


class Booker:
    def __init__(
        self,
        settings: LedgerOctopusSettings,
        *,
        orders: OrderStore,
        holds: HoldStore,
        connections: ConnectionStore,
        clients: ClientRegistry,
        reference: ReferenceCache,
        relations: RelationIndex,
        publisher: EventPublisher,
        metrics: OctopusMetrics,
        clock: Clock = utcnow,
    ) -> None:
        self.settings = settings
        self.orders = orders
        self.holds = holds
        self.connections = connections
        self.clients = clients
        self.reference = reference
        self.relations = relations
        self.publisher = publisher
        self.metrics = metrics
        self.clock = clock
        self.wake = asyncio.Event()
        self._last_purge = clock()
        self._last_sweep: datetime | None = None

    # ==== entry points ==========================================================================

    async def on_order(self, event: OrderEvent) -> None:
        """The Kafka handler: store the revision, then work on the order right away."""
        doc_id = order_key(event.connection_id, event.order_ref)
        with log_context(
            connection_id=event.connection_id, order_ref=event.order_ref, revision=event.revision
        ):
            received, doc = await self.orders.receive_doc(event)
            if received == Received.DUPLICATE:
                log.info("duplicate order event", extra={"event_id": event.event_id})
                doc = await self.orders.get(doc_id)
                due = doc is not None and doc.get("next_attempt_at") is not None
                if due and aware(doc["next_attempt_at"]) <= self.clock():  # type: ignore[index]
                    await self.work(doc_id)  # redelivered after a crash in the middle
                elif doc is not None and doc.get("outbox"):
                    await self.flush(doc_id)  # events a crash may have left unpublished
                return
            await self.work(doc_id, doc)

    async def on_settings(self, connection_id: str, settings: ConnectionSettings | None) -> None:
        """New settings: forget tokens, release a hold, resume held and waiting orders."""
        self.clients.drop(connection_id)
        if settings is None:
            return
        version = await self.connections.version_of(connection_id)
        if version is not None and await self.holds.release(connection_id, version):
            log.info("connection hold released", extra={"connection_id": connection_id})
        resumed = await self.orders.resume_connection(connection_id)
        if resumed:
            log.info(
                "orders resumed after new settings",
                extra={"connection_id": connection_id, "orders": resumed},
            )
            self.wake.set()

    async def run_due(self) -> int:
        """One scheduler pass: every order whose next attempt is due, a few at a time."""
        await self.sweep()
        due = await self.orders.due(self.settings.scheduler_batch)
        limit = asyncio.Semaphore(4)

        async def one(doc_id: str, hint_at: datetime) -> None:
            async with limit:
                try:
                    await self.work(doc_id)
                    await self.orders.settle(doc_id, hint_at)
                except Exception:
                    log.exception("retry of order failed", extra={"order": doc_id})

        await asyncio.gather(*(one(doc_id, at) for doc_id, at in due))
        for doc in await self.holds.with_unpublished(STALE_OUTBOX):
            await self.flush_hold(doc["_id"])
        now = self.clock()
        if now - self._last_purge > timedelta(minutes=10):
            self._last_purge = now
            await self.orders.purge_locks(older_than=timedelta(days=1))
            await self.reference.purge_claims(older_than=timedelta(days=1))
        return len(due)

    async def sweep(self, *, force: bool = False) -> None:
        """The safety net behind the schedule hints, at start and every `sweep_interval`:
        due orders without a hint get one, outboxes a crash left behind are published.
        Both read the whole order collection on FerretDB, which is why this is rare."""
        now = self.clock()
        interval = timedelta(seconds=self.settings.sweep_interval_seconds)
        if not force and self._last_sweep is not None and now - self._last_sweep < interval:
            return
        self._last_sweep = now
        for doc_id, at in await self.orders.unscheduled(1000):
            await self.orders.schedule_if_missing(doc_id, at)
        for doc in await self.orders.with_unpublished(STALE_OUTBOX, 1000):
            await self.flush(doc["_id"])

    # ==== owning an order ========================================================================

    async def work(self, doc_id: str, doc: dict[str, Any] | None = None) -> None:
        """Own the order and bring it up to its latest revision. `doc`: as just stored."""
        claimed = await self.orders.claim(doc_id, doc)
        if claimed is None:
            # Another worker owns it and picks up any newer revision before letting go;
            # should it die instead, the scheduler looks again once its lock expired.
            until = self.clock() + self.orders.lock
            await self.orders.schedule(doc_id, until, unless_sooner=True)
            return
        doc = claimed
        owner = doc["lock_owner"]
        released = False
        try:
            for _ in range(20):
                revision = doc["revision"]
                # The revision's last write also lets go of the order, when no newer
                # revision arrived meanwhile (then `released` stays False and we go on).
                released = await self._process(doc_id, owner, doc)
                await self._flush_written(doc_id, doc)
                if released:
                    break
                fresh = await self.orders.get(doc_id)
                if fresh is None:
                    break
                if fresh.get("lock_owner") != owner:
                    raise LostLock(doc_id)
                if fresh["revision"] == revision:
                    break
                doc = fresh  # a newer revision arrived while we were busy
        except LostLock:
            log.warning("lost the order to another worker", extra={"order": doc_id})
        finally:
            if not released:
                await self.orders.release(doc_id, owner)

    async def flush(self, doc_id: str) -> None:
        """Publish what a document's outbox holds (read from MongoDB first)."""
        doc = await self.orders.get(doc_id)
        if doc is not None:
            await self._flush_written(doc_id, doc)

    async def _flush_written(self, doc_id: str, doc: dict[str, Any]) -> None:
        """Publish the outbox as this worker wrote it (kept in `doc`), then remove the
        entries in one write. A crash in between re-publishes them with the same event
        ids, which consumers ignore."""
        published = []
        for event_id, item in outbox_items(doc):
            await self.publisher.publish(item.topic, item.event)
            published.append(event_id)
        if published:
            await self.orders.published(doc_id, *published)
            doc["outbox"] = {}

    async def flush_hold(self, connection_id: str) -> None:
        doc = await self.holds.holds.find_one({"_id": connection_id})
        for event_id, item in outbox_items(doc or {}):
            await self.publisher.publish(item.topic, item.event)
            await self.holds.published(connection_id, event_id)

    async def _process(self, doc_id: str, owner: str, doc: dict[str, Any]) -> bool:
        """One revision, up to its last write; True when that write also let go of the
        order (False: a newer revision arrived meanwhile, the caller goes on)."""
        event = OrderEvent.model_validate_json(doc["event"])
        revision = int(doc["revision"])
        with log_context(
            connection_id=event.connection_id, order_ref=event.order_ref, revision=revision
        ):
            if int(doc.get("done_revision") or 0) >= revision:
                return await self.orders.finish(doc_id, owner, revision)
            failing = _Failing(self, doc_id, owner, doc, event)
            current = await self.connections.current(event.connection_id)
            if current is None:
                await failing.wait("settings_pending")
                return failing.released
            stored, version = current
            if stored.ledger.system != LedgerSystem.OCTOPUS:
                await failing.set(State.IGNORED, done=True)
                log.info("order ignored: the connection books in another ledger")
                return failing.released
            if not stored.active:
                await failing.wait("connection_inactive")
                return failing.released
            connection = await self.holds.get(event.connection_id) or {}
            if connection.get("held") and int(connection["settings_version"]) >= version:
                await failing.hold(stored, version, None, connection.get("reason"))
                return failing.released
            quiet_until = connection.get("quiet_until")
            if quiet_until is not None and aware(quiet_until) > self.clock():
                # The daily quota is used up: wait for it without spending calls on 429s.
                seconds = (aware(quiet_until) - self.clock()).total_seconds()
                quota = TransientError("Octopus quota used up", status=429, retry_after=seconds)
                await failing.retry_later(stored, quota)
                return failing.released
            language = stored.merchant.language
            client: OctopusClient | None = None
            run: Run | None = None
            with metered() as meter:
                try:
                    try:
                        client = self.clients.get(event.connection_id, stored)
                    except SettingsIncomplete as error:
                        raise Refusal("settings_incomplete", detail=str(error)) from None
                    run = Run(doc_id, owner, doc, event, stored, version, client)
                    await self._book_and_check(run)
                    await self._restored(event, stored, version)
                except LostLock:
                    raise
                except BookingRefused as error:
                    reason, suggestion = refusal_text(error, language)
                    await failing.fail(error.reason_code, reason, suggestion)
                except Refusal as error:
                    reason, suggestion = own_refusal_text(
                        error.reason_code,
                        {"dossier": stored.ledger.dossier_id, **error.params},
                        language,
                    )
                    await failing.fail(error.reason_code, reason, suggestion)
                except (CredentialsError, SecretUnreadable) as error:
                    await failing.hold(stored, version, error, None)
                except TransientError as error:
                    await failing.retry_later(stored, error)
                except PermanentError as error:
                    # Our cached reference data may be what is wrong: read it again next time.
                    if client is not None:
                        await self.reference.forget(client)
                    message = octopus_message(error)
                    code = "octopus_refused"
                    if any(m in message.lower() for m in _MODULE_OFF_MARKERS):
                        code = "invoice_module_off"
                    reason, suggestion = own_refusal_text(
                        code,
                        {"message": message, "dossier": stored.ledger.dossier_id},
                        language,
                    )
                    await failing.fail(code, reason, suggestion)
                except PyMongoError:
                    raise  # our own database: let Kafka redeliver once it is back
                except Exception as error:
                    # A bug must not block the partition: retry later like an outage,
                    # and end as a persistent failure (with an alert) if it persists.
                    log.exception("unexpected error while booking; retrying later")
                    await failing.retry_later(stored, TransientError(f"internal error: {error}"))
                finally:
                    recorded = run.calls_recorded if run is not None else 0
                    if meter.calls > recorded:
                        await self.orders.add_calls(doc_id, meter.calls - recorded)
            return failing.released or (run is not None and run.released)

    async def _restored(
        self, event: OrderEvent, settings: ConnectionSettings, version: int
    ) -> None:
        """After a hold was released, the first success announces the connection restored."""
        reason, suggestion = own_refusal_text("connection_restored", {}, settings.merchant.language)
        cause = make_event_id("connection_restored", event.connection_id, str(version))
        alert = AlertEvent(
            event_id=make_event_id(COMPONENT, "alert", cause),
            occurred_at=self.clock(),
            connection_id=event.connection_id,
            source_system=SourceSystem.OCTOPUS,
            kind=AlertKind.CONNECTION_RESTORED,
            component=COMPONENT,
            reason_code="connection_restored",
            reason=reason,
            suggestion=suggestion,
            cause_id=cause,
        )
        if await self.holds.restored(event.connection_id, [OutboxItem(OPS_ALERTS, alert)]):
            log.info("connection restored", extra={"connection_id": event.connection_id})
            await self.flush_hold(event.connection_id)

    # ==== booking =================================================================================

    async def _book_and_check(self, run: Run) -> None:
        if run.doc.get("intent"):
            await self._resolve_intent(run)
        if int(run.doc["booked_revision"]) < run.revision:
            await self._book(run)
        checked: dict[str, Any] = {}
        outbox: list[OutboxItem] = []
        if int(run.doc.get("checked_revision") or 0) < run.revision:
            checked, outbox = await self._check(run)
        # One write records the check, counts the calls and lets go of the order.
        meter = current_meter()
        calls = meter.calls if meter else 0
        run.released = await self.orders.finish(
            run.doc_id, run.owner, run.revision, calls, set_=checked, outbox=outbox
        )
        if run.released:
            run.calls_recorded = calls
            _remember(run.doc, checked, outbox)
        elif checked:
            # A newer revision arrived meanwhile: still record this one's check.
            await self._record(run, set_=checked, outbox=outbox)

    async def _book(self, run: Run) -> None:
        event, revision = run.event, run.revision
        open_doc = Created.load(run.doc["ledger"]) if run.doc.get("ledger") else None
        if event.kind == OrderEventKind.CANCELLED:
            if open_doc is None:
                # Nothing of this order is in Octopus (never booked, or credited already).
                state = State.CREDITED if run.doc.get("credits") else State.CANCELLED
                await self._record(
                    run,
                    set_={
                        "state": state.value,
                        "booked_revision": revision,
                        "checked_revision": revision,
                        "done_revision": revision,
                    },
                )
                log.info("cancelled order has nothing in Octopus to credit")
                return
            credit = await self._create(run, "credit", source=open_doc)
            await self._record_credit(run, credit, final=True)
            return
        plan = plan_booking(event.order, run.settings.ledger.booking, language=run.language)
        if open_doc is None:
            created = await self._create(run, "invoice", plan=plan)
            status = BookingStatus.REPLACED if run.doc.get("credits") else BookingStatus.BOOKED
            await self._record_open(run, created, status)
            return
        mode = _octopus(run.settings).booking_mode
        if open_doc.mode == BookingMode.INVOICE and mode == BookingMode.INVOICE:
            try:
                replaced = await self._replace_concept(run, open_doc, plan)
            except AlreadyBooked:
                log.info("concept invoice was booked meanwhile: crediting and rebooking")
            else:
                await self._record_open(run, replaced, BookingStatus.REPLACED)
                return
        credit = await self._create(run, "credit", source=open_doc)
        await self._record_credit(run, credit, final=False)
        created = await self._create(run, "invoice", plan=plan)
        await self._record_open(run, created, BookingStatus.REPLACED)

    async def _create(
        self,
        run: Run,
        op: str,
        *,
        plan: Plan | None = None,
        source: Created | None = None,
    ) -> Created:
        """Create an invoice or credit note in Octopus exactly once (intent first)."""
        mapping = run.settings.ledger.booking
        options = _octopus(run.settings)
        if source is not None:  # a credit mirrors the document it cancels
            mode, journal, debtor = source.mode, source.journal, source.debtor
            recorded = source.plan
            day = self.clock().astimezone(LEDGER_ZONE).date()
        else:
            assert plan is not None
            mode = options.booking_mode
            journal = options.journal or DEFAULT_JOURNAL[mode]
            recorded = RecordedPlan.of(plan)
            day = document_date(run.event.order)
            debtor = await self.relations.debtor_for(
                run.client, run.event.order, mapping, order_key=run.doc_id
            )
        placement = await self.reference.placement(run.client, day)
        await self._check_reference(run, mode, placement, journal, recorded)
        reference = run.event.order.order_number

        intent = run.free_intent
        if (
            intent
            and intent["op"] == op
            and intent["revision"] == run.revision
            and intent["journal"] == journal
            and int(intent["bookyear_id"]) == placement.bookyear_id
        ):
            # The earlier attempt's number: if that create did land after all, Octopus
            # refuses this one as a duplicate number and we adopt the document below.
            number = int(intent["document_nr"])
        else:
            if self.settings.always_look_up and op == "invoice":
                found = await self._scan(run, mode, placement, journal, reference, debtor, recorded)
                if found is not None:
                    return found
            number = await self.reference.next_document_nr(
                run.client, placement.bookyear_id, journal
            )
        run.free_intent = None

        for attempt in range(1, MAX_NUMBER_ATTEMPTS + 1):
            created = Created(
                op, mode, placement, journal, number, debtor, reference, recorded, run.revision
            )
            await self._record(
                run,
                set_={
                    "state": State.BOOKING.value,
                    "intent": {**created.stored(), "at": self.clock()},
                },
            )
            header = Header(
                placement=placement,
                journal=journal,
                document_nr=number,
                debtor=debtor,
                document_date=day,
                reference=reference,
                comment=_comment(run, op),
                currency=run.event.order.currency,
            )
            try:
                await self._send_create(run.client, mode, recorded, header, credit=op == "credit")
            except PermanentError as error:
                message = octopus_message(error).lower()
                if debtor.source == "index" and any(m in message for m in _RELATION_MARKERS):
                    # Deleted or merged in Octopus since we indexed it: find or create it anew.
                    await self.relations.forget(run.client.account.dossier_key, debtor.email or "")
                    raise TransientError(f"relation {debtor.relation_id} is gone") from error
                if attempt < MAX_NUMBER_ATTEMPTS and _number_taken(error):
                    # Taken — possibly by our own earlier create whose response was lost
                    # and which Octopus finished after we had looked: then it is ours.
                    found = await self._read(
                        run.client, mode, placement.bookyear_id, journal, number
                    )
                    if _is_ours(found, created):
                        log.info("document number taken by our own earlier create; adopting it")
                        return created
                    log.info("document number taken in Octopus; taking the next one")
                    number = await self.reference.next_document_nr(
                        run.client, placement.bookyear_id, journal, resync=True
                    )
                    continue
                raise
            if self.settings.crash_after_create:
                log.warning("TEST HOOK crash_after_create: killing this process now")
                os.kill(os.getpid(), signal.SIGKILL)
            log.info(
                "document created in Octopus",
                extra={"op": op, "journal": journal, "document_nr": number},
            )
            return created
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send_create(
        self,
        client: OctopusClient,
        mode: BookingMode,
        plan: RecordedPlan,
        header: Header,
        *,
        credit: bool,
    ) -> None:
        if mode == BookingMode.INVOICE:
            percentages = vat_percentages(await self.reference.vat_codes(client))
            await client.create_invoice(invoice_body(plan, header, percentages, credit=credit))
        else:
            body = financial_body(
                plan, header, vat_account=self.settings.financial_vat_account, credit=credit
            )
            await client.create_financial(body)

    async def _replace_concept(self, run: Run, open_doc: Created, plan: Plan) -> Created:
        """PUT the still-concept invoice with the amended lines (same number, same debtor)."""
        recorded = RecordedPlan.of(plan)
        await self._check_reference(
            run, open_doc.mode, open_doc.placement, open_doc.journal, recorded
        )
        header = Header(
            placement=open_doc.placement,
            journal=open_doc.journal,
            document_nr=open_doc.document_nr,
            debtor=open_doc.debtor,
            document_date=document_date(run.event.order),
            reference=open_doc.reference,
            comment=_comment(run, "invoice"),
            currency=run.event.order.currency,
        )
        try:
            percentages = vat_percentages(await self.reference.vat_codes(run.client))
            await run.client.update_invoice(invoice_body(recorded, header, percentages))
        except PermanentError as error:
            if any(m in octopus_message(error).lower() for m in _BOOKED_MARKERS):
                raise AlreadyBooked() from None
            raise
        return Created(
            "invoice",
            open_doc.mode,
            open_doc.placement,
            open_doc.journal,
            open_doc.document_nr,
            open_doc.debtor,
            open_doc.reference,
            recorded,
            run.revision,
        )

    async def _check_reference(
        self,
        run: Run,
        mode: BookingMode,
        placement: Placement,
        journal: str,
        plan: RecordedPlan,
    ) -> None:
        accounts = plan.accounts()
        if mode == BookingMode.FINANCIAL:
            accounts.setdefault(self.settings.financial_vat_account, Decimal(0))
        await self.reference.check(
            run.client,
            placement.bookyear_id,
            journal=journal,
            journal_type=JOURNAL_TYPE[mode],
            vat_codes=plan.vat_codes() if mode == BookingMode.INVOICE else {},
            accounts=accounts,
        )

    # ---- finding what is already there -------------------------------------------------------

    async def _read(
        self, client: OctopusClient, mode: BookingMode, bookyear_id: int, journal: str, nr: int
    ) -> BookedDocument | None:
        if mode == BookingMode.INVOICE:
            found = await client.invoices(
                bookyearId=bookyear_id, journalKey=journal, documentSequenceNr=nr
            )
            if not found:
                return None
            percentages = vat_percentages(await self.reference.vat_codes(client))
            codes = {str(ln.get("vatCodeKey")) for ln in found[0].get("invoiceLines") or []}
            if not codes <= percentages.keys():
                percentages = vat_percentages(await self.reference.vat_codes(client, force=True))
            return read_invoice(found[0], percentages)
        found = await client.financial_bookings(
            bookyearKeyId=bookyear_id, journalKey=journal, documentSequenceNr=nr
        )
        return read_financial(found[0]) if found else None

    async def _resolve_intent(self, run: Run) -> None:
        """A create may have happened before a crash: look the intended document up."""
        intent = run.doc["intent"]
        created = Created.load(intent)
        found = await self._read(
            run.client,
            created.mode,
            created.placement.bookyear_id,
            created.journal,
            created.document_nr,
        )
        if not _is_ours(found, created):
            # Not created: the number can be used again — unless someone else took it.
            run.free_intent = intent if found is None else None
            log.info("intent looked up: not in Octopus", extra={"taken": found is not None})
            return
        log.info(
            "intent looked up: already in Octopus, recording it",
            extra={"op": created.op, "document_nr": created.document_nr},
        )
        current_kind = run.event.kind
        if created.op == "credit":
            final = created.revision == run.revision and current_kind == OrderEventKind.CANCELLED
            await self._record_credit(run, created, final=final)
        else:
            status = BookingStatus.REPLACED if run.doc.get("credits") else BookingStatus.BOOKED
            await self._record_open(run, created, status)

    async def _scan(
        self,
        run: Run,
        mode: BookingMode,
        placement: Placement,
        journal: str,
        reference: str,
        debtor: Debtor,
        plan: RecordedPlan,
    ) -> Created | None:
        """`always_look_up`: read the journal's documents of the book year, match the reference."""
        known = {int(c["document_nr"]) for c in (run.doc.get("credits") or {}).values()}
        known |= {int(nr) for nr in run.doc.get("credited") or {}}  # cancelled out by us
        if mode == BookingMode.INVOICE:
            rows = await run.client.invoices(bookyearId=placement.bookyear_id, journalKey=journal)
            rows = [row for row in rows if str(row.get("reference") or "") == reference]
            percentages = vat_percentages(await self.reference.vat_codes(run.client))
            documents = []
            for row in rows:
                try:
                    documents.append(read_invoice(row, percentages))
                except KeyError:  # a VAT code we never used: not one of our documents
                    continue
        else:
            rows = await run.client.financial_bookings(
                bookyearKeyId=placement.bookyear_id, journalKey=journal
            )
            documents = [read_financial(row) for row in rows]
        for found in documents:
            if found.reference == reference and not found.credit and found.document_nr not in known:
                log.info("order found in Octopus before creating it; adopting it")
                adopted_debtor = Debtor(found.relation_id, found.external_id, "found")
                return Created(
                    "invoice",
                    mode,
                    placement,
                    journal,
                    found.document_nr,
                    adopted_debtor if found.relation_id else debtor,
                    reference,
                    plan,
                    run.revision,
                )
        return None

    # ---- recording ---------------------------------------------------------------------------

    async def _record(
        self,
        run: Run,
        *,
        set_: dict[str, Any],
        unset: list[str] | None = None,
        outbox: list[OutboxItem] | None = None,
    ) -> None:
        await self.orders.update(run.doc_id, run.owner, set_=set_, unset=unset, outbox=outbox)
        _remember(run.doc, set_, outbox or [])
        for key in unset or []:
            run.doc.pop(key, None)

    async def _record_open(self, run: Run, created: Created, status: BookingStatus) -> None:
        """The order's document exists in Octopus: record its ids and announce it."""
        booked = created.revision >= run.revision
        event = self._booking_event(run, created.revision, status, created.ledger_ref())
        set_: dict[str, Any] = {"ledger": created.stored(), "state": State.BOOKED.value}
        if booked:
            set_["booked_revision"] = run.revision
        await self._record(run, set_=set_, unset=["intent"], outbox=[event])
        self.metrics.bookings.labels(status.value).inc()

    async def _record_credit(self, run: Run, credit: Created, *, final: bool) -> None:
        """The credit note exists: the open document is cancelled out (ledger None)."""
        set_: dict[str, Any] = {
            "ledger": None,
            f"credits.{credit.document_nr}": credit.stored(),
            "state": State.CREDITED.value if final else State.BOOKING.value,
        }
        source = run.doc.get("ledger")
        if source:
            set_[f"credited.{source['document_nr']}"] = True
            run.doc.setdefault("credited", {})[str(source["document_nr"])] = True
        outbox = []
        if final:
            set_["booked_revision"] = run.revision
            set_["last_credit"] = credit.stored()
            outbox.append(
                self._booking_event(run, run.revision, BookingStatus.CREDITED, credit.ledger_ref())
            )
            self.metrics.bookings.labels(BookingStatus.CREDITED.value).inc()
        await self._record(run, set_=set_, unset=["intent"], outbox=outbox)
        run.doc.setdefault("credits", {})[str(credit.document_nr)] = credit.stored()

    # ---- the read-back check ----------------------------------------------------------------

    async def _check(self, run: Run) -> tuple[dict[str, Any], list[OutboxItem]]:
        """Read the document back and compare: the state to record and the check event."""
        cancelled = run.event.kind == OrderEventKind.CANCELLED
        stored = run.doc.get("last_credit") if cancelled else run.doc.get("ledger")
        if not stored:
            return {}, []
        created = Created.load(stored)
        found = await self._read(
            run.client,
            created.mode,
            created.placement.bookyear_id,
            created.journal,
            created.document_nr,
        )
        tolerance = run.settings.ledger.booking.tolerance
        expected = created.expected_total
        details: list[str] = []
        if found is None:
            booked_total = Decimal(0)
            booked_customer = None
            details.append("document not found in Octopus when read back")
        else:
            booked_total = found.total_incl_vat
            booked_customer = _customer_label(found.relation_id, found.external_id)
        difference = booked_total - expected
        expected_customer = _customer_label(created.debtor.relation_id, created.debtor.external_id)
        if abs(difference) > tolerance:
            details.append(f"total differs by {difference} (tolerance {tolerance})")
        elif difference:
            details.append(f"total differs by {difference}, within tolerance {tolerance}")
        customer_ok = found is not None and _same_customer(created.debtor, found)
        if found is not None and not customer_ok:
            details.append(f"booked on {booked_customer}, expected {expected_customer}")
        mismatch = found is None or abs(difference) > tolerance or not customer_ok
        outcome = CheckOutcome.MISMATCH if mismatch else CheckOutcome.MATCHED
        check = CheckEvent(
            event_id=make_event_id(COMPONENT, "check", run.doc_id, str(run.revision)),
            occurred_at=self.clock(),
            connection_id=run.event.connection_id,
            source_system=SourceSystem.OCTOPUS,
            correlation_id=run.event.correlation_id,
            order_ref=run.event.order_ref,
            order_revision=run.revision,
            outcome=outcome,
            order=_summary(run.event),
            ledger_ref=created.ledger_ref(),
            expected_total_incl_vat=expected,
            booked_total_incl_vat=booked_total,
            difference=difference,
            tolerance=tolerance,
            expected_customer=f"{customer_name(run.event.order)} ({expected_customer})",
            booked_customer=booked_customer,
            details=details,
        )
        if cancelled:
            state = State.CREDITED
        else:
            state = State.MISMATCH if mismatch else State.VERIFIED
        calls = int(run.doc.get("octopus_calls") or 0)
        if mismatch:
            log.warning("read-back differs from the order", extra={"details": details})
        self._observe_calls(calls)
        checked = {
            "state": state.value,
            "check_outcome": outcome.value,
            "checked_revision": run.revision,
            "done_revision": run.revision,
            "attempts": 0,
            "first_failure_at": None,
            "reason_code": None,
        }
        return checked, [OutboxItem(LEDGER_CHECKS, check)]

    def _observe_calls(self, earlier: int) -> None:
        meter = current_meter()
        total = earlier + (meter.calls if meter else 0)
        self.metrics.calls_per_booking.observe(total)
        self.metrics.booking_calls.inc(total)

    # ==== events ==================================================================================

    def _booking_event(
        self, run: Run, revision: int, status: BookingStatus, ref: LedgerRef
    ) -> OutboxItem:
        event = BookingEvent(
            event_id=make_event_id(
                COMPONENT, "booking", run.doc_id, str(revision), status.value, ref.booking_id
            ),
            occurred_at=self.clock(),
            connection_id=run.event.connection_id,
            source_system=SourceSystem.OCTOPUS,
            correlation_id=run.event.correlation_id,
            order_ref=run.event.order_ref,
            order_revision=revision,
            status=status,
            order=_summary(run.event),
            ledger_ref=ref,
        )
        return OutboxItem(LEDGER_BOOKINGS, event)

    def failure_event(
        self, event: OrderEvent, revision: int, status: BookingStatus, failure: Failure
    ) -> OutboxItem:
        doc_id = order_key(event.connection_id, event.order_ref)
        booking = BookingEvent(
            event_id=make_event_id(
                COMPONENT, "booking", doc_id, str(revision), status.value, failure.reason_code
            ),
            occurred_at=self.clock(),
            connection_id=event.connection_id,
            source_system=SourceSystem.OCTOPUS,
            correlation_id=event.correlation_id,
            order_ref=event.order_ref,
            order_revision=revision,
            status=status,
            order=_summary(event),
            failure=failure,
        )
        return OutboxItem(LEDGER_BOOKINGS, booking)

    def alert_event(
        self, event: OrderEvent, kind: AlertKind, failure: Failure, *, cause_id: str
    ) -> OutboxItem:
        per_order = kind != AlertKind.CONNECTION_BROKEN
        alert = AlertEvent(
            event_id=make_event_id(COMPONENT, "alert", cause_id),
            occurred_at=self.clock(),
            connection_id=event.connection_id,
            source_system=SourceSystem.OCTOPUS,
            correlation_id=event.correlation_id if per_order else None,
            kind=kind,
            component=COMPONENT,
            reason_code=failure.reason_code,
            reason=failure.reason,
            suggestion=failure.suggestion,
            order_ref=event.order_ref if per_order else None,
            order=_summary(event) if per_order else None,
            cause_id=cause_id,
        )
        return OutboxItem(OPS_ALERTS, alert)


# ==== when the order cannot be booked (now) =======================================================


class _Failing:
    """State changes of one order revision that did not (yet) reach Octopus.

    Each is written only if no newer revision arrived meanwhile (the newer one
    supersedes it), together with the events it announces.
    """

    def __init__(
        self, booker: Booker, doc_id: str, owner: str, doc: dict[str, Any], event: OrderEvent
    ) -> None:
        self.booker = booker
        self.doc_id = doc_id
        self.owner = owner
        self.doc = doc
        self.event = event
        self.revision = int(doc["revision"])
        self.released = False

    async def set(
        self,
        state: State,
        *,
        done: bool = False,
        next_at: datetime | None = None,
        extra: dict[str, Any] | None = None,
        outbox: list[OutboxItem] | None = None,
    ) -> bool:
        """The revision's last write (it also lets go of the order)."""
        fields: dict[str, Any] = {"state": state.value, "next_attempt_at": next_at, **(extra or {})}
        if done:
            fields["done_revision"] = self.revision
        if next_at is not None:
            await self.booker.orders.schedule(self.doc_id, next_at)
        self.released = await self.booker.orders.update_revision(
            self.doc_id, self.owner, self.revision, set_=fields, outbox=outbox, release=True
        )
        if self.released:
            _remember(self.doc, fields, outbox or [])
        return self.released

    async def wait(self, reason_code: str) -> None:
        delay = timedelta(seconds=self.booker.settings.settings_pending_recheck_seconds)
        await self.set(
            State.WAITING,
            next_at=self.booker.clock() + delay,
            extra={"reason_code": reason_code},
        )
        log.info("order waits", extra={"reason_code": reason_code})

    async def fail(
        self,
        reason_code: str,
        reason: str,
        suggestion: str,
        *,
        kind: FailureKind = FailureKind.PERMANENT,
        attempts: int | None = None,
    ) -> None:
        """Retrying will not help: failed, with a reason and a suggestion, and an alert."""
        failure = Failure(
            kind=kind,
            reason_code=reason_code,
            reason=reason,
            suggestion=suggestion,
            attempts=attempts or int(self.doc.get("attempts") or 0) + 1,
            persistent=True,
        )
        event = self.event
        cause = make_event_id(
            "persistent_failure", event.connection_id, event.order_ref, str(self.revision)
        )
        await self.set(
            State.FAILED,
            done=True,
            extra={"reason_code": reason_code, "failure": failure.model_dump(mode="json")},
            outbox=[
                self.booker.failure_event(event, self.revision, BookingStatus.FAILED, failure),
                self.booker.alert_event(
                    event, AlertKind.PERSISTENT_FAILURE, failure, cause_id=cause
                ),
            ],
        )
        log.warning("order failed", extra={"reason_code": reason_code, "reason": reason})

    async def retry_later(self, settings: ConnectionSettings, error: ExternalError) -> None:
        """Octopus unavailable: try again after a growing delay, until `persistent_after`."""
        config = self.booker.settings
        now = self.booker.clock()
        attempts = int(self.doc.get("attempts") or 0) + 1
        first = aware(self.doc.get("first_failure_at") or now)
        if now - first >= config.persistent_after:
            hours = config.persistent_after.total_seconds() / 3600
            reason, suggestion = own_refusal_text(
                "transient_limit",
                {"hours": f"{hours:.4g}", "message": octopus_message(error)},
                settings.merchant.language,
            )
            await self.fail(
                "octopus_unavailable",
                reason,
                suggestion,
                kind=FailureKind.TRANSIENT,
                attempts=attempts,
            )
            return
        delay = backoff_seconds(
            attempts, config.retry_initial_seconds, config.retry_factor, config.retry_max_seconds
        )
        if error.retry_after is not None:
            delay = max(delay, error.retry_after)
            if error.status == 429 and error.retry_after > QUOTA_QUIET_SECONDS:
                until = now + timedelta(seconds=error.retry_after)
                await self.booker.holds.quiet(self.event.connection_id, until)
        await self.set(
            State.WAITING,
            next_at=now + timedelta(seconds=delay),
            extra={
                "attempts": attempts,
                "first_failure_at": first,
                "reason_code": "octopus_unavailable",
                "last_error": str(error)[:500],
            },
        )
        log.info(
            "Octopus unavailable; retrying later",
            extra={"attempts": attempts, "delay_seconds": delay, "error": str(error)[:200]},
        )

    async def hold(
        self,
        settings: ConnectionSettings,
        version: int,
        error: Exception | None,
        known_reason: str | None,
    ) -> None:
        """Credentials refused: hold the connection (one alert per settings version) and
        this order. With `error` None the connection was held already: no Octopus call."""
        booker, event = self.booker, self.event
        if isinstance(error, ExternalError):
            message = octopus_message(error)
        else:
            message = str(error) if error is not None else (known_reason or "-")
        reason, suggestion = own_refusal_text(
            "credentials_refused", {"message": message}, settings.merchant.language
        )
        failure = Failure(
            kind=FailureKind.CREDENTIALS,
            reason_code="credentials_refused",
            reason=reason,
            suggestion=suggestion,
            attempts=int(self.doc.get("attempts") or 0) + 1,
        )
        if error is not None:
            booker.clients.drop(event.connection_id)
            cause = make_event_id("connection_broken", event.connection_id, str(version))
            alert = booker.alert_event(event, AlertKind.CONNECTION_BROKEN, failure, cause_id=cause)
            if await booker.holds.hold(event.connection_id, version, message, [alert]):
                log.warning("credentials refused: connection held", extra={"reason": reason})
                await booker.flush_hold(event.connection_id)
        await self.set(
            State.HELD,
            extra={"reason_code": "credentials_refused"},
            outbox=[booker.failure_event(event, self.revision, BookingStatus.HELD, failure)],
        )


# ==== small helpers ==============================================================================


def _remember(doc: dict[str, Any], set_: dict[str, Any], outbox: list[OutboxItem]) -> None:
    """Keep the in-memory document in step with what was just written (the outbox too,
    so the worker publishes it without reading the document again)."""
    for key, value in set_.items():
        if "." not in key:
            doc[key] = value
    if outbox:
        written = {item.event.event_id: item.stored() for item in outbox}
        doc["outbox"] = {**(doc.get("outbox") or {}), **written}


def _octopus(settings: ConnectionSettings) -> OctopusOptions:
    return settings.ledger.octopus or OctopusOptions()


def _summary(event: OrderEvent) -> OrderSummary:
    order = event.order
    placed: date = order.placed_at.astimezone(LEDGER_ZONE).date()
    return OrderSummary(
        order_number=order.order_number,
        placed_on=placed,
        total_incl_vat=order.totals.total_incl_vat,
        currency=order.currency,
        customer_name=customer_name(order),
    )


def _comment(run: Run, op: str) -> str:
    order = run.event.order
    nl = run.language == Language.NL
    what = ("Creditnota order" if nl else "Credit note order") if op == "credit" else "Order"
    text = f"{what} {order.order_number} ({run.event.source_system.value})"
    return text[:250]


def _customer_label(relation_id: int | None, external_id: int | None) -> str:
    if relation_id:
        return f"relation {relation_id}"
    return f"external relation {external_id}"


def _same_customer(debtor: Debtor, found: BookedDocument) -> bool:
    if debtor.relation_id is not None:
        return found.relation_id == debtor.relation_id
    return found.external_id == debtor.external_id


def _is_ours(found: BookedDocument | None, created: Created) -> bool:
    """The document at the intended number is the one we meant to create."""
    return (
        found is not None
        and found.reference == created.reference
        and found.credit == (created.op == "credit")
    )


def _number_taken(error: PermanentError) -> bool:
    message = octopus_message(error).lower()
    return error.status == 400 and any(marker in message for marker in _TAKEN_MARKERS)
