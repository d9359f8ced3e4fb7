"""Each service's own copy of the customer keys it needs (`privacy_keys`), followed from the
compacted `privacy.keys.v1` topic like the connection settings.

Keys stay wrapped (platform key) in the document. An erasure is final: the document keeps
the key id with state `erased` and no key, and an `active` record replayed after it (the
topic not yet compacted, or a replay from the start) does not bring the key back. The
marker is what tells "erased" from "not arrived yet" — an order whose key has not arrived
waits; an order whose key was erased is booked anonymously.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from koppel_chassis.mongo import AsyncCollection, AsyncDatabase, Document
from koppel_contracts import CustomerKeyEvent, CustomerKeyState

COLLECTION = "privacy_keys"


@dataclass(frozen=True)
class StoredKey:
    key_id: str
    connection_id: str
    state: CustomerKeyState
    wrapped: str | None  # the key, encrypted with the platform key; None once erased

    @property
    def erased(self) -> bool:
        return self.state == CustomerKeyState.ERASED

    def to_doc(self) -> Document:
        return {
            "_id": self.key_id,
            "connection_id": self.connection_id,
            "state": self.state.value,
            "key": self.wrapped,
            "updated_at": datetime.now(UTC),
        }

    @classmethod
    def from_doc(cls, doc: Document) -> StoredKey:
        return cls(
            key_id=doc["_id"],
            connection_id=doc["connection_id"],
            state=CustomerKeyState(doc["state"]),
            wrapped=doc.get("key"),
        )

    @classmethod
    def of(cls, event: CustomerKeyEvent) -> StoredKey:
        return cls(event.key_id, event.connection_id, event.state, event.key)


class KeyStore(Protocol):
    async def get(self, key_id: str) -> StoredKey | None: ...

    async def apply(self, event: CustomerKeyEvent) -> bool:
        """Store the key or its erasure; False when an erasure is already stored."""
        ...

    async def erase(self, connection_id: str, key_id: str) -> None: ...


class MongoKeyStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection: AsyncCollection[Document] = db[COLLECTION]

    async def get(self, key_id: str) -> StoredKey | None:
        doc = await self.collection.find_one({"_id": key_id})
        return StoredKey.from_doc(doc) if doc else None

    async def apply(self, event: CustomerKeyEvent) -> bool:
        if event.state == CustomerKeyState.ERASED:
            await self.erase(event.connection_id, event.key_id)
            return True
        # One consumer owns a key's partition, so read-then-write is safe here (a key's
        # records arrive in order, one at a time).
        stored = await self.get(event.key_id)
        if stored is not None and stored.erased:
            return False
        await self.collection.replace_one(
            {"_id": event.key_id}, StoredKey.of(event).to_doc(), upsert=True
        )
        return True

    async def erase(self, connection_id: str, key_id: str) -> None:
        marker = StoredKey(key_id, connection_id, CustomerKeyState.ERASED, None)
        await self.collection.replace_one({"_id": key_id}, marker.to_doc(), upsert=True)


class MemoryKeyStore:
    """The in-memory twin (tests); the store contract holds it to the MongoDB one."""

    def __init__(self) -> None:
        self.keys: dict[str, StoredKey] = {}

    async def get(self, key_id: str) -> StoredKey | None:
        return self.keys.get(key_id)

    async def apply(self, event: CustomerKeyEvent) -> bool:
        if event.state == CustomerKeyState.ERASED:
            await self.erase(event.connection_id, event.key_id)
            return True
        stored = self.keys.get(event.key_id)
        if stored is not None and stored.erased:
            return False
        self.keys[event.key_id] = StoredKey.of(event)
        return True

    async def erase(self, connection_id: str, key_id: str) -> None:
        self.keys[key_id] = StoredKey(key_id, connection_id, CustomerKeyState.ERASED, None)
