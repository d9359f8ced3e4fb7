"""ingest-ccv's own MongoDB state.

- `ccv_orders`: one document per CCV order id we have seen (unique per
  connection + id): which order it belongs to (`order_ref`), whether a
  re-issue replaced it, and a fingerprint of its last-seen resource.
- `order_refs`: one document per order (unique per connection + order_ref,
  the first CCV id of the order): the revision published last, its booking
  fingerprint and content hash, the order as published, and an outbox.
- `ccv_connections`: per connection: its webhook registrations (keys
  encrypted), whether CCV refuses its credentials, and when it is next polled.
- `ingest_failures`: orders that could not be read, one per order and cause.

Publishing is an outbox in the order's own document: one conditional update
moves the order to its next revision AND stores the event to send; the event
is published and only then the outbox cleared. A crash in between leaves the
outbox, which the next touch of the order (or the poll) publishes again —
with the same event id, so consumers see a duplicate, never a gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from koppel_chassis import IndexSpec
from koppel_chassis.mongo import AsyncDatabase, Document, DuplicateKeyError
from pymongo import ReturnDocument

CCV_ORDERS = "ccv_orders"
ORDER_REFS = "order_refs"
# (connection, order number) -> order_ref: which order a CCV re-issue belongs to, found
# by `_id` (a query on order_refs' fields would read every order on FerretDB).
ORDER_NUMBERS = "order_numbers"
_NUMBERS_BACKFILLED = "__backfilled__"
CONNECTION_STATE = "ccv_connections"
INGEST_FAILURES = "ingest_failures"
LEASES = "leases"

INDEXES = [
    IndexSpec(CCV_ORDERS, [("connection_id", 1), ("ccv_order_id", 1)], unique=True),
    IndexSpec(ORDER_REFS, [("connection_id", 1), ("order_ref", 1)], unique=True),
    IndexSpec(ORDER_REFS, [("connection_id", 1), ("order_number", 1)]),
    IndexSpec(ORDER_REFS, [("connection_id", 1), ("placed_at", 1)]),
    IndexSpec(INGEST_FAILURES, [("connection_id", 1), ("ccv_order_id", 1)]),
]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class OrderRef:
    """What we know, and have published, about one order."""

    connection_id: str
    order_ref: str
    ccv_ordernumber: int | None
    source_order_id: str
    revision: int
    fingerprint: str | None
    cancelled: bool
    last_order: dict[str, Any] | None
    outbox: str | None

    @property
    def published(self) -> bool:
        return self.revision > 0

    @classmethod
    def from_doc(cls, doc: Document) -> OrderRef:
        return cls(
            connection_id=doc["connection_id"],
            order_ref=doc["order_ref"],
            ccv_ordernumber=doc.get("ccv_ordernumber"),
            source_order_id=doc["source_order_id"],
            revision=doc["revision"],
            fingerprint=doc.get("fingerprint"),
            cancelled=doc.get("cancelled", False),
            last_order=doc.get("last_order"),
            outbox=doc.get("outbox"),
        )


@dataclass(frozen=True)
class SeenOrder:
    """One CCV order id."""

    ccv_order_id: int
    order_ref: str
    resource_fingerprint: str | None
    superseded_by: int | None


@dataclass(frozen=True)
class Publication:
    """The next revision of an order, as the conditional update stores it."""

    revision: int
    fingerprint: str
    content_hash: str
    source_order_id: str
    order: dict[str, Any]
    cancelled: bool
    event_json: str
    event_id: str


def _key(connection_id: str, ident: object) -> str:
    return f"{connection_id}:{ident}"


class OrderStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.seen = db[CCV_ORDERS]
        self.refs = db[ORDER_REFS]
        self.numbers = db[ORDER_NUMBERS]
        self.failures = db[INGEST_FAILURES]

    async def seen_order(self, connection_id: str, ccv_order_id: int) -> SeenOrder | None:
        doc = await self.seen.find_one({"_id": _key(connection_id, ccv_order_id)})
        if doc is None:
            return None
        return SeenOrder(
            ccv_order_id=doc["ccv_order_id"],
            order_ref=doc["order_ref"],
            resource_fingerprint=doc.get("resource_fingerprint"),
            superseded_by=doc.get("superseded_by"),
        )

    async def ref(self, connection_id: str, order_ref: str) -> OrderRef | None:
        doc = await self.refs.find_one({"_id": _key(connection_id, order_ref)})
        return OrderRef.from_doc(doc) if doc else None

    async def ref_with_number(self, connection_id: str, order_number: str) -> OrderRef | None:
        """The order that already carries this order number (CCV re-issues keep it)."""
        entry = await self.numbers.find_one({"_id": _key(connection_id, order_number)})
        return await self.ref(connection_id, entry["order_ref"]) if entry else None

    async def _number_taken(self, connection_id: str, order_number: str, order_ref: str) -> str:
        """Record that `order_ref` carries the number, unless an order did first: the
        order_ref that carries it (a unique insert decides between replicas)."""
        key = _key(connection_id, order_number)
        try:
            await self.numbers.insert_one({"_id": key, "order_ref": order_ref})
        except DuplicateKeyError:
            entry = await self.numbers.find_one({"_id": key})
            return str(entry["order_ref"]) if entry else order_ref
        return order_ref

    async def backfill_numbers(self) -> int:
        """Once per database: number entries for orders stored before `order_numbers`
        existed (the oldest order with a number keeps it, as the old query had it)."""
        if await self.numbers.find_one({"_id": _NUMBERS_BACKFILLED}) is not None:
            return 0
        added = 0
        cursor = self.refs.find({}, {"connection_id": 1, "order_number": 1, "order_ref": 1}).sort(
            "created_at", 1
        )
        async for doc in cursor:
            if doc.get("order_number") is None:
                continue
            ref = str(doc["order_ref"])
            if await self._number_taken(doc["connection_id"], doc["order_number"], ref) == ref:
                added += 1
        await self.numbers.update_one(
            {"_id": _NUMBERS_BACKFILLED}, {"$set": {"at": _now()}}, upsert=True
        )
        return added

    async def resolve(
        self,
        connection_id: str,
        ccv_order_id: int,
        *,
        order_number: str,
        ccv_ordernumber: int | None,
        placed_at: datetime,
    ) -> tuple[OrderRef, SeenOrder]:
        """The order a CCV id belongs to, recording it on first sight.

        A new id with the order number of a known order is CCV's re-issue of
        that order after an edit; any other new id starts a new order whose
        ref is the id itself.
        """
        seen = await self.seen_order(connection_id, ccv_order_id)
        if seen is None:
            order_ref = await self._number_taken(connection_id, order_number, str(ccv_order_id))
            if order_ref == str(ccv_order_id):
                await self.refs.update_one(
                    {"_id": _key(connection_id, order_ref)},
                    {
                        "$setOnInsert": {
                            "connection_id": connection_id,
                            "order_ref": order_ref,
                            "order_number": order_number,
                            "ccv_ordernumber": ccv_ordernumber,
                            "source_order_id": str(ccv_order_id),
                            "revision": 0,
                            "cancelled": False,
                            "placed_at": placed_at,
                            "outbox": None,
                            "created_at": _now(),
                        }
                    },
                    upsert=True,
                )
            try:
                await self.seen.insert_one(
                    {
                        "_id": _key(connection_id, ccv_order_id),
                        "connection_id": connection_id,
                        "ccv_order_id": ccv_order_id,
                        "order_ref": order_ref,
                        "superseded_by": None,
                        "first_seen_at": _now(),
                    }
                )
                seen = SeenOrder(ccv_order_id, order_ref, None, None)
            except DuplicateKeyError:
                # another replica saw it at the same moment; its record stands
                seen = await self.seen_order(connection_id, ccv_order_id)
        assert seen is not None
        ref = await self.ref(connection_id, seen.order_ref)
        if ref is None:
            raise LookupError(f"order_ref {seen.order_ref} of CCV order {ccv_order_id} is missing")
        return ref, seen

    async def claim(self, ref: OrderRef, publication: Publication) -> bool:
        """Move the order to its next revision with the event in its outbox.

        Only succeeds from the revision `ref` was read at and with an empty
        outbox, so two replicas never publish two different revisions N.
        """
        result = await self.refs.update_one(
            {
                "_id": _key(ref.connection_id, ref.order_ref),
                "revision": ref.revision,
                "outbox": None,
            },
            {
                "$set": {
                    "revision": publication.revision,
                    "fingerprint": publication.fingerprint,
                    "content_hash": publication.content_hash,
                    "source_order_id": publication.source_order_id,
                    "last_order": publication.order,
                    "cancelled": publication.cancelled,
                    "outbox": publication.event_json,
                    "outbox_event_id": publication.event_id,
                    "updated_at": _now(),
                }
            },
        )
        return result.modified_count == 1

    async def clear_outbox(self, connection_id: str, order_ref: str, event_id: str) -> None:
        await self.refs.update_one(
            {"_id": _key(connection_id, order_ref), "outbox_event_id": event_id},
            {"$set": {"outbox": None, "published_at": _now()}},
        )

    async def with_outbox(self, connection_id: str) -> list[OrderRef]:
        cursor = self.refs.find({"connection_id": connection_id, "outbox": {"$ne": None}})
        return [OrderRef.from_doc(doc) async for doc in cursor]

    async def published_since(self, connection_id: str, since: datetime) -> list[OrderRef]:
        cursor = self.refs.find(
            {
                "connection_id": connection_id,
                "revision": {"$gt": 0},
                "cancelled": False,
                "placed_at": {"$gte": since},
            }
        )
        return [OrderRef.from_doc(doc) async for doc in cursor]

    async def remember_resource(
        self, connection_id: str, ccv_order_id: int, fingerprint: str
    ) -> None:
        await self.seen.update_one(
            {"_id": _key(connection_id, ccv_order_id)},
            {"$set": {"resource_fingerprint": fingerprint, "checked_at": _now()}},
        )

    async def mark_superseded(self, connection_id: str, ccv_order_id: int, by: int) -> None:
        await self.seen.update_one(
            {"_id": _key(connection_id, ccv_order_id)}, {"$set": {"superseded_by": by}}
        )

    async def record_failure(
        self,
        cause_id: str,
        *,
        connection_id: str,
        ccv_order_id: int,
        order_ref: str | None,
        reason: str,
    ) -> bool:
        """True the first time this order fails for this cause."""
        try:
            await self.failures.insert_one(
                {
                    "_id": cause_id,
                    "connection_id": connection_id,
                    "ccv_order_id": ccv_order_id,
                    "order_ref": order_ref,
                    "reason": reason,
                    "failed_at": _now(),
                }
            )
        except DuplicateKeyError:
            return False
        return True

    async def forget_failure(self, cause_id: str) -> None:
        await self.failures.delete_one({"_id": cause_id})


@dataclass(frozen=True)
class WebhookRegistration:
    webhook_id: int
    event: str
    encrypted_key: str


@dataclass(frozen=True)
class ConnectionState:
    connection_id: str
    settings_version: int
    connected_at: datetime
    next_poll_at: datetime
    webhooks: list[WebhookRegistration]
    webhooks_address: str | None
    broken_cause: str | None

    @classmethod
    def from_doc(cls, doc: Document) -> ConnectionState:
        return cls(
            connection_id=doc["_id"],
            settings_version=doc["settings_version"],
            connected_at=doc["connected_at"],
            next_poll_at=doc["next_poll_at"],
            webhooks=[
                WebhookRegistration(h["webhook_id"], h["event"], h["key"])
                for h in doc.get("webhooks") or []
            ],
            webhooks_address=doc.get("webhooks_address"),
            broken_cause=(doc.get("broken") or {}).get("cause_id"),
        )

    @property
    def broken(self) -> bool:
        return self.broken_cause is not None


class ConnectionStates:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db[CONNECTION_STATE]

    async def get(self, connection_id: str) -> ConnectionState | None:
        doc = await self.collection.find_one({"_id": connection_id})
        return ConnectionState.from_doc(doc) if doc else None

    async def settings_arrived(
        self, connection_id: str, version: int, now: datetime, first_poll_after: timedelta
    ) -> ConnectionState:
        """New settings (once per version): a broken state is forgotten and the
        webhooks are checked again.

        A new connection is first polled one interval from now (there is
        nothing older to catch up on: the poll window starts at `connected_at`);
        a changed one at once, to catch up on what a broken state made it miss.
        """
        doc = await self.collection.find_one_and_update(
            {"_id": connection_id, "settings_version": {"$ne": version}},
            {
                "$set": {
                    "settings_version": version,
                    "broken": None,
                    "webhooks_address": None,
                    "next_poll_at": now,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            try:
                await self.collection.insert_one(
                    {
                        "_id": connection_id,
                        "settings_version": version,
                        "connected_at": now,
                        "next_poll_at": now + first_poll_after,
                        "broken": None,
                        "webhooks": [],
                        "webhooks_address": None,
                    }
                )
            except DuplicateKeyError:
                pass  # we (or another replica) already hold this version
            doc = await self.collection.find_one({"_id": connection_id})
        assert doc is not None
        return ConnectionState.from_doc(doc)

    async def mark_broken(self, connection_id: str, cause_id: str, reason_code: str) -> bool:
        """True when this cause is new (so one alert per cause, however often it recurs)."""
        result = await self.collection.update_one(
            {"_id": connection_id, "broken.cause_id": {"$ne": cause_id}},
            {
                "$set": {
                    "broken": {"cause_id": cause_id, "reason_code": reason_code, "since": _now()}
                }
            },
        )
        return result.modified_count == 1

    async def unmark_broken(self, connection_id: str, cause_id: str) -> None:
        await self.collection.update_one(
            {"_id": connection_id, "broken.cause_id": cause_id}, {"$set": {"broken": None}}
        )

    async def save_webhooks(
        self, connection_id: str, address: str, webhooks: list[WebhookRegistration]
    ) -> None:
        await self.collection.update_one(
            {"_id": connection_id},
            {
                "$set": {
                    "webhooks_address": address,
                    "webhooks": [
                        {"webhook_id": h.webhook_id, "event": h.event, "key": h.encrypted_key}
                        for h in webhooks
                    ],
                }
            },
        )

    async def schedule_poll(self, connection_id: str, at: datetime) -> None:
        await self.collection.update_one({"_id": connection_id}, {"$set": {"next_poll_at": at}})
