"""Per-connection leases in MongoDB, so replicas of a poller never poll the same
connection at once.

A lease is one document `{_id: name, holder, expires_at}`. Acquiring is one
atomic find_one_and_update with upsert whose filter only matches a free or
expired lease (or one we already hold); when someone else holds it, the upsert
collides with the existing `_id` and raises DuplicateKeyError — that is the
"no". A holder that dies simply lets the lease expire.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from .mongo import AsyncCollection, Document

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class LeaseStore:
    def __init__(
        self,
        collection: AsyncCollection[Document],
        holder: str | None = None,
        clock: Clock = _utcnow,
    ) -> None:
        self.collection = collection
        self.holder = holder or f"holder-{uuid.uuid4().hex[:12]}"
        self.clock = clock

    async def acquire(self, name: str, ttl: timedelta) -> bool:
        now = self.clock()
        try:
            doc = await self.collection.find_one_and_update(
                {"_id": name, "$or": [{"expires_at": {"$lt": now}}, {"holder": self.holder}]},
                {"$set": {"holder": self.holder, "expires_at": now + ttl, "acquired_at": now}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            return False
        return doc is not None and doc.get("holder") == self.holder

    async def renew(self, name: str, ttl: timedelta) -> bool:
        """Extend a lease we hold; False means we lost it and must stop working."""
        now = self.clock()
        result = await self.collection.update_one(
            {"_id": name, "holder": self.holder, "expires_at": {"$gte": now}},
            {"$set": {"expires_at": now + ttl}},
        )
        return result.matched_count == 1

    async def release(self, name: str) -> None:
        await self.collection.delete_one({"_id": name, "holder": self.holder})

    async def holder_of(self, name: str) -> str | None:
        doc = await self.collection.find_one({"_id": name, "expires_at": {"$gte": self.clock()}})
        return doc["holder"] if doc else None

    async def purge_expired(self, grace: timedelta = timedelta(hours=1)) -> int:
        result = await self.collection.delete_many({"expires_at": {"$lt": self.clock() - grace}})
        return result.deleted_count
