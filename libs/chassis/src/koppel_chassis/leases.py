"""Per-connection leases in MongoDB, so replicas of a poller never poll the same
connection at once.

A lease is one document `{_id: name, holder, epoch, generation, expires_at}`. Who gets
it is decided only by inserts of documents with a unique `_id`, the one write that is
exclusive on real MongoDB *and* on FerretDB (whose conditional updates are a read
followed by a write, so two replicas can both "win" one):

- a free name: insert the lease document itself (a fresh random `epoch`, generation 1);
- an expired lease (epoch e, generation g): insert the takeover ticket `name@e.g+1`; only
  the replica whose ticket insert succeeds moves the lease to g+1 (an update guarded by
  e and g), and then deletes its ticket: from then on the guard alone refuses anyone who
  read generation g, so the ticket has done its work.

Nothing is left behind by a poll cycle: `release()` deletes the lease document (the next
replica inserts a new one, with a new epoch), and takeover tickets live only for the
moment of a takeover. The epoch keeps generations of different incarnations of a lease
apart, so a stale replica's ticket or guard can never match a lease that was released
and taken anew. What a replica that dies leaves (its expired lease, a ticket of a
takeover it did not finish) is removed by `purge_expired`; until then an expired lease
is simply taken over.
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


def _aware(moment: datetime) -> datetime:
    """FerretDB hands back naive UTC datetimes unless the client is tz-aware."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


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
                    {
                        "_id": name,
                        "holder": self.holder,
                        "epoch": uuid.uuid4().hex,
                        "generation": 1,
                        "expires_at": now + ttl,
                    }
                )
            except DuplicateKeyError:
                return False  # another replica inserted it first
            return True
        expires_at = _aware(current["expires_at"])
        if current["holder"] == self.holder and expires_at >= now:
            return await self.renew(name, ttl)
        if expires_at >= now:
            return False
        return await self._take_over(name, current, now, ttl)

    async def _take_over(self, name: str, current: Document, now: datetime, ttl: timedelta) -> bool:
        epoch, generation = current.get("epoch"), current["generation"]
        ticket = f"{name}@{epoch}.{generation + 1}"
        try:
            await self.collection.insert_one(
                {"_id": ticket, "ticket_of": name, "expires_at": now + ttl}
            )
        except DuplicateKeyError:
            return False  # another replica is taking the expired lease over
        try:
            result = await self.collection.update_one(
                {"_id": name, "epoch": epoch, "generation": generation},
                {
                    "$set": {
                        "holder": self.holder,
                        "generation": generation + 1,
                        "expires_at": now + ttl,
                    }
                },
            )
        finally:
            await self.collection.delete_one({"_id": ticket})
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
        """Give the lease up early: the document goes, so the next replica inserts a new one.

        Only a lease we still hold is removed: once ours has expired, another replica
        may be taking it over, and its lease is not ours to delete."""
        await self.collection.delete_one(
            {"_id": name, "holder": self.holder, "expires_at": {"$gte": self.clock()}}
        )

    async def holder_of(self, name: str) -> str | None:
        doc = await self.collection.find_one({"_id": name, "expires_at": {"$gte": self.clock()}})
        return doc["holder"] if doc else None

    async def purge_expired(self, grace: timedelta = timedelta(hours=1)) -> int:
        """Remove leases and takeover tickets that expired more than `grace` ago (what
        replicas that died left behind)."""
        result = await self.collection.delete_many({"expires_at": {"$lt": self.clock() - grace}})
        return result.deleted_count

    async def count(self) -> int:
        """Documents in the lease collection: leases held or expired, and tickets."""
        return await self.collection.count_documents({})
