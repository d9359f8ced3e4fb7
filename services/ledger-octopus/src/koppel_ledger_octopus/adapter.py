"""Octopus as a ledger of the runtime: how to prepare, create, replace and read its
documents, and what its refusals mean — decided from status codes and by asking
Octopus, never from the wording of its messages (undocumented, notes §9).

A document's `placement` holds Octopus' coordinates: book year, period, journal, and
whether it is an invoice of the invoicing module or a financial mutation.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal

from koppel_chassis import ExternalError, PermanentError, SecretBox, TransientError
from koppel_chassis.mongo import AsyncDatabase, Document
from koppel_contracts import (
    BookingMode,
    ConnectionSettings,
    Language,
    LedgerRef,
    LedgerSystem,
    OctopusOptions,
    SourceSystem,
)
from koppel_ledger import (
    LEDGER_ZONE,
    DraftRequest,
    ErasedCustomer,
    LedgerDescription,
    LedgerDoc,
    LedgerMetrics,
    NotReplaceable,
    Op,
    ReadBack,
    RecordedPlan,
    Refusal,
    document_date,
    utcnow,
)

from . import debtors
from .account import ClientRegistry, OctopusAccount
from .client import ClientOptions, OctopusClient, octopus_message
from .debtors import RelationIndex
from .describe import describe
from .mapping import (
    Header,
    account_number,
    financial_body,
    invoice_body,
    read_financial,
    read_invoice,
    read_sales,
    sales_body,
    vat_percentages,
)
from .reference import Placement, ReferenceCache
from .refusals import OCTOPUS_TEXTS
from .settings import LedgerOctopusSettings

log = logging.getLogger(__name__)

DEFAULT_JOURNAL = {BookingMode.INVOICE: "V1", BookingMode.SALES: "V1", BookingMode.FINANCIAL: "F1"}
JOURNAL_TYPE = {BookingMode.INVOICE: "V", BookingMode.SALES: "V", BookingMode.FINANCIAL: "F"}
FIXABLE = frozenset({"unknown_journal", "journal_closed", "no_open_bookyear", "invoice_module_off"})


def _placement(doc: LedgerDoc) -> tuple[BookingMode, Placement, str]:
    p = doc.placement
    return BookingMode(p["mode"]), Placement(int(p["bookyear_id"]), int(p["period"])), p["journal"]


class OctopusSession:
    """One connection's Octopus dossier."""

    def __init__(
        self, adapter: OctopusAdapter, client: OctopusClient, settings: ConnectionSettings
    ) -> None:
        self.adapter = adapter
        self.client = client
        self.settings = settings
        self.options: OctopusOptions = settings.ledger.octopus or OctopusOptions()

    @property
    def reference(self) -> ReferenceCache:
        return self.adapter.reference

    # ---- preparing ------------------------------------------------------------------------

    async def prepare(self, request: DraftRequest, *, number: str | None = None) -> LedgerDoc:
        event = request.event
        if request.source is not None:  # a credit mirrors the document it cancels
            mode, _, journal = _placement(request.source)
            debtor = request.source.debtor
            day = utcnow().astimezone(LEDGER_ZONE).date()
        else:
            mode = self.options.booking_mode
            journal = self.options.journal or DEFAULT_JOURNAL[mode]
            debtor = await self.adapter.relations.debtor_for(
                self.client,
                event.order,
                self.settings.ledger.booking,
                order_key=request.order_id,
                connection_id=event.connection_id,
                shop=self.settings.shop.system,
            )
            day = document_date(event.order)
        placement = await self.reference.placement(self.client, day)
        await self._check_reference(mode, placement, journal, request.plan)
        if number is None:
            reuse = request.reuse
            if reuse is not None and _placement(reuse)[1:] == (placement, journal):
                # The earlier attempt's number: if that create did land after all, Octopus
                # refuses this one as a duplicate and the runtime adopts the document.
                number = reuse.number
            else:
                number = str(await self._next_number(placement, journal))
        return LedgerDoc(
            op=request.op,
            revision=request.revision,
            number=number,
            reference=event.order.order_number,
            debtor=debtor,
            plan=request.plan,
            placement={
                "mode": mode.value,
                "bookyear_id": placement.bookyear_id,
                "period": placement.period,
                "journal": journal,
                "day": day.isoformat(),
                "currency": event.order.currency,
            },
        )

    async def _next_number(self, placement: Placement, journal: str, resync: bool = False) -> int:
        return await self.reference.next_document_nr(
            self.client, placement.bookyear_id, journal, resync=resync
        )

    async def renumber(self, draft: LedgerDoc) -> LedgerDoc:
        _, placement, journal = _placement(draft)
        return draft.with_number(str(await self._next_number(placement, journal, resync=True)))

    async def _check_reference(
        self, mode: BookingMode, placement: Placement, journal: str, plan: RecordedPlan
    ) -> None:
        """Refuse before Octopus does: journal, accounts and VAT codes (with their
        percentages) must exist as the mapping says."""
        lines = plan.bookable_lines()
        accounts = {account_number(ln.ledger_account): ln.vat_rate for ln in lines}
        if mode == BookingMode.FINANCIAL:
            accounts.setdefault(self.adapter.settings.financial_vat_account, Decimal(0))
        await self.reference.check(
            self.client,
            placement.bookyear_id,
            journal=journal,
            journal_type=JOURNAL_TYPE[mode],
            vat_codes={ln.vat_code: ln.vat_rate for ln in lines}
            if mode != BookingMode.FINANCIAL
            else {},
            accounts=accounts,
        )

    # ---- creating, replacing ----------------------------------------------------------------

    def _header(self, doc: LedgerDoc) -> Header:
        _, placement, journal = _placement(doc)
        return Header(
            placement=placement,
            journal=journal,
            document_nr=int(doc.number),
            debtor=doc.debtor,
            document_date=date.fromisoformat(doc.placement["day"]),
            reference=doc.reference,
            comment=_comment(doc, self.settings.merchant.language),
            currency=str(doc.placement.get("currency") or "EUR"),
        )

    async def _percentages(self, force: bool = False) -> dict[str, Decimal]:
        return vat_percentages(await self.reference.vat_codes(self.client, force=force))

    async def create(self, draft: LedgerDoc) -> LedgerDoc:
        mode, _, _ = _placement(draft)
        header = self._header(draft)
        credit = draft.op == Op.CREDIT
        try:
            if mode == BookingMode.INVOICE:
                body = invoice_body(draft.plan, header, await self._percentages(), credit=credit)
                await self.client.create_invoice(body)
            elif mode == BookingMode.SALES:
                await self.client.create_sales(sales_body(draft.plan, header, credit=credit))
            else:
                vat_account = self.adapter.settings.financial_vat_account
                body = financial_body(draft.plan, header, vat_account=vat_account, credit=credit)
                await self.client.create_financial(body)
        except PermanentError as error:
            await self._why_refused(draft, error)
            raise
        return draft

    async def _why_refused(self, draft: LedgerDoc, error: PermanentError) -> None:
        """Ask Octopus what a refused create means; returns when nobody knows (the runtime
        then reads the number back, and else shows Octopus' own words)."""
        mode, placement, journal = _placement(draft)
        if error.status == 403:
            # Documented: a journal closed or locked by another user; the invoicing module
            # off answers 403 too (notes §6.3, §7). Ask which.
            if mode == BookingMode.INVOICE and await self._module_off(placement, journal):
                raise Refusal("invoice_module_off") from None
            journals = await self.reference.journals(self.client, placement.bookyear_id, force=True)
            found = next((j for j in journals if str(j.get("journalKey")) == journal), {})
            if found.get("closed"):
                raise Refusal("journal_closed", journal=journal) from None
            raise TransientError(
                f"Octopus refused the journal for now (in use?): {octopus_message(error)}",
                status=403,
            ) from None
        if draft.debtor.source == "index" and not await self.adapter.relations.exists(
            self.client, draft.debtor
        ):
            # Deleted or merged in Octopus since we indexed it: find or create it anew.
            await self.adapter.relations.forget(
                self.client.account.dossier_key, draft.debtor.email or ""
            )
            raise TransientError(f"relation {draft.debtor.label()} is gone") from None
        if draft.debtor.source == "collective" and not await self.adapter.relations.exists(
            self.client, draft.debtor
        ):
            self.adapter.relations.forget_debtor(self.client.account.dossier_key, draft.debtor)
            raise TransientError(f"relation {draft.debtor.label()} is gone") from None

    async def _module_off(self, placement: Placement, journal: str) -> bool:
        try:
            await self.client.invoices(
                bookyearId=placement.bookyear_id, journalKey=journal, documentSequenceNr=0
            )
        except PermanentError as error:
            return error.status == 403
        return False

    async def replace(self, current: LedgerDoc, draft: LedgerDoc) -> LedgerDoc:
        mode, placement, journal = _placement(current)
        if mode != BookingMode.INVOICE or self.options.booking_mode != BookingMode.INVOICE:
            # Sales bookings and financial mutations are booked documents: they are
            # reversed (credited) and booked again, never edited.
            raise NotReplaceable()
        await self._check_reference(mode, placement, journal, draft.plan)
        header = self._header(draft)
        try:
            body = invoice_body(draft.plan, header, await self._percentages())
            await self.client.update_invoice(body)
        except PermanentError:
            # Booked meanwhile? A booked concept is a sales booking under the same key.
            booked = await self.client.buysell_bookings(
                bookyearKeyId=placement.bookyear_id,
                journalKey=journal,
                documentSequenceNr=int(current.number),
            )
            if booked:
                raise NotReplaceable() from None
            raise
        return draft

    # ---- reading ---------------------------------------------------------------------------

    async def read(self, doc: LedgerDoc) -> ReadBack | None:
        """What the journal holds under the document's number. A sales journal's numbers are
        shared by concept invoices and sales bookings: when the document's own kind has
        nothing there, the other kind is asked too (a number can be taken by either)."""
        mode, placement, journal = _placement(doc)
        if mode == BookingMode.FINANCIAL:
            rows = await self.client.financial_bookings(
                bookyearKeyId=placement.bookyear_id,
                journalKey=journal,
                documentSequenceNr=int(doc.number),
            )
            return read_financial(rows[0]) if rows else None
        kinds = (self._read_invoice, self._read_sales)
        if mode == BookingMode.SALES:
            kinds = (self._read_sales, self._read_invoice)
        for read in kinds:
            found = await read(placement, journal, int(doc.number))
            if found is not None:
                return found
        return None

    async def _read_invoice(self, placement: Placement, journal: str, nr: int) -> ReadBack | None:
        try:
            found = await self.client.invoices(
                bookyearId=placement.bookyear_id, journalKey=journal, documentSequenceNr=nr
            )
        except PermanentError as error:
            if error.status == 403:  # no invoicing module: no concept invoices either
                return None
            raise
        if not found:
            return None
        percentages = await self._percentages()
        codes = {str(ln.get("vatCodeKey")) for ln in found[0].get("invoiceLines") or []}
        if not codes <= percentages.keys():
            percentages = await self._percentages(force=True)
        return read_invoice(found[0], percentages)

    async def _read_sales(self, placement: Placement, journal: str, nr: int) -> ReadBack | None:
        rows = await self.client.buysell_bookings(
            bookyearKeyId=placement.bookyear_id, journalKey=journal, documentSequenceNr=nr
        )
        return read_sales(rows[0], await self._percentages()) if rows else None

    async def find(self, doc: LedgerDoc) -> list[ReadBack]:
        """The journal's documents of the book year with the same reference."""
        mode, placement, journal = _placement(doc)
        if mode == BookingMode.INVOICE:
            rows = await self.client.invoices(bookyearId=placement.bookyear_id, journalKey=journal)
            percentages = await self._percentages()
            found = []
            for row in rows:
                if str(row.get("reference") or "") != doc.reference:
                    continue
                try:
                    found.append(read_invoice(row, percentages))
                except KeyError:  # a VAT code we never used: not one of our documents
                    continue
            return found
        if mode == BookingMode.SALES:
            rows = await self.client.buysell_bookings(
                bookyearKeyId=placement.bookyear_id, journalKey=journal
            )
            percentages = await self._percentages()
            return [
                r
                for r in (read_sales(row, percentages) for row in rows)
                if r.reference == doc.reference
            ]
        rows = await self.client.financial_bookings(
            bookyearKeyId=placement.bookyear_id, journalKey=journal
        )
        return [r for r in (read_financial(row) for row in rows) if r.reference == doc.reference]

    def explain(self, error: ExternalError) -> Refusal | None:
        return None  # Octopus' error codes are undocumented: its own words are shown

    def ledger_ref(self, doc: LedgerDoc) -> LedgerRef:
        _, placement, journal = _placement(doc)
        return LedgerRef(
            booking_id=f"{placement.bookyear_id}/{journal}/{doc.number}",
            document_number=doc.number,
            debtor_id=doc.debtor.id or doc.debtor.external_id,
            journal=journal,
        )

    async def forget_reference(self) -> None:
        await self.reference.forget(self.client)


