"""Asperion as a ledger of the runtime — a file ledger: the "ledger" is this service's own
store of validated UBL documents, delivered to the merchant once a day (`deliveries`).

- number: the shop's order number (optionally year-prefixed, like SnelStart's
  `year_in_invoice_number`); a later invoice of the same order (after a credit note) is
  `<number>-2`, `-3`…; a credit note is `<number of the invoice it cancels>-C`.
- placement: the document's context (buyer, treatment, dates; `context.py`) and kind, so
  the document can be written again from the `LedgerDoc` alone.
- create: write and validate (XSD + EN 16931 + NLCIUS), then one unique insert keyed by
  connection + kind + number. A taken id is refused like a ledger refuses a duplicate
  number; the runtime then reads the number back and adopts it when it is ours.
- read: parse the stored XML (what the delivery will hold, byte for byte).
- replace: only while no delivery holds the document (`documents.DocumentStore.replace`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections import OrderedDict
from dataclasses import replace
from decimal import Decimal

from koppel_chassis import ExternalError, PermanentError, TransientError
from koppel_chassis.mongo import AsyncDatabase, Document
from koppel_contracts import (
    AsperionOptions,
    ConnectionSettings,
    LedgerRef,
    LedgerSystem,
    SourceSystem,
)
from koppel_ledger import (
    LEDGER_ZONE,
    Debtor,
    DraftRequest,
    ErasedCustomer,
    LedgerDescription,
    LedgerDoc,
    NotReplaceable,
    ReadBack,
    Refusal,
    SettingsIncomplete,
    utcnow,
)
from koppel_ubl import ArtefactError, read_totals, validate, write_document

from .context import DocumentContext, context_for_order
from .describe import describe
from .documents import DocumentStore, StoredDocument, document_id
from .erasure import CustomerEraser
from .mapping import build_document, check_categories
from .texts import ASPERION_TEXTS, FIXABLE

log = logging.getLogger(__name__)

_RULE_ID = re.compile(r"\b(BR-[A-Z0-9-]*[0-9]+|UBL-[A-Z0-9-]+|XSD)\b")
MAX_SUFFIX = 1000


def base_number(order_number: str, year: int, year_prefix: bool) -> str:
    """Order 10330 of 2023 becomes 202310330 with the year prefix (as in SnelStart)."""
    if not year_prefix:
        return order_number
    return f"{year}{order_number}" if order_number.isdigit() else f"{year}-{order_number}"


def credit_number(invoice_number: str) -> str:
    return f"{invoice_number}-C"


def numbered(base: str, attempt: int) -> str:
    return base if attempt == 1 else f"{base}-{attempt}"


def context_of(doc: LedgerDoc) -> DocumentContext:
    return DocumentContext.from_placement(doc.placement["document"])


def kind_of(doc: LedgerDoc) -> str:
    return str(doc.placement["kind"])


def read_back(stored: StoredDocument, doc: LedgerDoc | None = None) -> ReadBack:
    """The stored XML as the check compares it. The reference is the order number only
    when the document is the one `doc` means (same order and revision): a document of
    another order, or an earlier document of this one, under the number is not ours."""
    back = read_totals(stored.xml)
    sign = Decimal(-1) if stored.credit else Decimal(1)
    vat: dict[Decimal, Decimal] = {}
    for item in back.vat:
        vat[item.vat.rate] = vat.get(item.vat.rate, Decimal(0)) + item.tax_amount * sign
    reference = back.order_reference or stored.reference
    # The debtor as the document names it: the buyer's e-mail, or the collective debtor's
    # name (it has no e-mail) — what `prepare` put in the LedgerDoc's debtor.
    debtor = back.buyer.email
    if doc is not None and doc.debtor.source == "collective":
        debtor = back.buyer.legal_name
    if doc is not None:
        same = stored.order_id == context_of(doc).order_id and stored.revision == doc.revision
        if not same:
            reference = f"{reference} [{stored.order_id} #{stored.revision}]"
    return ReadBack(
        number=back.number,
        reference=reference,
        credit=stored.credit,
        total_incl_vat=back.totals.tax_inclusive * sign,
        vat_per_rate=vat,
        debtor_external_id=debtor,
        ledger_id=stored.id,
    )


class AsperionSession:
    """One connection's documents."""

    def __init__(
        self, adapter: AsperionAdapter, connection_id: str, settings: ConnectionSettings
    ) -> None:
        options = settings.ledger.asperion or AsperionOptions()
        if options.seller is None:
            raise SettingsIncomplete("ledger.asperion.seller")
        if not options.seller.vat_number:
            raise SettingsIncomplete("ledger.asperion.seller.vat_number")
        self.adapter = adapter
        self.connection_id = connection_id
        self.settings = settings
        self.options = options

    @property
    def store(self) -> DocumentStore:
        return self.adapter.store

    # ---- preparing ------------------------------------------------------------------------

    async def prepare(self, request: DraftRequest, *, number: str | None = None) -> LedgerDoc:
        if request.source is not None:  # a credit note mirrors the document it cancels
            today = utcnow().astimezone(LEDGER_ZONE).date()
            context = context_of(request.source).credit_for(request.source.number, today)
            debtor = request.source.debtor
            base = credit_number(request.source.number)
        else:
            order = request.event.order
            context = context_for_order(order, self.settings, order_id=request.order_id)
            if context.collective:  # the connection's collective debtor, known by its name
                debtor = Debtor(id=None, external_id=context.buyer.name, source="collective")
            else:
                email = order.customer.email
                debtor = Debtor(id=None, external_id=email, source="per_order", email=email)
            year_prefix = self.options.year_in_invoice_number
            base = base_number(order.order_number, context.issue_date.year, year_prefix)
        if number is None:
            reuse = request.reuse
            if reuse is not None and reuse.placement.get("kind") == context.kind:
                number = reuse.number  # the earlier attempt's number: a create that landed
            else:  # after all is then refused as taken, read back and adopted
                number = await self._free_number(context.kind, base)
        elif number == "":
            number = base  # a probe for `find`: no number needed yet
        draft = LedgerDoc(
            op=request.op,
            revision=request.revision,
            number=number,
            reference=context.order_number,
            debtor=debtor,
            plan=request.plan,
            placement={"kind": context.kind, "base": base, "document": context.to_placement()},
        )
        await self.write(draft)  # refuse before any intent: mapping and rules checked
        return draft

    async def _free_number(self, kind: str, base: str, after: int = 0) -> str:
        for attempt in range(after + 1, MAX_SUFFIX):
            number = numbered(base, attempt)
            if not await self.store.exists(document_id(self.connection_id, kind, number)):
                return number
        raise Refusal("number_taken", number=base)

    async def renumber(self, draft: LedgerDoc) -> LedgerDoc:
        base = str(draft.placement["base"])
        taken = draft.number[len(base) + 1 :] if draft.number != base else "1"
        after = int(taken) if taken.isdigit() else 1
        return draft.with_number(await self._free_number(kind_of(draft), base, after))

    async def write(self, draft: LedgerDoc) -> bytes:
        """The document's XML, validated once per content (raises Refusal, TransientError)."""
        document = build_document(
            draft.plan,
            context_of(draft),
            number=draft.number,
            options=self.options,
            language=self.settings.merchant.language,
        )
        try:
            xml = write_document(document)
        except ValueError as error:  # the writer names the EN 16931 rule it enforces
            rules = ", ".join(dict.fromkeys(_RULE_ID.findall(str(error)))) or "EN 16931"
            raise Refusal(
                "ubl_invalid", number=draft.number, rules=rules, message=str(error)
            ) from None
        await self.adapter.validated(xml, draft.number)
        return xml

    # ---- creating, replacing --------------------------------------------------------------

    def _stored(self, draft: LedgerDoc, xml: bytes) -> StoredDocument:
        kind = kind_of(draft)
        return StoredDocument(
            id=document_id(self.connection_id, kind, draft.number),
            connection_id=self.connection_id,
            order_id=context_of(draft).order_id,
            kind=kind,
            number=draft.number,
            reference=draft.reference,
            revision=draft.revision,
            xml=xml,
            expected_total=draft.expected_total,
            expected_vat=draft.expected_vat_per_rate(),
            created_at=utcnow(),
        )

    async def create(self, draft: LedgerDoc) -> LedgerDoc:
        stored = self._stored(draft, await self.write(draft))
        if not await self.store.insert(stored):
            raise PermanentError(f"document {draft.number} exists already", status=409)
        return replace(draft, ledger_id=stored.id)

    async def replace(self, current: LedgerDoc, draft: LedgerDoc) -> LedgerDoc:
        # The runtime gives the new revision's plan and the current document's context
        # (no order): when the plan no longer fits that context (another VAT treatment),
        # the document is credited and a new one written from the new order instead.
        try:
            check_categories(draft.plan, context_of(current).treatment)
        except Refusal:
            raise NotReplaceable() from None
        stored = self._stored(draft, await self.write(draft))
        await self.store.replace(
            stored.id,
            xml=stored.xml,
            revision=stored.revision,
            expected_total=stored.expected_total,
            expected_vat=stored.expected_vat,
        )
        return replace(draft, ledger_id=stored.id)

    # ---- reading --------------------------------------------------------------------------

    async def read(self, doc: LedgerDoc) -> ReadBack | None:
        stored = await self.store.get(document_id(self.connection_id, kind_of(doc), doc.number))
        return read_back(stored, doc) if stored is not None else None

    async def find(self, doc: LedgerDoc) -> list[ReadBack]:
        found = await self.store.by_reference(self.connection_id, kind_of(doc), doc.reference)
        return [read_back(stored) for stored in found]

    def explain(self, error: ExternalError) -> Refusal | None:
        return None  # the only refusal a create meets is a taken number (read back)

    def ledger_ref(self, doc: LedgerDoc) -> LedgerRef:
        return LedgerRef(
            booking_id=f"{kind_of(doc)}:{doc.number}",
            document_number=doc.number,
            debtor_id=doc.debtor.id or doc.debtor.external_id,
        )

    async def forget_reference(self) -> None:
        return None  # nothing cached that a refusal could make wrong


