"""Per connection: its state (settings version, poll schedule and cursor, webhook keys,
broken), the alerts announced, and webhook deliveries refused for their signature.
`memory.MemoryStateStore` is the in-memory twin.

One alert per cause, however many replicas meet it: the alert's cause id is inserted
into `announced_alerts` (unique `_id`) and only the replica whose insert succeeds
publishes it. Marking a connection broken is then a plain write of that cause.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from koppel_chassis import IndexSpec
from koppel_chassis.mongo import AsyncCollection, AsyncDatabase, Document, DuplicateKeyError

from .records import ConnectionState, WebhookKey, key

STATES = "connection_states"
ANNOUNCED = "announced_alerts"
REFUSED = "refused_webhooks"

INDEXES = [IndexSpec(REFUSED, [("connection_id", 1)]), IndexSpec(REFUSED, [("at", 1)])]


class StateStore(Protocol):
    async def get(self, connection_id: str) -> ConnectionState | None: ...
    async def settings_arrived(
        self, connection_id: str, version: int, now: datetime, first_poll_after: timedelta
    ) -> ConnectionState: ...
    async def polled(
        self, connection_id: str, next_poll_at: datetime, cursor: str | None
    ) -> None: ...
    async def save_webhooks(
        self, connection_id: str, address: str, webhooks: list[WebhookKey]
    ) -> None: ...
    async def mark_broken(self, connection_id: str, cause_id: str, reason_code: str) -> None: ...
    async def unmark_broken(self, connection_id: str, cause_id: str) -> None: ...
    async def announce(self, cause_id: str, at: datetime) -> bool: ...
    async def unannounce(self, cause_id: str) -> None: ...
    async def refused(self, connection_id: str, source_order_id: str, at: datetime) -> None: ...
    async def refused_orders(self, connection_id: str) -> list[str]: ...
    async def purge_refused(self, before: datetime) -> int: ...


def first_state(
    connection_id: str, version: int, now: datetime, first_poll_after: timedelta
) -> ConnectionState:
    """A new connection is first polled one interval from now: the poll window starts when
    the connection was made, so there is nothing older to catch up on."""
    return ConnectionState(connection_id, version, now, now + first_poll_after)


def new_version(version: int, now: datetime) -> Document:
    """Changed settings: a broken state is forgotten, webhooks are checked again, and the
    poll runs at once, to catch up on what a broken state made it miss."""
    return {
        "settings_version": version,
        "broken": None,
        "webhooks_address": None,
        "next_poll_at": now,
    }


class MongoStateStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.states: AsyncCollection[Document] = db[STATES]
        self.announced: AsyncCollection[Document] = db[ANNOUNCED]
        self.refusals: AsyncCollection[Document] = db[REFUSED]

    async def get(self, connection_id: str) -> ConnectionState | None:
        doc = await self.states.find_one({"_id": connection_id})
        return ConnectionState.from_doc(doc) if doc else None

    async def settings_arrived(
        self, connection_id: str, version: int, now: datetime, first_poll_after: timedelta
    ) -> ConnectionState:
        """Take in a settings version (once; an older one changes nothing)."""
        # Replicas may both apply a version: the write is the same, so both may.
        await self.states.update_one(
            {"_id": connection_id, "settings_version": {"$lt": version}},
            {"$set": new_version(version, now)},
        )
        try:
            await self.states.insert_one(
                first_state(connection_id, version, now, first_poll_after).to_doc()
            )
        except DuplicateKeyError:
            pass  # known already: the update above took the version in
        state = await self.get(connection_id)
        assert state is not None
        return state

    async def polled(self, connection_id: str, next_poll_at: datetime, cursor: str | None) -> None:
        await self.states.update_one(
            {"_id": connection_id}, {"$set": {"next_poll_at": next_poll_at, "cursor": cursor}}
        )

    async def save_webhooks(
        self, connection_id: str, address: str, webhooks: list[WebhookKey]
    ) -> None:
        await self.states.update_one(
            {"_id": connection_id},
            {
                "$set": {
                    "webhooks_address": address,
                    "webhooks": [vars(hook) for hook in webhooks],
                }
            },
        )

    async def mark_broken(self, connection_id: str, cause_id: str, reason_code: str) -> None:
        await self.states.update_one(
            {"_id": connection_id},
            {"$set": {"broken": {"cause_id": cause_id, "reason_code": reason_code}}},
        )

    async def unmark_broken(self, connection_id: str, cause_id: str) -> None:
        await self.states.update_one(
            {"_id": connection_id, "broken.cause_id": cause_id}, {"$set": {"broken": None}}
        )

    async def announce(self, cause_id: str, at: datetime) -> bool:
        """True for the one caller that publishes this cause's alert."""
        try:
            await self.announced.insert_one({"_id": cause_id, "at": at})
        except DuplicateKeyError:
            return False
        return True

    async def unannounce(self, cause_id: str) -> None:
        """Publishing failed: not alerted means not remembered, the next failure tries again."""
        await self.announced.delete_one({"_id": cause_id})

    async def refused(self, connection_id: str, source_order_id: str, at: datetime) -> None:
        doc = {"connection_id": connection_id, "source_order_id": source_order_id, "at": at}
        try:
            await self.refusals.insert_one({"_id": key(connection_id, source_order_id), **doc})
        except DuplicateKeyError:
            pass  # one per announced order is what counts

    async def refused_orders(self, connection_id: str) -> list[str]:
        cursor = self.refusals.find({"connection_id": connection_id})
        return [str(doc["source_order_id"]) async for doc in cursor]

    async def purge_refused(self, before: datetime) -> int:
        result = await self.refusals.delete_many({"at": {"$lt": before}})
        return result.deleted_count
