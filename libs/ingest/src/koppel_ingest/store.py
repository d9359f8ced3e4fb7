"""The order store: which order a shop id belongs to, and the revisions published.
`memory.MemoryOrderStore` is its in-memory twin; `koppel_ingest.testing.StoreContract`
runs the same tests against both.

Every hot-path read and write addresses one document by `_id` (on FerretDB only `_id`
reaches an index); queries over many documents run against small collections (the
outbox, the unbookable orders) or once per poll.

**Publishing once.** The next revision of an order is claimed with a unique insert into
`order_outbox` (`_id` = `connection:order_ref#revision`), never with a conditional
update (FerretDB applies those as a read and a write, so two replicas could both "win").
The entry holds the event. The winner then moves the order to that revision, guarded by
the revision it read, and marks it `pending`; it publishes, deletes the entry and clears
`pending`. A replica that read an older revision either loses the insert or — when the
entry is already published and gone — loses the guard, and takes its entry back. A
crash leaves the entry: the poll publishes entries older than a few seconds, first
completing an order update the crash cut short (`adopt`). Consumers may see a duplicate
(the same event id), never a gap, never two different events for one revision.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from koppel_chassis import IndexSpec
from koppel_chassis.mongo import AsyncCollection, AsyncDatabase, Document, DuplicateKeyError

from .records import IngestFailure, OrderRecord, Publication, SourceOrder, key

ORDERS = "orders"
SOURCES = "source_orders"
NUMBERS = "order_numbers"  # (connection, order number) -> order_ref, found by `_id`
OUTBOX = "order_outbox"
UNBOOKABLE = "unbookable_orders"
FAILURES = "ingest_failures"

INDEXES = [
    IndexSpec(ORDERS, [("connection_id", 1), ("placed_at", 1)]),
    IndexSpec(OUTBOX, [("connection_id", 1)]),
    IndexSpec(UNBOOKABLE, [("connection_id", 1)]),
    IndexSpec(FAILURES, [("connection_id", 1)]),
]


class OrderStore(Protocol):
    """What the runtime needs from its order store (MongoDB, or the in-memory twin)."""

    async def source(self, connection_id: str, source_order_id: str) -> SourceOrder | None: ...
    async def order(self, connection_id: str, order_ref: str) -> OrderRecord | None: ...
    async def order_with_number(self, connection_id: str, number: str) -> OrderRecord | None: ...
    async def resolve(
        self, first: OrderRecord, *, by_number: bool
    ) -> tuple[OrderRecord, SourceOrder]: ...
    async def remember_fingerprint(
        self, connection_id: str, source_order_id: str, fingerprint: str | None
    ) -> None: ...
    async def mark_superseded(self, connection_id: str, source_order_id: str, by: str) -> None: ...
    async def claim(self, record: OrderRecord, claimed: Publication) -> bool: ...
    async def entry(
        self, connection_id: str, order_ref: str, revision: int
    ) -> Publication | None: ...
    async def adopt(self, claimed: Publication) -> bool: ...
    async def published(self, claimed: Publication) -> None: ...
    async def clear_pending(self, record: OrderRecord) -> None: ...
    async def outbox(self, connection_id: str, created_before: datetime) -> list[Publication]: ...
    async def published_since(self, connection_id: str, since: datetime) -> list[OrderRecord]: ...
    async def watch(self, connection_id: str, source_order_id: str, at: datetime) -> None: ...
    async def unwatch(self, connection_id: str, source_order_id: str) -> None: ...
    async def watched(self, connection_id: str, since: datetime | None = None) -> list[str]: ...
    async def forget_watched(self, before: datetime) -> int: ...
    async def record_failure(self, failure: IngestFailure) -> bool: ...
    async def forget_failure(self, cause_id: str) -> None: ...
    async def failures(self, connection_id: str) -> list[IngestFailure]: ...


def claim_fields(claimed: Publication) -> Document:
    """What moving an order to a claimed revision sets."""
    return {
        "revision": claimed.revision,
        "fingerprint": claimed.fingerprint,
        "source_order_id": claimed.source_order_id,
        "cancelled": claimed.cancelled,
        "last_order": claimed.order,
        "pending": claimed.revision,
    }


def failure_doc(failure: IngestFailure) -> Document:
    return {
        "_id": failure.cause_id,
        "connection_id": failure.connection_id,
        "source_order_id": failure.source_order_id,
        "order_ref": failure.order_ref,
        "reason": failure.reason,
        "failed_at": failure.failed_at,
    }


def failure_of(doc: Document) -> IngestFailure:
    return IngestFailure(
        cause_id=doc["_id"],
        connection_id=doc["connection_id"],
        source_order_id=str(doc["source_order_id"]),
        order_ref=doc["order_ref"],
        reason=doc["reason"],
        failed_at=doc["failed_at"],
    )


class Resolving:
    """How a shop id finds its order, on any store that can insert a document unless one
    with its key exists (the twins differ only in those primitives)."""

    async def source(self, connection_id: str, source_order_id: str) -> SourceOrder | None:
        raise NotImplementedError

    async def order(self, connection_id: str, order_ref: str) -> OrderRecord | None:
        raise NotImplementedError

    async def _take_number(self, connection_id: str, number: str, order_ref: str) -> str:
        """Record that `order_ref` carries the number, unless an order did first: the
        order_ref that carries it (a unique insert decides between replicas)."""
        raise NotImplementedError

    async def _insert_order(self, record: OrderRecord) -> bool:
        """False when the order exists already (another replica saw it at the same moment)."""
        raise NotImplementedError

    async def _insert_source(self, seen: SourceOrder) -> bool:
        """False when the shop id is recorded already (its record stands)."""
        raise NotImplementedError

    async def resolve(
        self, first: OrderRecord, *, by_number: bool
    ) -> tuple[OrderRecord, SourceOrder]:
        """The order a shop id belongs to, recording it on first sight. `first` is the
        order as it would start with this id (its ref = the id). With `by_number`, a new id
        with the number of a known order joins that order (a re-issue)."""
        connection_id, source_id = first.connection_id, first.source_order_id
        seen = await self.source(connection_id, source_id)
        if seen is None:
            order_ref = first.order_ref
            if by_number and first.order_number:
                order_ref = await self._take_number(connection_id, first.order_number, order_ref)
            new_order = order_ref == first.order_ref and await self._insert_order(first)
            recorded = SourceOrder(connection_id, source_id, order_ref)
            if await self._insert_source(recorded):
                if new_order:
                    # Both inserted here: they are what was written, no need to read them
                    # back (a new order costs a webhook two reads fewer).
                    return first, recorded
                seen = recorded
            else:
                seen = await self.source(connection_id, source_id)
        assert seen is not None
        record = await self.order(connection_id, seen.order_ref)
        if record is None:
            raise LookupError(f"order {seen.order_ref} of shop id {source_id} is missing")
        return record, seen


class MongoOrderStore(Resolving):
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.orders: AsyncCollection[Document] = db[ORDERS]
        self.sources: AsyncCollection[Document] = db[SOURCES]
        self.numbers: AsyncCollection[Document] = db[NUMBERS]
        self.entries: AsyncCollection[Document] = db[OUTBOX]
        self.unbookable: AsyncCollection[Document] = db[UNBOOKABLE]
        self.failed: AsyncCollection[Document] = db[FAILURES]

    # --- which order a shop id belongs to -------------------------------------------------

    async def source(self, connection_id: str, source_order_id: str) -> SourceOrder | None:
        doc = await self.sources.find_one({"_id": key(connection_id, source_order_id)})
        return SourceOrder.from_doc(doc) if doc else None

    async def order(self, connection_id: str, order_ref: str) -> OrderRecord | None:
        doc = await self.orders.find_one({"_id": key(connection_id, order_ref)})
        return OrderRecord.from_doc(doc) if doc else None

    async def order_with_number(self, connection_id: str, number: str) -> OrderRecord | None:
        """The order that already carries this order number (re-issues keep it)."""
        entry = await self.numbers.find_one({"_id": key(connection_id, number)})
        return await self.order(connection_id, entry["order_ref"]) if entry else None

    async def _take_number(self, connection_id: str, number: str, order_ref: str) -> str:
        number_key = key(connection_id, number)
        try:
            await self.numbers.insert_one({"_id": number_key, "order_ref": order_ref})
        except DuplicateKeyError:
            entry = await self.numbers.find_one({"_id": number_key})
            return str(entry["order_ref"]) if entry else order_ref
        return order_ref

    async def _insert_order(self, record: OrderRecord) -> bool:
        try:
            await self.orders.insert_one(record.to_doc())
        except DuplicateKeyError:
            return False  # another replica saw it at the same moment
        return True

    async def _insert_source(self, seen: SourceOrder) -> bool:
        try:
            await self.sources.insert_one(seen.to_doc())
        except DuplicateKeyError:
            return False  # another replica saw it at the same moment; its record stands
        return True

    async def remember_fingerprint(
        self, connection_id: str, source_order_id: str, fingerprint: str | None
    ) -> None:
        await self.sources.update_one(
            {"_id": key(connection_id, source_order_id)}, {"$set": {"fingerprint": fingerprint}}
        )

    async def mark_superseded(self, connection_id: str, source_order_id: str, by: str) -> None:
        await self.sources.update_one(
            {"_id": key(connection_id, source_order_id)}, {"$set": {"superseded_by": by}}
        )

    # --- publishing (see the module) ------------------------------------------------------

    async def claim(self, record: OrderRecord, claimed: Publication) -> bool:
        """Claim revision `claimed.revision` (= record.revision + 1); False when another
        replica changed the order since `record` was read."""
        try:
            await self.entries.insert_one(claimed.to_doc())
        except DuplicateKeyError:
            return False
        result = await self.orders.update_one(
            {"_id": record.id, "revision": record.revision, "pending": None},
            {"$set": claim_fields(claimed)},
        )
        if result.matched_count != 1:
            await self.entries.delete_one({"_id": claimed.id})  # we read a revision long gone
            return False
        return True

    async def entry(self, connection_id: str, order_ref: str, revision: int) -> Publication | None:
        doc = await self.entries.find_one({"_id": f"{key(connection_id, order_ref)}#{revision}"})
        return Publication.from_doc(doc) if doc else None

    async def adopt(self, claimed: Publication) -> bool:
        """Complete the order update of a claim whose claimer crashed before it."""
        result = await self.orders.update_one(
            {
                "_id": key(claimed.connection_id, claimed.order_ref),
                "revision": claimed.revision - 1,
                "pending": None,
            },
            {"$set": claim_fields(claimed)},
        )
        return result.modified_count == 1

    async def published(self, claimed: Publication) -> None:
        """The entry's event is on Kafka."""
        await self.entries.delete_one({"_id": claimed.id})
        await self.orders.update_one(
            {"_id": key(claimed.connection_id, claimed.order_ref), "pending": claimed.revision},
            {"$set": {"pending": None}},
        )

    async def clear_pending(self, record: OrderRecord) -> None:
        """The pending revision's entry is gone (published by another replica)."""
        await self.orders.update_one(
            {"_id": record.id, "pending": record.pending}, {"$set": {"pending": None}}
        )

    async def outbox(self, connection_id: str, created_before: datetime) -> list[Publication]:
        cursor = self.entries.find(
            {"connection_id": connection_id, "created_at": {"$lt": created_before}}
        )
        found = [Publication.from_doc(doc) async for doc in cursor]
        return sorted(found, key=lambda p: (p.order_ref, p.revision))

    async def published_since(self, connection_id: str, since: datetime) -> list[OrderRecord]:
        """Live published orders placed since `since` (once per poll, for full listings)."""
        cursor = self.orders.find(
            {
                "connection_id": connection_id,
                "revision": {"$gt": 0},
                "cancelled": False,
                "placed_at": {"$gte": since},
            }
        )
        return [OrderRecord.from_doc(doc) async for doc in cursor]

    # --- orders seen before they were bookable ----------------------------------------------

    async def watch(self, connection_id: str, source_order_id: str, at: datetime) -> None:
        doc = {"_id": key(connection_id, source_order_id), "connection_id": connection_id}
        try:
            await self.unbookable.insert_one({**doc, "source_order_id": source_order_id, "at": at})
        except DuplicateKeyError:
            pass

    async def unwatch(self, connection_id: str, source_order_id: str) -> None:
        await self.unbookable.delete_one({"_id": key(connection_id, source_order_id)})

    async def watched(self, connection_id: str, since: datetime | None = None) -> list[str]:
        query: Document = {"connection_id": connection_id}
        if since is not None:
            query["at"] = {"$gte": since}
        cursor = self.unbookable.find(query).sort("at", 1)
        return [str(doc["source_order_id"]) async for doc in cursor]

    async def forget_watched(self, before: datetime) -> int:
        result = await self.unbookable.delete_many({"at": {"$lt": before}})
        return result.deleted_count

    # --- ingest failures --------------------------------------------------------------------

    async def record_failure(self, failure: IngestFailure) -> bool:
        """True the first time this order fails for this cause."""
        try:
            await self.failed.insert_one(failure_doc(failure))
        except DuplicateKeyError:
            return False
        return True

    async def forget_failure(self, cause_id: str) -> None:
        await self.failed.delete_one({"_id": cause_id})

    async def failures(self, connection_id: str) -> list[IngestFailure]:
        cursor = self.failed.find({"connection_id": connection_id}).sort("failed_at", 1)
        return [failure_of(doc) async for doc in cursor]