class AsperionAdapter:
    system = LedgerSystem.ASPERION
    source_system = SourceSystem.ASPERION
    component = "ledger-asperion"
    display_name = "Asperion"
    texts = ASPERION_TEXTS
    settings_fixable = FIXABLE
    can_replace = True

    def __init__(self, db: AsyncDatabase[Document], *, validated_cache: int = 4096) -> None:
        self.store = DocumentStore(db)
        self.eraser = CustomerEraser(db, self.store)
        self._valid: OrderedDict[str, None] = OrderedDict()
        self._cache_size = validated_cache

    def session(self, connection_id: str, settings: ConnectionSettings) -> AsperionSession:
        return AsperionSession(self, connection_id, settings)

    async def validated(self, xml: bytes, number: str) -> None:
        """XSD + EN 16931 (+ NLCIUS when claimed), once per distinct content."""
        digest = hashlib.sha256(xml).hexdigest()
        if digest in self._valid:
            self._valid.move_to_end(digest)
            return
        try:
            report = await asyncio.to_thread(validate, xml)
        except ArtefactError as error:  # the official rules could not be fetched yet
            raise TransientError(f"validation artefacts unavailable: {error}") from None
        if not report.ok:
            fatal = [p for p in report.problems if p.flag == "fatal"]
            log.warning("document refused by the rules", extra={"rules": report.fatal_ids})
            raise Refusal(
                "ubl_invalid",
                number=number,
                rules=", ".join(report.fatal_ids),
                message=fatal[0].text if fatal else "",
            )
        self._valid[digest] = None
        if len(self._valid) > self._cache_size:
            self._valid.popitem(last=False)

    async def describe(self, settings: ConnectionSettings) -> LedgerDescription:
        return await describe(self, settings)

    async def forget_customer(self, settings: ConnectionSettings, customer: ErasedCustomer) -> None:
        """An erased customer (koppel_ledger.privacy): their documents in this service —
        stored, and in the sealed ZIPs — name the anonymous debtor instead (`erasure`)."""

        async def write(connection_id: str, draft: LedgerDoc) -> bytes:
            return await AsperionSession(self, connection_id, settings).write(draft)

        await self.eraser.forget(customer, write)

    def drop(self, connection_id: str) -> None:
        return None  # no clients or tokens per connection

    async def maintain(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


__all__ = ["AsperionAdapter", "AsperionSession", "base_number", "credit_number", "read_back"]
