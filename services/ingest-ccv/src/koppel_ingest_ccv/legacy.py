"""Taking over the state ingest-ccv kept before it ran on the ingest runtime.

Without it, an upgraded service would not know which orders it published: an order CCV
re-issued after an edit would then be published as a new order, and booked twice. Once
per database (a marker in `migrations`), at start, before anything is consumed:

| before (ingest-ccv's own)             | now (`koppel_ingest`)                          |
|---------------------------------------|------------------------------------------------|
| `order_refs` (+ an event in `outbox`) | `orders` (+ an entry in `order_outbox`)        |
| `ccv_orders`                          | `source_orders`                                |
| `order_numbers` (may be missing)      | `order_numbers` (filled from `order_refs`)     |
| `ccv_connections`                     | `connection_states`                            |
| `ingest_failures` (`ccv_order_id`)    | `ingest_failures` (`source_order_id` added)    |

Every copy is an insert that ignores what exists, so a second replica starting at the
same moment (or a restart half-way) copies the same documents again harmlessly. The old
collections are left as they were.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from koppel_chassis.mongo import AsyncCollection, AsyncDatabase, Document, DuplicateKeyError
from koppel_contracts import OrderEvent
from koppel_ingest import OrderRecord, Publication, SourceOrder
from koppel_ingest import states as runtime_states
from koppel_ingest import store as runtime_store

log = logging.getLogger(__name__)

MARKER = "ingest-ccv-to-ingest-runtime"
LEGACY_ORDERS = "order_refs"
LEGACY_SOURCES = "ccv_orders"
LEGACY_CONNECTIONS = "ccv_connections"
# An outbox event a crash left before the upgrade: old, so the next poll publishes it.
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


async def _insert(collection: AsyncCollection[Document], doc: Document) -> bool:
    try:
        await collection.insert_one(doc)
    except DuplicateKeyError:
        return False
    return True


def order_of(doc: Document) -> tuple[OrderRecord, Publication | None]:
    """An `order_refs` document as the runtime's order, with its unpublished event."""
    number = doc.get("ccv_ordernumber")
    record = OrderRecord(
        connection_id=doc["connection_id"],
        order_ref=doc["order_ref"],
        source_order_id=str(doc["source_order_id"]),
        placed_at=doc["placed_at"],
        order_number=doc.get("order_number"),
        lookup_key=str(number) if number is not None else None,
        revision=int(doc.get("revision") or 0),
        fingerprint=doc.get("fingerprint"),
        cancelled=bool(doc.get("cancelled")),
        last_order=doc.get("last_order"),
    )
    if not doc.get("outbox"):
        return record, None
    event = OrderEvent.model_validate_json(doc["outbox"])
    entry = Publication(
        connection_id=record.connection_id,
        order_ref=record.order_ref,
        revision=event.revision,
        fingerprint=record.fingerprint or "",
        source_order_id=record.source_order_id,
        order=event.order.model_dump(mode="json"),
        cancelled=record.cancelled,
        event_json=doc["outbox"],
        created_at=LONG_AGO,
    )
    return OrderRecord(**{**vars(record), "pending": event.revision}), entry


def source_of(doc: Document) -> SourceOrder:
    superseded = doc.get("superseded_by")
    return SourceOrder(
        connection_id=doc["connection_id"],
        source_order_id=str(doc["ccv_order_id"]),
        order_ref=doc["order_ref"],
        fingerprint=doc.get("resource_fingerprint"),
        superseded_by=str(superseded) if superseded is not None else None,
    )


def state_of(doc: Document) -> Document:
    broken = doc.get("broken") or None
    return {
        "_id": doc["_id"],
        "settings_version": doc["settings_version"],
        "connected_at": doc["connected_at"],
        "next_poll_at": doc["next_poll_at"],
        "cursor": None,
        "webhooks": [
            {"webhook_id": str(h["webhook_id"]), "event": h["event"], "encrypted_key": h["key"]}
            for h in doc.get("webhooks") or []
        ],
        "webhooks_address": doc.get("webhooks_address"),
        "broken": (
            {"cause_id": broken["cause_id"], "reason_code": broken.get("reason_code")}
            if broken
            else None
        ),
    }


async def migrate(db: AsyncDatabase[Document]) -> dict[str, int]:
    """Copy the old state into the runtime's collections, once; what was copied."""
    migrations = db["migrations"]
    if await migrations.find_one({"_id": MARKER}) is not None:
        return {}
    copied = {"orders": 0, "outbox": 0, "sources": 0, "numbers": 0, "connections": 0}
    numbers = db[runtime_store.NUMBERS]
    cursor = db[LEGACY_ORDERS].find({}).sort("created_at", 1)
    async for doc in cursor:
        record, entry = order_of(doc)
        if record.order_number is not None:
            # The oldest order with a number keeps it (as the old look-up had it).
            number_doc = {"_id": f"{record.connection_id}:{record.order_number}"}
            copied["numbers"] += await _insert(
                numbers, {**number_doc, "order_ref": record.order_ref}
            )
        copied["orders"] += await _insert(db[runtime_store.ORDERS], record.to_doc())
        if entry is not None:
            copied["outbox"] += await _insert(db[runtime_store.OUTBOX], entry.to_doc())
    async for doc in db[LEGACY_SOURCES].find({}):
        copied["sources"] += await _insert(db[runtime_store.SOURCES], source_of(doc).to_doc())
    async for doc in db[LEGACY_CONNECTIONS].find({}):
        copied["connections"] += await _insert(db[runtime_states.STATES], state_of(doc))
    failures = db[runtime_store.FAILURES]
    async for doc in failures.find({"source_order_id": {"$exists": False}}):
        fields: dict[str, Any] = {"source_order_id": str(doc.get("ccv_order_id"))}
        await failures.update_one({"_id": doc["_id"]}, {"$set": fields})
    await _insert(migrations, {"_id": MARKER, "at": datetime.now(UTC), "copied": copied})
    if any(copied.values()):
        log.info("state of the previous ingest-ccv taken over", extra=copied)
    return copied
