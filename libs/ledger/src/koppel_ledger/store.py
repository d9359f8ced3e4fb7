"""The order store: one document per (connection, order) in MongoDB, and what the retry
scheduler needs beside it. `memory.MemoryOrderStore` is its in-memory twin for fast unit
tests; `koppel_ledger.testing.StoreContract` runs the same tests against both.

Only single-document atomic updates, unique indexes and upserts are used (FerretDB has no
transactions). Every write addresses the document by `_id` (plus guards: the lock owner,
the revision): on FerretDB only `_id` reaches an index.

**Owning an order** is decided by a unique insert, never by a conditional update (FerretDB
applies those as a read and a write, so two workers can both "win"): `order_locks` holds
one document per (order, lock generation); of all workers that saw generation g free,
exactly one inserts g+1. The winner then writes the lock into the order *guarded by the
generation it read*, so a worker that read a long-gone generation (and whose lock
document was already cleaned up) cannot overwrite a newer lock. A released lock's
document is deleted at once: nothing piles up, and a lock that was never released
(the worker died) is purged after `stale_locks`. An order that arrives for the first
time in a batch (`receive_new`) is owned by the insert of its own document, also unique:
generation 0, which has no lock document (the next claim takes generation 1).

Writes of many orders at once (a batch booked concurrently) travel together: every write
goes through `bulk.BulkWrites` (group commit), and each still gets its own answer.

What the scheduler needs lives in `order_schedule`: one small document per order that
has something to do later (a hint, written *before* the state that needs it), so finding
due work never reads the order history.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from koppel_chassis import IndexSpec, purge_expired
from koppel_chassis.mongo import AsyncCollection, AsyncDatabase, Document, DuplicateKeyError
from koppel_contracts import OrderEvent, order_key
from pymongo import ReturnDocument

from .bulk import BulkWrites, owned_by, written_by
from .clock import Clock, utcnow
from .records import Change, OrderRecord, Received, State, aware
from .selection import RETRYABLE, RetrySelection, resumable

__all__ = [
    "INDEXES",
    "RETRYABLE",
    "Lock",
    "LostLock",
    "MongoOrderStore",
    "OrderStore",
    "RetrySelection",
    "lock_of",
    "new_order_doc",
    "received_fields",
    "resumable",
]

ORDERS = "orders"
LOCKS = "order_locks"
SCHEDULE = "order_schedule"

INDEXES = [
    IndexSpec(ORDERS, [("connection_id", 1), ("order_ref", 1)], unique=True, name="order_once"),
    IndexSpec(ORDERS, [("next_attempt_at", 1)]),
    IndexSpec(ORDERS, [("connection_id", 1), ("state", 1)]),
    IndexSpec(SCHEDULE, [("at", 1)]),
    IndexSpec(LOCKS, [("created_at", 1)]),
]


class LostLock(RuntimeError):
    """Another worker took the order over (our lock expired): stop touching it."""


@dataclass(frozen=True)
class Lock:
    owner: str
    generation: int  # 0: owned by inserting the order (`receive_new`), no lock document


def lock_of(record: OrderRecord) -> Lock:
    assert record.lock_owner is not None, "the record is not owned"
    return Lock(record.lock_owner, record.lock_generation)


class OrderStore(Protocol):
    """What the runtime needs from its store (MongoDB, or the in-memory twin)."""

    lock: timedelta

    async def receive(self, event: OrderEvent) -> tuple[Received, OrderRecord | None]: ...
    async def receive_new(self, events: list[OrderEvent]) -> list[OrderRecord | None]: ...
    async def get(self, order_id: str) -> OrderRecord | None: ...
    async def claim(
        self, order_id: str, record: OrderRecord | None = None
    ) -> OrderRecord | None: ...
    async def write(
        self,
        order_id: str,
        lock: Lock,
        change: Change,
        *,
        revision: int | None = None,
        release: bool = False,
    ) -> bool: ...
    async def release(self, order_id: str, lock: Lock) -> None: ...
    async def add_calls(self, order_id: str, calls: int) -> None: ...
    async def published(self, order_id: str, event_ids: list[str]) -> None: ...
    async def with_unpublished(self, older_than: timedelta, limit: int) -> list[OrderRecord]: ...
    async def schedule(
        self, order_id: str, at: datetime, *, unless_sooner: bool = False
    ) -> None: ...
    async def schedule_if_missing(self, order_id: str, at: datetime) -> None: ...
    async def due(self, limit: int) -> list[tuple[str, datetime]]: ...
    async def settle(self, order_id: str, hint_at: datetime) -> None: ...
    async def unscheduled(self, limit: int) -> list[tuple[str, datetime]]: ...
    async def resume_connection(self, connection_id: str, fixable: frozenset[str]) -> int: ...
    async def retry(self, selection: RetrySelection) -> list[str]: ...
    async def purge_locks(self, older_than: timedelta) -> int: ...
    async def count_locks(self) -> int: ...


def received_fields(event: OrderEvent, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """What storing a new revision sets, and what only a first revision sets."""
    return (
        {
            "revision": event.revision,
            "kind": event.kind.value,
            "event": event.model_dump_json(),
            "order_number": event.order.order_number,
            "state": State.RECEIVED.value,
            "next_attempt_at": now,
            "attempts": 0,
            "first_failure_at": None,
            "reason_code": None,
            "updated_at": now,
        },
        {
            "connection_id": event.connection_id,
            "order_ref": event.order_ref,
            "first_revision": event.revision,
            "created_at": now,
            "booked_revision": 0,
            "done_revision": 0,
            "outbox": {},
            "credits": [],
            "calls": 0,
        },
    )


def new_order_doc(event: OrderEvent, now: datetime, owner: str, lock: timedelta) -> Document:
    """An order seen for the first time, owned by whoever manages to insert this document."""
    fields, first = received_fields(event, now)
    order_id = order_key(event.connection_id, event.order_ref)
    return {"_id": order_id, **first, **fields, "lock_owner": owner, "lock_until": now + lock}


class MongoOrderStore:
    def __init__(
        self,
        db: AsyncDatabase[Document],
        *,
        lock_seconds: float,
        clock: Clock = utcnow,
        owner: str | None = None,
    ) -> None:
        self.orders: AsyncCollection[Document] = db[ORDERS]
        self.locks: AsyncCollection[Document] = db[LOCKS]
        self.hints: AsyncCollection[Document] = db[SCHEDULE]
        self._orders = BulkWrites(self.orders)
        self._locks = BulkWrites(self.locks)
        self.lock = timedelta(seconds=lock_seconds)
        self.clock = clock
        self.owner = owner or f"worker-{uuid.uuid4().hex[:12]}"

    # --- receiving ----------------------------------------------------------------------

    async def receive(self, event: OrderEvent) -> tuple[Received, OrderRecord | None]:
        """Store a revision unless one at least as new is there (then: duplicate, None).
        Returns the stored record, so the worker that books it right away needs no read."""
        now = self.clock()
        order_id = order_key(event.connection_id, event.order_ref)
        fields, first = received_fields(event, now)
        try:
            doc = await self.orders.find_one_and_update(
                {"_id": order_id, "revision": {"$lt": event.revision}},
                {"$set": fields, "$setOnInsert": first},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            return Received.DUPLICATE, None
        assert doc is not None
        new = doc.get("first_revision") == event.revision
        return (Received.NEW if new else Received.NEWER), OrderRecord.from_doc(doc)

    async def receive_new(self, events: list[OrderEvent]) -> list[OrderRecord | None]:
        """Store each event's order as new and owned by this worker — one unique insert per
        order, sent together; None for an order that exists (for `receive` and `claim`)."""
        now = self.clock()
        docs = [new_order_doc(e, now, self._token(), self.lock) for e in events]
        won = await asyncio.gather(*(self._orders.insert(doc) for doc in docs))
        return [OrderRecord.from_doc(d) if ok else None for d, ok in zip(docs, won, strict=True)]

    def _token(self) -> str:
        return f"{self.owner}:{uuid.uuid4().hex[:8]}"

    async def get(self, order_id: str) -> OrderRecord | None:
        doc = await self.orders.find_one({"_id": order_id})
        return OrderRecord.from_doc(doc) if doc is not None else None

    # --- owning an order ----------------------------------------------------------------

    async def claim(self, order_id: str, record: OrderRecord | None = None) -> OrderRecord | None:
        """Own the order for `lock`; None when another worker owns it (see the module)."""
        now = self.clock()
        if record is None:
            record = await self.get(order_id)
        if record is None:
            return None
        if record.lock_until is not None and record.lock_until >= now:
            return None
        generation = record.lock_generation + 1
        token = self._token()
        lock_id = f"{order_id}|{generation}"
        if not await self._locks.insert({"_id": lock_id, "owner": token, "created_at": now}):
            return None  # another worker won this generation
        lock = {"lock_owner": token, "lock_until": now + self.lock, "lock_generation": generation}
        # Generation 0 has no field yet: None matches a missing field too.
        guard = {"_id": order_id, "lock_generation": record.lock_generation or None}
        if not await self._orders.update(guard, {"$set": lock}, owned_by(token)):
            # We read a generation that is gone: someone claimed (and released) since.
            await self._locks.delete({"_id": lock_id})
            return None
        if record.lock_until is not None:
            # Taken over from a worker whose lock expired: it may have written after our
            # read and before our lock; from now on its guarded writes fail. Read again.
            return await self.get(order_id)
        # The lock was free: its last owner had finished writing, so what we read is current.
        record.lock_owner, record.lock_until = token, lock["lock_until"]
        record.lock_generation = generation
        return record

    async def write(
        self,
        order_id: str,
        lock: Lock,
        change: Change,
        *,
        revision: int | None = None,
        release: bool = False,
    ) -> bool:
        """One atomic write by the owner. With `revision`: only while no newer revision
        arrived (False, nothing written, when one did). `release` lets go of the order in
        the same write. Raises LostLock when another worker owns the order."""
        now = self.clock()
        token = uuid.uuid4().hex[:12]  # tells whether this write took effect (`bulk`)
        set_: dict[str, Any] = {**change.written(), "updated_at": now, "write_id": token}
        for item in change.outbox:
            set_[f"outbox.{item.event.event_id}"] = item.stored()
        if release:
            set_.update({"lock_owner": None, "lock_until": None})
        else:
            set_["lock_until"] = now + self.lock  # every write extends the lock
        update: dict[str, Any] = {"$set": set_}
        if change.add_credit is not None:
            update["$push"] = {"credits": change.add_credit.to_doc()}
        if change.calls:
            update["$inc"] = {"calls": change.calls}
        guard: dict[str, Any] = {"_id": order_id, "lock_owner": lock.owner}
        if revision is not None:
            guard["revision"] = revision
        if await self._orders.update(guard, update, written_by(token)):
            if release:
                await self._forget_lock(order_id, lock)
            return True
        if revision is not None and await self._owns(order_id, lock):
            return False  # a newer revision arrived meanwhile
        raise LostLock(order_id)

    async def _owns(self, order_id: str, lock: Lock) -> bool:
        return await self.orders.count_documents({"_id": order_id, "lock_owner": lock.owner}) > 0

    async def release(self, order_id: str, lock: Lock) -> None:
        await self._orders.update(
            {"_id": order_id, "lock_owner": lock.owner},
            {"$set": {"lock_owner": None, "lock_until": None}},
        )
        # Whether or not we still owned it: our generation's lock document is ours, and a
        # late claimer that inserts it again is stopped by the generation guard.
        await self._forget_lock(order_id, lock)

    async def _forget_lock(self, order_id: str, lock: Lock) -> None:
        if lock.generation:
            await self._locks.delete({"_id": f"{order_id}|{lock.generation}"})

    async def purge_locks(self, older_than: timedelta) -> int:
        """Locks whose worker died without letting go (released ones are gone already)."""
        return await purge_expired(self.locks, "created_at", self.clock(), older_than)

    async def count_locks(self) -> int:
        return await self.locks.count_documents({})

    async def add_calls(self, order_id: str, calls: int) -> None:
        await self._orders.update({"_id": order_id}, {"$inc": {"calls": calls}})

    # --- the outbox ---------------------------------------------------------------------

    async def published(self, order_id: str, event_ids: list[str]) -> None:
        """The outbox entries are on Kafka: one write for all of them."""
        if event_ids:
            unset = {f"outbox.{event_id}": "" for event_id in event_ids}
            await self._orders.update({"_id": order_id}, {"$unset": unset})

    async def with_unpublished(self, older_than: timedelta, limit: int) -> list[OrderRecord]:
        cutoff = self.clock() - older_than
        cursor = self.orders.find(
            {"outbox": {"$exists": True, "$ne": {}}, "updated_at": {"$lt": cutoff}}
        ).limit(limit)
        return [OrderRecord.from_doc(doc) async for doc in cursor]

    # --- the scheduler's view -----------------------------------------------------------

    async def schedule(self, order_id: str, at: datetime, *, unless_sooner: bool = False) -> None:
        """A hint: look at the order at `at`. Its owner writes it *before* the state that
        needs it; others (`unless_sooner`) only bring a hint forward, never push it back."""
        operator = "$min" if unless_sooner else "$set"
        await self.hints.update_one({"_id": order_id}, {operator: {"at": at}}, upsert=True)

    async def schedule_if_missing(self, order_id: str, at: datetime) -> None:
        """For the safety net: its view may be stale, so it never touches a hint that exists."""
        try:
            await self.hints.insert_one({"_id": order_id, "at": at})
        except DuplicateKeyError:
            pass

    async def due(self, limit: int) -> list[tuple[str, datetime]]:
        cursor = self.hints.find({"at": {"$lte": self.clock()}}).sort("at", 1).limit(limit)
        return [(doc["_id"], aware(doc["at"])) async for doc in cursor]

    async def settle(self, order_id: str, hint_at: datetime) -> None:
        """After a scheduler attempt: drop the hint when the order needs nothing more, else
        move it to the next attempt (or the end of someone's lock) — both only if the hint
        is still the one acted on (a worker may have written a new one)."""
        doc = await self.orders.find_one(
            {"_id": order_id}, {"next_attempt_at": 1, "lock_until": 1, "outbox": 1}
        )
        if doc is None or (doc.get("next_attempt_at") is None and not doc.get("outbox")):
            await self.hints.delete_one({"_id": order_id, "at": hint_at})
            return
        at = aware(doc.get("next_attempt_at") or self.clock())
        until = doc.get("lock_until")
        if until is not None and aware(until) > at:
            at = aware(until)
        if at != aware(hint_at):
            await self.hints.update_one({"_id": order_id, "at": hint_at}, {"$set": {"at": at}})

    async def unscheduled(self, limit: int) -> list[tuple[str, datetime]]:
        """Safety net, run rarely: due orders that lost their hint (a crash between a hint's
        removal and a new one). Reads every order on FerretDB, hence rarely."""
        cursor = self.orders.find(
            {"next_attempt_at": {"$lte": self.clock()}}, {"next_attempt_at": 1}
        ).limit(limit)
        found = [(doc["_id"], aware(doc["next_attempt_at"])) async for doc in cursor]
        if not found:
            return []
        hinted = self.hints.find({"_id": {"$in": [i for i, _ in found]}}, {"_id": 1})
        known = {doc["_id"] async for doc in hinted}
        return [(order_id, at) for order_id, at in found if order_id not in known]

    async def resume_connection(self, connection_id: str, fixable: frozenset[str]) -> int:
        """New settings: held orders, orders waiting for settings and orders that failed for
        a reason the settings can fix get a worker now."""
        return len(await self._resume(resumable(connection_id, fixable)))

    async def retry(self, selection: RetrySelection) -> list[str]:
        """The selected orders get a worker now, with a fresh count of attempts."""
        return await self._resume(selection.query())

    async def _resume(self, query: dict[str, Any]) -> list[str]:
        now = self.clock()
        resumed = [doc["_id"] async for doc in self.orders.find(query, {"_id": 1})]
        if not resumed:
            return []
        for order_id in resumed:
            await self.schedule(order_id, now)
        # by id as well: on FerretDB only `_id` reaches an index
        await self.orders.update_many(
            {**query, "_id": {"$in": resumed}},
            {
                "$set": {
                    "next_attempt_at": now,
                    "done_revision": 0,
                    "attempts": 0,
                    "first_failure_at": None,
                    "updated_at": now,
                }
            },
        )
        return resumed
