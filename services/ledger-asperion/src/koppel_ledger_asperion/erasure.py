"""An erased customer (`koppel_ledger.privacy`): Koppel's own copies forget them.

The runtime blanks the debtor e-mails in the order records and hands the customer (their
orders, their e-mails if any) to `AsperionAdapter.forget_customer`; this module then
removes the person from everything this service keeps of those orders:

- the order records' documents (`ledger`, `intent`, `last_credit`, `credits`): the buyer
  in their placement becomes the anonymous debtor the runtime books an erased customer on
  ("Verwijderde klanten", per destination country), the debtor follows it;
- every stored UBL document of those orders is written again from its plan with that
  buyer (the deliver-to is the country alone) and validated — delivered or not, so its
  totals and VAT per rate stay what was booked; one not yet delivered goes out like that;
- every sealed delivery holding one of them gets its ZIP packed again from the rewritten
  documents (a fresh GridFS file; the seal's file id, SHA-256 and size follow, the old
  file is dropped). A re-send then sends the anonymous copy: the merchant's books hold the
  original, Koppel keeps no second copy of the person (README, "Privacy").

Only what the order records name is touched, so another customer's documents never are.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from bson import Binary
from koppel_chassis import LeaseStore
from koppel_chassis.mongo import AsyncDatabase, Document
from koppel_ledger import CollectiveDebtor, ErasedCustomer, Refusal, utcnow
from koppel_ledger.debtor_choice import ERASED_DEBTOR, HOME_COUNTRY
from koppel_ledger.records import Debtor, LedgerDoc, Op
from koppel_ledger.store import ORDERS
from koppel_ubl.namespaces import path
from koppel_ubl.reader import parse

from .archive import DeliveryArchive
from .context import DocumentContext, Party, collective_buyer, shipped_to_country
from .deliveries import build_zip
from .documents import DocumentStore, StoredDocument
from .schedule import LEASES, lease_name

log = logging.getLogger(__name__)

# A document's validated XML, written from its LedgerDoc (`AsperionSession.write`).
Write = Callable[[str, LedgerDoc], Awaitable[bytes]]

# As long as a delivery pass may hold its lease (`delivery_lease_seconds`' default).
LEASE_WAIT = timedelta(minutes=5)

SLOTS = ("ledger", "intent", "last_credit")


def erased_buyer(context: DocumentContext) -> Party:
    """The anonymous debtor as buyer, in the country the VAT follows — what the runtime
    writes for an order whose key is erased (`context.context_for_order`), a business
    buyer's VAT number included (EN 16931 requires it for ICP, BR-IC-02)."""
    country = context.country
    choice = CollectiveDebtor(ERASED_DEBTOR, country, country == HOME_COUNTRY, "erased")
    return collective_buyer(choice, context.buyer.vat_number)


def names_customer(doc: dict[str, Any], emails: set[str]) -> bool:
    """Whether a stored LedgerDoc (its `to_doc` shape) is one of the erased customer's."""
    debtor = doc.get("debtor") or {}
    buyer = ((doc.get("placement") or {}).get("document") or {}).get("buyer") or {}
    found = {debtor.get("external_id"), debtor.get("email"), buyer.get("email")}
    return bool(found & emails)


def anonymised(doc: LedgerDoc) -> LedgerDoc:
    context = DocumentContext.from_placement(doc.placement["document"])
    buyer = erased_buyer(context)
    context = replace(context, buyer=buyer, delivery=shipped_to_country(buyer), collective=True)
    placement = {**doc.placement, "document": context.to_placement()}
    debtor = Debtor(id=None, external_id=buyer.name, source="collective")
    return replace(doc, placement=placement, debtor=debtor)


def issue_date_of(xml: bytes) -> date:
    found = parse(xml).find(path("cbc:IssueDate"))
    assert found is not None and found.text, "a stored document without an issue date"
    return date.fromisoformat(found.text)


