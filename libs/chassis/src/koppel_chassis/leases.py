"""Per-connection leases in MongoDB, so replicas of a poller never poll the same
connection at once.

A lease is one document `{_id: name, holder, generation, expires_at}`. Who gets
it is decided only by inserts of documents with a unique `_id`, the one write
that is exclusive on real MongoDB *and* on FerretDB (whose conditional updates
are a read followed by a write, so two replicas can both "win" one):

- a free name: insert the lease document itself;
- an expired lease of generation g: insert the takeover ticket `name@g+1`; only
  the replica whose ticket insert succeeds then moves the lease to g+1.

A holder that dies simply lets its lease expire. Tickets of past generations
are removed by `purge_expired`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

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
        current = await self.collection.find_one({"_id": name})
        if current is None:
            try:
                await self.collection.insert_one(
                    {"_id": name, "holder": self.holder, "generation": 1, "expires_at": now + ttl}
                )
            except DuplicateKeyError:
                return False  # another replica inserted it first
            return True
        if current["holder"] == self.holder and current["expires_at"] >= now:
            return await self.renew(name, ttl)
        if current["expires_at"] >= now:
            return False
        generation = current["generation"] + 1
        try:
            await self.collection.insert_one(
                {"_id": f"{name}@{generation}", "ticket_of": name, "expires_at": now + ttl}
            )
        except DuplicateKeyError:
            return False  # another replica took the expired lease over
        result = await self.collection.update_one(
            {"_id": name, "generation": current["generation"]},
            {"$set": {"holder": self.holder, "generation": generation, "expires_at": now + ttl}},
        )
        return result.matched_count == 1

    async def renew(self, name: str, ttl: timedelta) -> bool:
        """Extend a lease we hold; False means we lost it and must stop working."""
        now = self.clock()
        result = await self.collection.update_one(
            {"_id": name, "holder": self.holder, "expires_at": {"$gte": now}},
            {"$set": {"expires_at": now + ttl}},
        )
        return result.matched_count == 1

    async def release(self, name: str) -> None:
        """Give the lease up early: it expires now, so the next replica takes it over."""
        await self.collection.update_one(
            {"_id": name, "holder": self.holder},
            {"$set": {"expires_at": self.clock() - timedelta(microseconds=1)}},
        )

    async def holder_of(self, name: str) -> str | None:
        doc = await self.collection.find_one({"_id": name, "expires_at": {"$gte": self.clock()}})
        return doc["holder"] if doc else None

    async def purge_expired(self, grace: timedelta = timedelta(hours=1)) -> int:
        """Remove leases and takeover tickets that expired more than `grace` ago."""
        result = await self.collection.delete_many({"expires_at": {"$lt": self.clock() - grace}})
        return result.deleted_count
