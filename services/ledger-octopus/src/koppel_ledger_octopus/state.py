"""The state document per (connection, order): the single source of truth.

One document per order in `orders`, `_id` = `connection_id:order_ref`, plus a
unique index on (connection_id, order_ref). Only single-document atomic updates
are used (FerretDB has no transactions):

- `revision`        highest revision received (a lower or equal one is a duplicate)
- `event`           that revision's OrderEvent as JSON — the scheduler books from it
- `state`           received → booking → booked → verified | mismatch, or
                    waiting / failed / held / credited / cancelled / ignored
- `next_attempt_at` when the order needs a worker (None: nothing to do)
- `lock_owner`, `lock_until`   the worker that owns the order right now
- `intent`          written *before* every create in Octopus: after a crash a
                    worker finds it and looks the document up instead of creating
- `ledger`          the Octopus document that currently represents the order
- `booked_revision` / `done_revision`   effect recorded / nothing more to do
- `outbox`          events to publish, written in the same update as the state
                    they announce; removed once published (map keyed by event id)

Every write addresses the document by `_id` (plus guards such as the lock owner
and revision): on FerretDB only `_id` reaches an index, and each write rewrites
the whole document, so a booking costs a fixed handful of writes, not one per
field. What the retry scheduler needs lives apart, in `order_schedule`: one
small document per order that has a `next_attempt_at` (a hint, written before
the state that needs it), so finding due orders never reads the order history.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from koppel_chassis import IndexSpec, purge_expired
from koppel_chassis.mongo import AsyncCollection, AsyncDatabase, Document, DuplicateKeyError
from koppel_contracts import ALL_TOPICS, Envelope, OrderEvent, Topic, order_key
from pymongo import ReturnDocument

ORDERS = "orders"
LOCKS = "order_locks"
HOLDS = "connection_holds"
ANNOUNCED = "announced"
SCHEDULE = "order_schedule"

INDEXES = [
    IndexSpec(ORDERS, [("connection_id", 1), ("order_ref", 1)], unique=True, name="order_once"),
    IndexSpec(ORDERS, [("next_attempt_at", 1)]),
    IndexSpec(ORDERS, [("connection_id", 1), ("state", 1)]),
    IndexSpec(SCHEDULE, [("at", 1)]),
]
# The lock fields a finishing write clears in the same update.
_RELEASED = {"lock_owner": None, "lock_until": None}

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class State(StrEnum):
    RECEIVED = "received"
    BOOKING = "booking"
    BOOKED = "booked"
    VERIFIED = "verified"
    MISMATCH = "mismatch"
    WAITING = "waiting"
    FAILED = "failed"
    HELD = "held"
    CREDITED = "credited"
    CANCELLED = "cancelled"
    IGNORED = "ignored"


# Failures a merchant fixes in the connection settings (or in Octopus, then re-saves the
# settings): new settings retry them. VAT refusals about the order itself need a new revision.
SETTINGS_FIXABLE = frozenset(
    {
        "unknown_ledger_account",
        "unknown_vat_code",
        "unknown_journal",
        "journal_closed",
        "no_open_bookyear",
        "settings_incomplete",
        "bad_fixed_debtor",
        "no_debtor",
        "unmapped_vat_rate",
        "invoice_module_off",
        "octopus_refused",
        "octopus_unavailable",
    }
)


class Received(StrEnum):
    NEW = "new"
    NEWER = "newer"
    DUPLICATE = "duplicate"


def backoff_seconds(attempt: int, initial: float, factor: float, cap: float) -> float:
    """Delay before retry number `attempt` (1 = after the first failure): growing, capped."""
    return min(cap, initial * factor ** max(0, attempt - 1))


@dataclass(frozen=True)
class OutboxItem:
    topic: Topic
    event: Envelope

    def stored(self) -> dict[str, str]:
        return {"topic": self.topic.name, "json": self.event.model_dump_json()}


def outbox_fields(items: list[OutboxItem]) -> dict[str, Any]:
    return {f"outbox.{item.event.event_id}": item.stored() for item in items}


def outbox_items(doc: Mapping[str, Any]) -> list[tuple[str, OutboxItem]]:
    """The pending events of a document, oldest first (ids are the map keys)."""
    topics = {t.name: t for t in ALL_TOPICS}
    found: list[tuple[str, OutboxItem]] = []
    for event_id, stored in (doc.get("outbox") or {}).items():
        topic = topics[stored["topic"]]
        found.append((event_id, OutboxItem(topic, topic.event.model_validate_json(stored["json"]))))
    return found


class OrderStore:
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
        self.schedule_hints: AsyncCollection[Document] = db[SCHEDULE]
        self.lock = timedelta(seconds=lock_seconds)
        self.clock = clock
        self.owner = owner or f"worker-{uuid.uuid4().hex[:12]}"

    # --- receiving ------------------------------------------------------------

    async def receive(self, event: OrderEvent) -> Received:
        """Store a revision unless one at least as new is already there (then: duplicate)."""
        received, _ = await self.receive_doc(event)
        return received

    async def receive_doc(self, event: OrderEvent) -> tuple[Received, Document | None]:
        """`receive`, also returning the stored document (None for a duplicate): the
        worker that books it right away needs no second read."""
        now = self.clock()
        doc_id = order_key(event.connection_id, event.order_ref)
        try:
            doc = await self.orders.find_one_and_update(
                {"_id": doc_id, "revision": {"$lt": event.revision}},
                {
                    "$set": {
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
                    "$setOnInsert": {
                        "connection_id": event.connection_id,
                        "order_ref": event.order_ref,
                        "first_revision": event.revision,
                        "created_at": now,
                        "booked_revision": 0,
                        "done_revision": 0,
                        "outbox": {},
                        "octopus_calls": 0,
                    },
                },
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            return Received.DUPLICATE, None
        assert doc is not None
        new = doc.get("first_revision") == event.revision
        return (Received.NEW if new else Received.NEWER), doc

    # --- owning an order ------------------------------------------------------

    async def claim(self, doc_id: str, doc: Document | None = None) -> Document | None:
        """Own the order for `lock_seconds`; None when another worker owns it.

        `doc` is the document as just read (by `receive_doc`), to save a read.

        The decision is a unique insert (`order_locks`, `_id` = order + lock
        generation): of all workers that saw the same free lock, exactly one can
        insert the next generation. A conditional update would be simpler, but
        FerretDB 1.x (SQLite) does not apply conditional updates atomically under
        concurrency — only unique keys are. Every claim has its own token
        (`lock_owner`), so two tasks of one process are told apart like replicas.
        """
        now = self.clock()
        if doc is None:
            doc = await self.orders.find_one({"_id": doc_id})
        if doc is None:
            return None
        until = doc.get("lock_until")
        if until is not None and aware(until) >= now:
            return None
        generation = int(doc.get("lock_generation") or 0) + 1
        token = f"{self.owner}:{uuid.uuid4().hex[:8]}"
        try:
            await self.locks.insert_one(
                {"_id": f"{doc_id}|{generation}", "owner": token, "created_at": now}
            )
        except DuplicateKeyError:
            return None  # another worker won this generation
        lock = {"lock_owner": token, "lock_until": now + self.lock, "lock_generation": generation}
        await self.orders.update_one({"_id": doc_id}, {"$set": lock})
        if until is not None:
            # Taken over from a worker whose lock expired: it may have written after our
            # read and before our lock; from now on its guarded writes fail. Read again.
            return await self.orders.find_one({"_id": doc_id})
        # The lock was free: its last owner had finished writing (its outbox clean-up
        # may still come, which is harmless), so the document we read is current.
        return {**doc, **lock}

    async def purge_locks(self, older_than: timedelta) -> int:
        """Lock generations are only compared while a claim is under way: old ones go."""
        return await purge_expired(self.locks, "created_at", self.clock(), older_than)

    async def release(self, doc_id: str, owner: str) -> None:
        await self.orders.update_one(
            {"_id": doc_id, "lock_owner": owner},
            {"$set": {"lock_owner": None, "lock_until": None}},
        )

    async def get(self, doc_id: str) -> Document | None:
        return await self.orders.find_one({"_id": doc_id})

    @staticmethod
    def _update_doc(
        set_: Mapping[str, Any] | None,
        unset: list[str] | None,
        outbox: list[OutboxItem] | None,
        now: datetime,
        lock_until: datetime,
    ) -> dict[str, Any]:
        update: dict[str, Any] = {
            "$set": {
                **(set_ or {}),
                **outbox_fields(outbox or []),
                "updated_at": now,
                "lock_until": lock_until,
            }
        }
        if unset:
            update["$unset"] = {name: "" for name in unset}
        return update

    async def update(
        self,
        doc_id: str,
        owner: str,
        *,
        set_: Mapping[str, Any] | None = None,
        unset: list[str] | None = None,
        outbox: list[OutboxItem] | None = None,
    ) -> None:
        """One atomic write by the owner: state, ledger ids and the events announcing them.

        Every write also extends the lock, so a long run never loses the order.
        """
        now = self.clock()
        update = self._update_doc(set_, unset, outbox, now, now + self.lock)
        result = await self.orders.update_one({"_id": doc_id, "lock_owner": owner}, update)
        if result.matched_count != 1:
            raise LostLock(doc_id)

    async def update_revision(
        self,
        doc_id: str,
        owner: str,
        revision: int,
        *,
        set_: Mapping[str, Any] | None = None,
        outbox: list[OutboxItem] | None = None,
        release: bool = False,
    ) -> bool:
        """A state change that only holds for `revision`: skipped when a newer one arrived.
        With `release` it is the revision's last write and lets go of the order too."""
        now = self.clock()
        update = self._update_doc(set_, None, outbox, now, now + self.lock)
        if release:
            update["$set"].update(_RELEASED)
        result = await self.orders.update_one(
            {"_id": doc_id, "lock_owner": owner, "revision": revision}, update
        )
        if result.matched_count == 1:
            return True
        if await self.orders.count_documents({"_id": doc_id, "lock_owner": owner}) == 0:
            raise LostLock(doc_id)
        return False

    async def finish(
        self,
        doc_id: str,
        owner: str,
        revision: int,
        calls: int = 0,
        *,
        set_: Mapping[str, Any] | None = None,
        outbox: list[OutboxItem] | None = None,
    ) -> bool:
        """Nothing more to do for `revision`: record the last state (`set_`, `outbox`),
        count the Octopus calls and let go of the order, all in one write. False (and
        nothing written) when a newer revision arrived meanwhile or the lock was lost."""
        update: dict[str, Any] = {
            "$set": {
                **(set_ or {}),
                **outbox_fields(outbox or []),
                "next_attempt_at": None,
                "updated_at": self.clock(),
                **_RELEASED,
            }
        }
        if calls:
            update["$inc"] = {"octopus_calls": calls}
        result = await self.orders.update_one(
            {"_id": doc_id, "lock_owner": owner, "revision": revision}, update
        )
        return result.matched_count == 1

    async def add_calls(self, doc_id: str, calls: int) -> None:
        await self.orders.update_one({"_id": doc_id}, {"$inc": {"octopus_calls": calls}})

    # --- the outbox -----------------------------------------------------------

    async def published(self, doc_id: str, *event_ids: str) -> None:
        """The outbox entries are on Kafka: one write for all of them."""
        if event_ids:
            unset = {f"outbox.{event_id}": "" for event_id in event_ids}
            await self.orders.update_one({"_id": doc_id}, {"$unset": unset})

    async def with_unpublished(self, older_than: timedelta, limit: int) -> list[Document]:
        cutoff = self.clock() - older_than
        cursor = self.orders.find(
            {"outbox": {"$exists": True, "$ne": {}}, "updated_at": {"$lt": cutoff}}
        ).limit(limit)
        return [doc async for doc in cursor]

    # --- the scheduler's view -------------------------------------------------

    async def schedule(self, doc_id: str, at: datetime, *, unless_sooner: bool = False) -> None:
        """A hint for the scheduler: look at the order at `at`. The order's owner writes it
        *before* the state that needs a later attempt (a crash in between costs one idle
        look). Others (`unless_sooner`) only bring a hint forward, never push it back."""
        operator = "$min" if unless_sooner else "$set"
        await self.schedule_hints.update_one({"_id": doc_id}, {operator: {"at": at}}, upsert=True)

    async def schedule_if_missing(self, doc_id: str, at: datetime) -> None:
        """For the safety net: its view of the order may be stale, so it never touches a
        hint that exists (the owner's is newer)."""
        try:
            await self.schedule_hints.insert_one({"_id": doc_id, "at": at})
        except DuplicateKeyError:
            pass

    async def due(self, limit: int) -> list[tuple[str, datetime]]:
        """Orders whose hint is due, oldest first, with the hint's time (for `settle`)."""
        cursor = self.schedule_hints.find({"at": {"$lte": self.clock()}}).sort("at", 1).limit(limit)
        return [(doc["_id"], doc["at"]) async for doc in cursor]

    async def settle(self, doc_id: str, hint_at: datetime) -> None:
        """After the scheduler's attempt: drop the hint when the order needs nothing more,
        else move it to the order's next attempt (or the end of someone else's lock).
        Both only if the hint is still the one we acted on (a worker may have set a new one)."""
        doc = await self.orders.find_one(
            {"_id": doc_id}, {"next_attempt_at": 1, "lock_until": 1, "outbox": 1}
        )
        if doc is None or (doc.get("next_attempt_at") is None and not doc.get("outbox")):
            await self.schedule_hints.delete_one({"_id": doc_id, "at": hint_at})
            return
        now = self.clock()
        at = aware(doc.get("next_attempt_at") or now)
        until = doc.get("lock_until")
        if until is not None and aware(until) > at:
            at = aware(until)
        if at != aware(hint_at):
            await self.schedule_hints.update_one(
                {"_id": doc_id, "at": hint_at}, {"$set": {"at": at}}
            )

    async def unscheduled(self, limit: int) -> list[tuple[str, datetime]]:
        """Safety net, run rarely: due orders that lost their hint (a crash between a
        hint's removal and a new one). Reads every order on FerretDB, hence rarely."""
        cursor = self.orders.find(
            {"next_attempt_at": {"$lte": self.clock()}}, {"next_attempt_at": 1}
        ).limit(limit)
        found = [(doc["_id"], doc["next_attempt_at"]) async for doc in cursor]
        if not found:
            return []
        hinted = self.schedule_hints.find({"_id": {"$in": [i for i, _ in found]}}, {"_id": 1})
        known = {doc["_id"] async for doc in hinted}
        return [(doc_id, at) for doc_id, at in found if doc_id not in known]

    async def resume_connection(self, connection_id: str) -> int:
        """New settings: held orders, orders waiting for settings and orders that failed
        for a reason the settings can fix get a worker now."""
        now = self.clock()
        fixable = {
            "connection_id": connection_id,
            "state": State.FAILED.value,
            "reason_code": {"$in": sorted(SETTINGS_FIXABLE)},
        }
        waiting = {
            "connection_id": connection_id,
            "$or": [
                {"state": State.HELD.value},
                {"state": State.WAITING.value, "reason_code": "settings_pending"},
                {"state": State.WAITING.value, "reason_code": "connection_inactive"},
            ],
        }
        resumed = self.orders.find({"$or": [fixable, waiting]}, {"_id": 1})
        for doc_id in [doc["_id"] async for doc in resumed]:
            await self.schedule(doc_id, now)
        failed = await self.orders.update_many(
            fixable,
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
        result = await self.orders.update_many(
            waiting,
            {"$set": {"next_attempt_at": now, "updated_at": now}},
        )
        return result.modified_count + failed.modified_count


class LostLock(RuntimeError):
    """Another worker took the order over (our lock expired): stop touching it."""


class HoldStore:
    """Per connection: credentials refused (held, per settings version), quota used up.

    `hold()` and `restored()` write their alert into the connection's outbox and
    then *announce* it: a unique insert of the alert's (deterministic) event id.
    Only the one caller whose insert succeeds gets True and publishes; new
    settings (a higher version) release the hold.

    Every booking asks `get()`; its answer is kept for `cache_seconds` (this
    process' own writes drop it at once). Another replica's hold is seen that
    much later: a few more orders meet the refusal themselves, and hold again.
    """

    def __init__(
        self, db: AsyncDatabase[Document], clock: Clock = utcnow, cache_seconds: float = 0.0
    ) -> None:
        self.holds: AsyncCollection[Document] = db[HOLDS]
        self.announced: AsyncCollection[Document] = db[ANNOUNCED]
        self.clock = clock
        self.cache = timedelta(seconds=cache_seconds)
        self._cached: dict[str, tuple[datetime, Document | None]] = {}

    async def held(self, connection_id: str) -> Document | None:
        """The hold of a connection (`settings_version`, `reason`), None when not held."""
        return await self.holds.find_one({"_id": connection_id, "held": True})

    async def get(self, connection_id: str) -> Document | None:
        now = self.clock()
        cached = self._cached.get(connection_id)
        if cached is not None and now - cached[0] < self.cache:
            return cached[1]
        doc = await self.holds.find_one({"_id": connection_id})
        if self.cache:
            self._cached[connection_id] = (now, doc)
        return doc

    def forget(self, connection_id: str) -> None:
        self._cached.pop(connection_id, None)

    async def _announce(self, outbox: list[OutboxItem]) -> bool:
        won = False
        for item in outbox:
            try:
                await self.announced.insert_one({"_id": item.event.event_id, "at": self.clock()})
            except DuplicateKeyError:
                continue
            won = True
        return won

    async def hold(
        self, connection_id: str, settings_version: int, reason: str, outbox: list[OutboxItem]
    ) -> bool:
        """Hold the connection; True for the one caller that announces it (alert once)."""
        self.forget(connection_id)
        now = self.clock()
        try:
            await self.holds.update_one(
                {
                    "_id": connection_id,
                    "$or": [
                        {"settings_version": None},
                        {"settings_version": {"$lte": settings_version}},
                    ],
                },
                {
                    "$set": {
                        "held": True,
                        "settings_version": settings_version,
                        "reason": reason,
                        "held_at": now,
                        "updated_at": now,
                        **outbox_fields(outbox),
                    }
                },
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # held already under newer settings
        return await self._announce(outbox)

    async def release(self, connection_id: str, settings_version: int) -> bool:
        """New settings: held orders may try again (restored once a booking succeeds)."""
        self.forget(connection_id)
        now = self.clock()
        result = await self.holds.update_one(
            {"_id": connection_id, "held": True, "settings_version": {"$lt": settings_version}},
            {
                "$set": {
                    "held": False,
                    "restore_pending": True,
                    "released_at": now,
                    "updated_at": now,
                }
            },
        )
        return result.modified_count == 1

    async def quiet(self, connection_id: str, until: datetime) -> None:
        """Octopus' daily quota is used up until `until`: no calls for this connection."""
        self.forget(connection_id)
        await self.holds.update_one(
            {"_id": connection_id},
            {"$max": {"quiet_until": until}, "$set": {"updated_at": self.clock()}},
            upsert=True,
        )

    async def restored(self, connection_id: str, outbox: list[OutboxItem]) -> bool:
        """Octopus accepted the new settings: True for the one caller that announces it."""
        known = await self.get(connection_id)
        if known is None or known.get("held") or not known.get("restore_pending"):
            return False  # the common case, answered from the cache
        self.forget(connection_id)
        pending = await self.holds.find_one(
            {"_id": connection_id, "held": False, "restore_pending": True}, {"_id": 1}
        )
        if pending is None:
            return False
        await self.holds.update_one(
            {"_id": connection_id},
            {
                "$set": {
                    "restore_pending": False,
                    "updated_at": self.clock(),
                    **outbox_fields(outbox),
                }
            },
        )
        return await self._announce(outbox)

    async def published(self, connection_id: str, event_id: str) -> None:
        await self.holds.update_one({"_id": connection_id}, {"$unset": {f"outbox.{event_id}": ""}})

    async def with_unpublished(self, older_than: timedelta) -> list[Document]:
        """Left-overs only: whoever writes an outbox entry publishes it right away."""
        cutoff = self.clock() - older_than
        cursor = self.holds.find(
            {"outbox": {"$exists": True, "$ne": {}}, "updated_at": {"$lt": cutoff}}
        )
        return [doc async for doc in cursor]
