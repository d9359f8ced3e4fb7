"""The ingest's index of its customers (`privacy_subjects`): which key each customer of a
connection has, and when their last order was placed (for retention).

A document per (connection, subject digest) — `_id` `connection_id:digest`, so the lookup on
every published order is one index hit. The first order of a customer decides their key
with a unique insert: two replicas meeting a new customer at once end with one key. No
e-mail is stored, only the digest (`keys.subject_digest`); erasing the key deletes the
document, so a later order of the same person starts a new key.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from koppel_chassis.mongo import AsyncCollection, AsyncDatabase, Document, DuplicateKeyError

COLLECTION = "privacy_subjects"


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Subject:
    connection_id: str
    digest: str
    key_id: str
    wrapped: str  # the customer's key, encrypted with the platform key
    last_order_at: datetime
    published: bool = False  # the key is on privacy.keys.v1

    @property
    def id(self) -> str:
        return f"{self.connection_id}:{self.digest}"

    def to_doc(self) -> Document:
        return {
            "_id": self.id,
            "connection_id": self.connection_id,
            "digest": self.digest,
            "key_id": self.key_id,
            "key": self.wrapped,
            "last_order_at": self.last_order_at,
            "published": self.published,
        }

    @classmethod
    def from_doc(cls, doc: Document) -> Subject:
        return cls(
            connection_id=doc["connection_id"],
            digest=doc["digest"],
            key_id=doc["key_id"],
            wrapped=doc["key"],
            last_order_at=aware(doc["last_order_at"]),
            published=bool(doc.get("published")),
        )


class SubjectStore(Protocol):
    async def get(self, connection_id: str, digest: str) -> Subject | None: ...

    async def add(self, subject: Subject) -> Subject:
        """Store `subject` unless the customer has one already; the stored one."""
        ...

    async def mark_published(self, subject: Subject) -> None: ...

    async def touch(self, subject: Subject, placed_at: datetime) -> None:
        """A later order of the customer: their last order is at least `placed_at`."""
        ...

    async def forget_key(self, connection_id: str, key_id: str) -> int: ...

    async def expired(self, connection_id: str, before: datetime, limit: int) -> list[Subject]:
        """Customers of the connection whose last order was placed before `before`."""
        ...

    async def remove(self, subject: Subject) -> None: ...


class MongoSubjectStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection: AsyncCollection[Document] = db[COLLECTION]

    async def get(self, connection_id: str, digest: str) -> Subject | None:
        doc = await self.collection.find_one({"_id": f"{connection_id}:{digest}"})
        return Subject.from_doc(doc) if doc else None

    async def add(self, subject: Subject) -> Subject:
        try:
            await self.collection.insert_one(subject.to_doc())
        except DuplicateKeyError:
            found = await self.get(subject.connection_id, subject.digest)
            if found is None:  # erased in between: ours is as good as any
                return await self.add(subject)
            return found
        return subject

    async def mark_published(self, subject: Subject) -> None:
        await self.collection.update_one({"_id": subject.id}, {"$set": {"published": True}})

    async def touch(self, subject: Subject, placed_at: datetime) -> None:
        await self.collection.update_one(
            {"_id": subject.id}, {"$max": {"last_order_at": placed_at}}
        )

    async def forget_key(self, connection_id: str, key_id: str) -> int:
        # Not by `_id` (the digest is not known from the key): erasures are rare.
        result = await self.collection.delete_many(
            {"connection_id": connection_id, "key_id": key_id}
        )
        return result.deleted_count

    async def expired(self, connection_id: str, before: datetime, limit: int) -> list[Subject]:
        cursor = self.collection.find(
            {"connection_id": connection_id, "last_order_at": {"$lt": before}}
        ).limit(limit)
        return [Subject.from_doc(doc) async for doc in cursor]

    async def remove(self, subject: Subject) -> None:
        await self.collection.delete_one({"_id": subject.id, "key_id": subject.key_id})


class MemorySubjectStore:
    """The in-memory twin (tests); the store contract holds it to the MongoDB one."""

    def __init__(self) -> None:
        self.subjects: dict[str, Subject] = {}

    async def get(self, connection_id: str, digest: str) -> Subject | None:
        return self.subjects.get(f"{connection_id}:{digest}")

    async def add(self, subject: Subject) -> Subject:
        return self.subjects.setdefault(subject.id, subject)

    async def mark_published(self, subject: Subject) -> None:
        if subject.id in self.subjects:
            self.subjects[subject.id] = replace(self.subjects[subject.id], published=True)

    async def touch(self, subject: Subject, placed_at: datetime) -> None:
        stored = self.subjects.get(subject.id)
        if stored is not None and placed_at > stored.last_order_at:
            self.subjects[subject.id] = replace(stored, last_order_at=placed_at)

    async def forget_key(self, connection_id: str, key_id: str) -> int:
        gone = [
            sid
            for sid, s in self.subjects.items()
            if s.connection_id == connection_id and s.key_id == key_id
        ]
        for sid in gone:
            del self.subjects[sid]
        return len(gone)

    async def expired(self, connection_id: str, before: datetime, limit: int) -> list[Subject]:
        found = [
            s
            for s in self.subjects.values()
            if s.connection_id == connection_id and s.last_order_at < before
        ]
        return found[:limit]

    async def remove(self, subject: Subject) -> None:
        stored = self.subjects.get(subject.id)
        if stored is not None and stored.key_id == subject.key_id:
            del self.subjects[subject.id]
