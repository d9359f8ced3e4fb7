"""Per connection: credentials refused (held, per settings version), quota used up (quiet).

`hold()` and `restored()` write their alert into the connection's outbox and then
*announce* it: a unique insert of the alert's (deterministic) event id. Only the one
caller whose insert succeeds gets True and publishes — one alert, however many orders
and replicas meet the refusal at once. New settings (a higher version) release the hold.

Every booking asks `get()`; the answer is kept for `cache_seconds` (this process' own
writes drop it at once). Another replica's hold is seen that much later: a few more
orders meet the refusal themselves, and hold again. When the answer is out of date, the
orders of a batch that ask at the same moment share one read.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from koppel_chassis.mongo import AsyncCollection, AsyncDatabase, Document, DuplicateKeyError

from .clock import Clock, utcnow
from .records import OutboxItem, aware

HOLDS = "connection_holds"
ANNOUNCED = "announced"


@dataclass
class ConnectionHold:
    connection_id: str
    held: bool = False
    settings_version: int | None = None
    reason: str | None = None
    quiet_until: datetime | None = None
    restore_pending: bool = False
    outbox: dict[str, dict[str, str]] = field(default_factory=dict)
    updated_at: datetime | None = None

    def outbox_items(self) -> list[tuple[str, OutboxItem]]:
        return [(event_id, OutboxItem.load(s)) for event_id, s in self.outbox.items()]

    @classmethod
    def from_doc(cls, doc: Document) -> ConnectionHold:
        quiet = doc.get("quiet_until")
        updated = doc.get("updated_at")
        version = doc.get("settings_version")
        return cls(
            connection_id=doc["_id"],
            held=bool(doc.get("held")),
            settings_version=int(version) if version is not None else None,
            reason=doc.get("reason"),
            quiet_until=aware(quiet) if quiet is not None else None,
            restore_pending=bool(doc.get("restore_pending")),
            outbox=dict(doc.get("outbox") or {}),
            updated_at=aware(updated) if updated is not None else None,
        )


class HoldStore(Protocol):
    async def get(self, connection_id: str) -> ConnectionHold | None: ...
    def forget(self, connection_id: str) -> None: ...
    async def hold(
        self, connection_id: str, version: int, reason: str, outbox: list[OutboxItem]
    ) -> bool: ...
    async def release(self, connection_id: str, version: int) -> bool: ...
    async def quiet(self, connection_id: str, until: datetime) -> None: ...
    async def restored(self, connection_id: str, outbox: list[OutboxItem]) -> bool: ...
    async def published(self, connection_id: str, event_id: str) -> None: ...
    async def with_unpublished(self, older_than: timedelta) -> list[ConnectionHold]: ...


def _outbox_fields(outbox: list[OutboxItem]) -> dict[str, Any]:
    return {f"outbox.{item.event.event_id}": item.stored() for item in outbox}


class MongoHoldStore:
    def __init__(
        self, db: AsyncDatabase[Document], clock: Clock = utcnow, cache_seconds: float = 0.0
    ) -> None:
        self.holds: AsyncCollection[Document] = db[HOLDS]
        self.announced: AsyncCollection[Document] = db[ANNOUNCED]
        self.clock = clock
        self.cache = timedelta(seconds=cache_seconds)
        self._cached: dict[str, tuple[datetime, ConnectionHold | None]] = {}
        self._reading: dict[str, asyncio.Future[ConnectionHold | None]] = {}

    async def get(self, connection_id: str) -> ConnectionHold | None:
        now = self.clock()
        cached = self._cached.get(connection_id)
        if cached is not None and now - cached[0] < self.cache:
            return cached[1]
        if not self.cache:
            return await self._read(connection_id)
        reading = self._reading.get(connection_id)
        if reading is None:
            reading = asyncio.ensure_future(self._read(connection_id))
            self._reading[connection_id] = reading
            reading.add_done_callback(lambda done: self._store(connection_id, now, done))
        return await asyncio.shield(reading)

    async def _read(self, connection_id: str) -> ConnectionHold | None:
        doc = await self.holds.find_one({"_id": connection_id})
        return ConnectionHold.from_doc(doc) if doc is not None else None

    def _store(
        self, connection_id: str, at: datetime, done: asyncio.Future[ConnectionHold | None]
    ) -> None:
        if self._reading.get(connection_id) is not done:
            return  # forgotten while reading: the answer may predate our own write
        del self._reading[connection_id]
        if not done.cancelled() and done.exception() is None:
            self._cached[connection_id] = (at, done.result())

    def forget(self, connection_id: str) -> None:
        self._cached.pop(connection_id, None)
        self._reading.pop(connection_id, None)

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
        self, connection_id: str, version: int, reason: str, outbox: list[OutboxItem]
    ) -> bool:
        """Hold the connection; True for the one caller that announces it (alert once)."""
        self.forget(connection_id)
        now = self.clock()
        try:
            await self.holds.update_one(
                {
                    "_id": connection_id,
                    "$or": [{"settings_version": None}, {"settings_version": {"$lte": version}}],
                },
                {
                    "$set": {
                        "held": True,
                        "settings_version": version,
                        "reason": reason,
                        "held_at": now,
                        "updated_at": now,
                        **_outbox_fields(outbox),
                    }
                },
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # held already under newer settings
        return await self._announce(outbox)

    async def release(self, connection_id: str, version: int) -> bool:
        """New settings: held orders may try again (restored once a booking succeeds)."""
        self.forget(connection_id)
        now = self.clock()
        result = await self.holds.update_one(
            {"_id": connection_id, "held": True, "settings_version": {"$lt": version}},
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
        """The ledger's quota is used up until `until`: no calls for this connection."""
        self.forget(connection_id)
        await self.holds.update_one(
            {"_id": connection_id},
            {"$max": {"quiet_until": until}, "$set": {"updated_at": self.clock()}},
            upsert=True,
        )

    async def restored(self, connection_id: str, outbox: list[OutboxItem]) -> bool:
        """The ledger accepted the new settings: True for the one caller that announces it."""
        known = await self.get(connection_id)
        if known is None or known.held or not known.restore_pending:
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
                    **_outbox_fields(outbox),
                }
            },
        )
        return await self._announce(outbox)

    async def published(self, connection_id: str, event_id: str) -> None:
        await self.holds.update_one({"_id": connection_id}, {"$unset": {f"outbox.{event_id}": ""}})

    async def with_unpublished(self, older_than: timedelta) -> list[ConnectionHold]:
        """Left-overs only: whoever writes an outbox entry publishes it right away."""
        cutoff = self.clock() - older_than
        cursor = self.holds.find(
            {"outbox": {"$exists": True, "$ne": {}}, "updated_at": {"$lt": cutoff}}
        )
        return [ConnectionHold.from_doc(doc) async for doc in cursor]