class CustomerEraser:
    def __init__(self, db: AsyncDatabase[Document], store: DocumentStore) -> None:
        self.orders = db[ORDERS]
        self.store = store
        self.archive = DeliveryArchive(db)
        self.leases = LeaseStore(db[LEASES])

    async def forget(self, customer: ErasedCustomer, write: Write) -> None:
        connection_id = customer.connection_id
        # The delivery lease: no delivery is sealed from the old documents meanwhile.
        async with self._owning(connection_id):
            sources = await self._anonymise_records(customer)
            if not sources:
                return
            touched = await self._rewrite_documents(connection_id, sources, write)
            await self._repack_deliveries(connection_id, touched)
        log.info(
            "an erased customer's documents made anonymous",
            extra={"connection_id": connection_id, "documents": len(touched)},
        )

    @contextlib.asynccontextmanager
    async def _owning(self, connection_id: str) -> AsyncIterator[None]:
        """The connection's delivery lease, waited for as long as a lease lasts (a pass
        that died lets it expire); then the erasure goes on without it: forgetting the
        customer matters more than a delivery that might still hold the old document."""
        name = lease_name(connection_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LEASE_WAIT.total_seconds()
        while not (owned := await self.leases.acquire(name, LEASE_WAIT)):
            if loop.time() >= deadline:
                log.warning("erasing without the delivery lease", extra={"lease": name})
                break
            await asyncio.sleep(0.2)
        try:
            yield
        finally:
            if owned:
                await self.leases.release(name)

    # ---- the order records ----------------------------------------------------------------

    async def _anonymise_records(self, customer: ErasedCustomer) -> dict[str, list[LedgerDoc]]:
        """Per order id, the anonymised LedgerDocs of the customer's orders: those sealed
        with their key (with or without an e-mail), and any other document booked on
        their e-mail."""
        sources: dict[str, list[LedgerDoc]] = {}
        projection = {"credits": 1, **{slot: 1 for slot in SLOTS}}
        emails = set(customer.emails)
        # By connection: the records do not index their debtor (erasures are rare).
        found = self.orders.find({"connection_id": customer.connection_id}, projection)
        async for record in found:
            theirs = record["_id"] in customer.order_ids
            update: dict[str, Any] = {}
            docs: list[LedgerDoc] = []
            for slot in SLOTS:
                value = record.get(slot)
                if value and (theirs or names_customer(value, emails)):
                    doc = anonymised(LedgerDoc.from_doc(value))
                    update[slot] = doc.to_doc()
                    docs.append(doc)
            credits = record.get("credits") or []
            if any(theirs or names_customer(c, emails) for c in credits):
                rewritten = [
                    anonymised(LedgerDoc.from_doc(c))
                    if theirs or names_customer(c, emails)
                    else None
                    for c in credits
                ]
                update["credits"] = [
                    new.to_doc() if new is not None else old
                    for new, old in zip(rewritten, credits, strict=True)
                ]
                docs += [doc for doc in rewritten if doc is not None]
            if update:
                await self.orders.update_one({"_id": record["_id"]}, {"$set": update})
                sources[record["_id"]] = docs
        return sources

    # ---- the stored documents -------------------------------------------------------------

    async def _rewrite_documents(
        self, connection_id: str, sources: dict[str, list[LedgerDoc]], write: Write
    ) -> list[str]:
        touched: list[str] = []
        for order_id, docs in sources.items():
            drafts = {(str(d.placement["kind"]), d.number): d for d in docs}
            for doc in docs:  # a credited invoice lives on in its credit note's placement
                if doc.op == Op.CREDIT and doc.cancels:
                    drafts.setdefault(("invoice", doc.cancels), doc)
            found = self.store.documents.find(
                {"connection_id": connection_id, "order_id": order_id}
            )
            for stored in [StoredDocument.from_doc(d) async for d in found]:
                source = drafts.get((stored.kind, stored.number))
                if source is None:
                    log.error(
                        "an erased customer's document has no record to write it from",
                        extra={"connection_id": connection_id, "document": stored.id},
                    )
                    continue
                try:
                    xml = await write(connection_id, self._draft_for(stored, source))
                except Refusal as refusal:  # the rules refuse it: the others go on
                    log.error(
                        "an erased customer's document could not be written anonymously",
                        extra={
                            "connection_id": connection_id,
                            "document": stored.id,
                            "reason": refusal.reason_code,
                        },
                    )
                    continue
                await self.store.documents.update_one(
                    {"_id": stored.id}, {"$set": {"xml": Binary(xml), "erased_at": utcnow()}}
                )
                touched.append(stored.id)
        return touched

    @staticmethod
    def _draft_for(stored: StoredDocument, source: LedgerDoc) -> LedgerDoc:
        """The LedgerDoc that writes `stored` again: its own, or — for an invoice that was
        credited — its credit note's, turned back into the invoice it mirrors."""
        if stored.kind == source.placement["kind"]:
            return source
        context = DocumentContext.from_placement(source.placement["document"])
        context = replace(
            context, kind="invoice", invoice_reference=None, issue_date=issue_date_of(stored.xml)
        )
        placement = {**source.placement, "kind": "invoice", "document": context.to_placement()}
        return replace(
            source, op=Op.INVOICE, number=stored.number, placement=placement, cancels=None
        )

    # ---- the sealed deliveries ------------------------------------------------------------

    async def _repack_deliveries(self, connection_id: str, touched: list[str]) -> None:
        ids = set(touched)
        for delivery in await self.archive.of_connection(connection_id):
            if not ids & set(delivery.documents):
                continue
            documents = [await self.store.get(doc_id) for doc_id in delivery.documents]
            data = build_zip([d for d in documents if d is not None], delivery.day)
            sha256 = hashlib.sha256(data).hexdigest()
            if sha256 == delivery.sha256:
                continue  # packed again by an earlier attempt of this erasure
            file_id = await self.archive.store_file(delivery.id, connection_id, delivery.name, data)
            await self.archive.records.update_one(
                {"_id": delivery.id},
                {
                    "$set": {
                        "file_id": file_id,
                        "sha256": sha256,
                        "size": len(data),
                        "erased_at": utcnow(),
                    }
                },
            )
            await self.archive.drop_file(delivery.file_id)


__all__ = ["CustomerEraser", "erased_buyer", "names_customer"]