def _comment(doc: LedgerDoc, language: Language) -> str:
    nl = language == Language.NL
    what = ("Creditnota order" if nl else "Credit note order") if doc.op == Op.CREDIT else "Order"
    return f"{what} {doc.reference}"[:250]


class OctopusAdapter:
    system = LedgerSystem.OCTOPUS
    source_system = SourceSystem.OCTOPUS
    component = "ledger-octopus"
    display_name = "Octopus"
    texts = OCTOPUS_TEXTS
    settings_fixable = FIXABLE
    can_replace = True

    def __init__(
        self,
        settings: LedgerOctopusSettings,
        db: AsyncDatabase[Document],
        metrics: LedgerMetrics | None,
        secrets: SecretBox,
    ) -> None:
        self.settings = settings
        self.clients = ClientRegistry(
            secrets,
            ClientOptions(
                timeout_seconds=settings.http_timeout_seconds,
                max_attempts=settings.http_max_attempts,
                max_retry_seconds=settings.http_max_retry_seconds,
                initial_backoff=settings.http_initial_backoff_seconds,
                max_backoff=settings.http_max_backoff_seconds,
                token_lifetime_seconds=settings.token_lifetime_seconds,
            ),
            metrics,
        )
        self.reference = ReferenceCache(db, settings.reference_refresh)
        self.relations = RelationIndex(db, settings.relation_refresh)

    def session(self, connection_id: str, settings: ConnectionSettings) -> OctopusSession:
        return OctopusSession(self, self.clients.get(connection_id, settings), settings)

    def drop(self, connection_id: str) -> None:
        self.clients.drop(connection_id)

    async def maintain(self) -> None:
        """Number claims only matter while workers draw near the same number."""
        await self.reference.purge_claims(older_than=timedelta(days=1))

    async def describe(self, settings: ConnectionSettings) -> LedgerDescription:
        return await describe(self.clients, settings)

    async def forget_customer(self, settings: ConnectionSettings, customer: ErasedCustomer) -> None:
        """An erased customer (koppel_ledger.privacy): their e-mail leaves the relation
        index (one without an e-mail has no entry there). Octopus keeps the relation (the
        merchant's books); an order of theirs found later is matched by a sync again."""
        dossier = OctopusAccount.from_settings(settings).dossier_key
        for email in customer.emails:
            await self.relations.forget(dossier, email)

    async def aclose(self) -> None:
        await self.clients.aclose()


INDEXES = [*debtors.INDEXES]

__all__ = ["INDEXES", "OctopusAdapter", "OctopusSession"]
