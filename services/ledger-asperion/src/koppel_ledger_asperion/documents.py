"""The file ledger's own store: every document written, and which delivery holds it.

- `asperion_documents` — one per document, `_id` = connection | kind | number: the
  unique insert that makes a create happen once. Holds the validated XML and the figures
  the document must read back to (the plan's, signed: a credit note is negative).
- `asperion_pending` — a small collection of documents not yet in a delivery (`_id` =
  the document's), so collecting a day's documents never reads the whole history. The
  marker is written *before* the document, so a crash in between leaves a marker without
  a document (skipped), never a document without a marker (which no delivery would find).
- `asperion_placements` — `_id` = the document's: the unique insert that puts a document
  in exactly one delivery (`delivery_id`), or a short `hold` while a replacement is
  written, so sealing and replacing can never both win (FerretDB's conditional updates
  are not exclusive; inserts with a unique `_id` are, see docs/CONVENTIONS.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bson import Binary
from koppel_chassis.mongo import AsyncDatabase, Document, DuplicateKeyError
from koppel_ledger import NotReplaceable, utcnow
from koppel_ledger.records import aware

DOCUMENTS = "asperion_documents"
PENDING = "asperion_pending"
PLACEMENTS = "asperion_placements"

Clock = Callable[[], datetime]


def document_id(connection_id: str, kind: str, number: str) -> str:
    return f"{connection_id}|{kind}|{number}"


def vat_doc(vat: dict[Decimal, Decimal]) -> list[dict[str, str]]:
    # FerretDB stores no nested arrays: one small document per rate.
    return [{"rate": str(r), "amount": str(a)} for r, a in sorted(vat.items())]


@dataclass(frozen=True)
class StoredDocument:
    id: str
    connection_id: str
    order_id: str
    kind: str  # "invoice" | "credit_note"
    number: str
    reference: str  # the shop's order number
    revision: int
    xml: bytes
    expected_total: Decimal
    expected_vat: dict[Decimal, Decimal]
    created_at: datetime
    delivery_id: str | None = None

    @property
    def credit(self) -> bool:
        return self.kind == "credit_note"

    def to_doc(self) -> Document:
        return {
            "_id": self.id,
            "connection_id": self.connection_id,
            "order_id": self.order_id,
            "kind": self.kind,
            "number": self.number,
            "reference": self.reference,
            "revision": self.revision,
            "xml": Binary(self.xml),
            "expected_total": str(self.expected_total),
            "expected_vat": vat_doc(self.expected_vat),
            "created_at": self.created_at,
            "delivery_id": self.delivery_id,
        }

    @classmethod
    def from_doc(cls, doc: Document) -> StoredDocument:
        return cls(
            id=doc["_id"],
            connection_id=doc["connection_id"],
            order_id=doc["order_id"],
            kind=doc["kind"],
            number=doc["number"],
            reference=doc["reference"],
            revision=int(doc["revision"]),
            xml=bytes(doc["xml"]),
            expected_total=Decimal(doc["expected_total"]),
            expected_vat={Decimal(v["rate"]): Decimal(v["amount"]) for v in doc["expected_vat"]},
            created_at=aware(doc["created_at"]),
            delivery_id=doc.get("delivery_id"),
        )


@dataclass(frozen=True)
class Placement:
    document_id: str
    delivery_id: str | None
    hold: str | None
    at: datetime

    @classmethod
    def from_doc(cls, doc: Document) -> Placement:
        return cls(doc["_id"], doc.get("delivery_id"), doc.get("hold"), aware(doc["at"]))


class DocumentStore:
    def __init__(self, db: AsyncDatabase[Document], clock: Clock = utcnow) -> None:
        self.documents = db[DOCUMENTS]
        self.pending = db[PENDING]
        self.placements = db[PLACEMENTS]
        self.clock = clock

    # ---- documents ------------------------------------------------------------------------

    async def insert(self, document: StoredDocument) -> bool:
        """Store a new document exactly once; False when its id is taken already."""
        try:
            await self.pending.insert_one(
                {"_id": document.id, "connection_id": document.connection_id, "at": self.clock()}
            )
        except DuplicateKeyError:
            pass  # an earlier attempt's marker
        try:
            await self.documents.insert_one(document.to_doc())
        except DuplicateKeyError:
            return False
        return True

    async def get(self, doc_id: str) -> StoredDocument | None:
        found = await self.documents.find_one({"_id": doc_id})
        return StoredDocument.from_doc(found) if found else None

    async def exists(self, doc_id: str) -> bool:
        return await self.documents.find_one({"_id": doc_id}, {"_id": 1}) is not None

    async def of_connection(self, connection_id: str) -> list[StoredDocument]:
        """Every document of a connection (reads the whole collection on FerretDB: for
        tests, the harness and operators, never on a hot path)."""
        cursor = self.documents.find({"connection_id": connection_id}).sort("created_at", 1)
        return [StoredDocument.from_doc(d) async for d in cursor]

    async def by_reference(self, connection_id: str, kind: str, reference: str) -> list[Any]:
        cursor = self.documents.find(
            {"connection_id": connection_id, "kind": kind, "reference": reference}
        )
        return [StoredDocument.from_doc(d) async for d in cursor]

    # ---- replacing while not yet delivered ------------------------------------------------

    async def replace(
        self,
        doc_id: str,
        *,
        xml: bytes,
        revision: int,
        expected_total: Decimal,
        expected_vat: dict[Decimal, Decimal],
    ) -> None:
        """Change a document that no delivery holds yet. Raises NotReplaceable when one
        does — unless it holds this very revision (a replacement that finished before a
        crash, sealed since)."""
        token = uuid.uuid4().hex
        while True:
            try:
                await self.placements.insert_one({"_id": doc_id, "hold": token, "at": self.clock()})
                break
            except DuplicateKeyError:
                found = await self.placements.find_one({"_id": doc_id})
                if found is None:
                    continue  # released meanwhile: try again
                placement = Placement.from_doc(found)
                if placement.delivery_id is not None:
                    stored = await self.get(doc_id)
                    if stored is not None and stored.revision == revision:
                        return  # replaced before a crash; it is delivered as it is now
                    raise NotReplaceable() from None
                # A hold of an earlier attempt: the order's owner (us) never finished it.
                await self.placements.delete_one({"_id": doc_id, "hold": placement.hold})
        try:
            await self.documents.update_one(
                {"_id": doc_id},
                {
                    "$set": {
                        "xml": Binary(xml),
                        "revision": revision,
                        "expected_total": str(expected_total),
                        "expected_vat": vat_doc(expected_vat),
                        "replaced_at": self.clock(),
                    }
                },
            )
        finally:
            await self.placements.delete_one({"_id": doc_id, "hold": token})

    # ---- placements (used by deliveries) --------------------------------------------------

    async def pending_of(self, connection_id: str) -> list[str]:
        """Documents of a connection no delivery has finished with (small collection)."""
        cursor = self.pending.find({"connection_id": connection_id}, {"_id": 1})
        return sorted([d["_id"] async for d in cursor])

    async def placement(self, doc_id: str) -> Placement | None:
        found = await self.placements.find_one({"_id": doc_id})
        return Placement.from_doc(found) if found else None

    async def claim(self, doc_id: str, delivery_id: str) -> Placement:
        """Put a document in a delivery unless it is in one (or held): the placement that
        stands afterwards."""
        now = self.clock()
        try:
            await self.placements.insert_one({"_id": doc_id, "delivery_id": delivery_id, "at": now})
        except DuplicateKeyError:
            found = await self.placements.find_one({"_id": doc_id})
            if found is None:
                return await self.claim(doc_id, delivery_id)  # a hold went away meanwhile
            return Placement.from_doc(found)
        return Placement(doc_id, delivery_id, None, now)

    async def unclaim(self, doc_id: str, delivery_id: str) -> None:
        """A claim the sealed delivery does not list: the document goes back to pending."""
        await self.placements.delete_one({"_id": doc_id, "delivery_id": delivery_id})

    async def drop_stale_hold(self, placement: Placement, older_than: timedelta) -> bool:
        if placement.hold is None or self.clock() - placement.at < older_than:
            return False
        await self.placements.delete_one({"_id": placement.document_id, "hold": placement.hold})
        return True

    async def delivered(self, doc_ids: list[str], delivery_id: str) -> None:
        """After the seal: note the delivery on each document, then drop the markers."""
        for doc_id in doc_ids:
            await self.documents.update_one({"_id": doc_id}, {"$set": {"delivery_id": delivery_id}})
        for doc_id in doc_ids:
            await self.pending.delete_one({"_id": doc_id})
