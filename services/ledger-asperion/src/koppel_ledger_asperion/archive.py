"""Sealed deliveries: the record of each (`asperion_deliveries`) and its ZIP's bytes (GridFS
bucket `asperion_zips`).

A delivery is sealed by one insert with a unique `_id` (the delivery id,
`<connection>/<YYYY-MM-DD>/<n>`): the record names the documents it holds and the GridFS
file with their bytes. Whoever inserts it first has sealed it; the content fields are
never written again, and the GridFS file is never rewritten (a fresh file id per
attempt, so a loser's or a crashed attempt's file can never mix with the sealed one).
One exception: an erased customer (`erasure.py`) — the ZIP is packed again from the
anonymised documents under a fresh file id, and `file_id`, `sha256`, `size` follow it
(`erased_at` says when); its documents, numbers, totals and VAT stay as sealed.
What happens to a sealed delivery afterwards (read-back check, mail, SFTP) is recorded in
its `check`, `mail` and `sftp` fields.

This shape is read by the operator CLI (`koppel asperion deliveries`): `_id`,
`connection_id`, `name`, `count`, `sealed_at`, `file_id`, `sha256`, `size`, `mail`, `sftp`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bson import ObjectId
from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from koppel_chassis.mongo import AsyncDatabase, Document, DuplicateKeyError
from koppel_ledger.records import aware

DELIVERIES = "asperion_deliveries"
BUCKET = "asperion_zips"


def delivery_id(connection_id: str, day: date, seq: int) -> str:
    return f"{connection_id}/{day.isoformat()}/{seq}"


@dataclass(frozen=True)
class Delivery:
    id: str
    connection_id: str
    day: date
    seq: int
    name: str
    documents: tuple[str, ...]  # document ids, in the ZIP's order
    numbers: tuple[str, ...]
    file_id: ObjectId
    sha256: str
    size: int
    sealed_at: datetime
    trigger: str  # "schedule" | "request"
    status: dict[str, Any] = field(default_factory=dict, compare=False)  # check, mail, sftp

    @property
    def count(self) -> int:
        return len(self.documents)

    def to_doc(self) -> Document:
        return {
            "_id": self.id,
            "connection_id": self.connection_id,
            "day": self.day.isoformat(),
            "seq": self.seq,
            "name": self.name,
            "count": self.count,
            "documents": list(self.documents),
            "numbers": list(self.numbers),
            "file_id": self.file_id,
            "sha256": self.sha256,
            "size": self.size,
            "sealed_at": self.sealed_at,
            "trigger": self.trigger,
        }

    @classmethod
    def from_doc(cls, doc: Document) -> Delivery:
        return cls(
            id=doc["_id"],
            connection_id=doc["connection_id"],
            day=date.fromisoformat(doc["day"]),
            seq=int(doc["seq"]),
            name=doc["name"],
            documents=tuple(doc["documents"]),
            numbers=tuple(doc["numbers"]),
            file_id=doc["file_id"],
            sha256=doc["sha256"],
            size=int(doc["size"]),
            sealed_at=aware(doc["sealed_at"]),
            trigger=doc.get("trigger") or "schedule",
            status={k: doc[k] for k in ("check", "mail", "sftp") if k in doc},
        )

    def summary(self) -> dict[str, Any]:
        """What the control route answers about a delivery."""
        return {
            "delivery_id": self.id,
            "name": self.name,
            "count": self.count,
            "numbers": list(self.numbers),
            "sha256": self.sha256,
            "size": self.size,
            "sealed_at": self.sealed_at.isoformat(),
            **{k: _plain(v) for k, v in self.status.items()},
        }


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return aware(value).isoformat()
    return value


class ContentMismatch(RuntimeError):
    """The stored bytes are not the sealed ones (their SHA-256 differs)."""


class DeliveryArchive:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.records = db[DELIVERIES]
        self.files = AsyncGridFSBucket(db, bucket_name=BUCKET)

    async def store_file(self, delivery: str, connection_id: str, name: str, data: bytes) -> Any:
        """Upload an attempt's ZIP under a fresh id (never overwrites another attempt's)."""
        file_id = ObjectId()
        await self.files.upload_from_stream_with_id(
            file_id, name, data, metadata={"delivery_id": delivery, "connection_id": connection_id}
        )
        return file_id

    async def drop_file(self, file_id: Any) -> None:
        try:
            await self.files.delete(file_id)
        except NoFile:
            pass

    async def seal(self, delivery: Delivery) -> Delivery:
        """Insert the record; the delivery that stands (ours, or one sealed first)."""
        try:
            await self.records.insert_one(delivery.to_doc())
        except DuplicateKeyError:
            sealed = await self.get(delivery.id)
            assert sealed is not None, f"delivery {delivery.id} vanished"
            return sealed
        return delivery

    async def get(self, delivery: str) -> Delivery | None:
        found = await self.records.find_one({"_id": delivery})
        return Delivery.from_doc(found) if found else None

    async def exists(self, delivery: str) -> bool:
        return await self.records.find_one({"_id": delivery}, {"_id": 1}) is not None

    async def of_connection(self, connection_id: str) -> list[Delivery]:
        cursor = self.records.find({"connection_id": connection_id}).sort("sealed_at", 1)
        return [Delivery.from_doc(d) async for d in cursor]

    async def content(self, delivery: Delivery) -> bytes:
        """The sealed bytes, checked against the seal's SHA-256."""
        stream = await self.files.open_download_stream(delivery.file_id)
        data = await stream.read()
        if hashlib.sha256(data).hexdigest() != delivery.sha256:
            raise ContentMismatch(f"delivery {delivery.id}: stored bytes differ from the seal")
        return data

    async def note(self, delivery: str, what: str, value: dict[str, Any]) -> None:
        """Record what happened to a sealed delivery (`check`, `mail`, `sftp`)."""
        await self.records.update_one({"_id": delivery}, {"$set": {what: value}})

    async def orphan_files(self, delivery: Delivery) -> list[Any]:
        """Files of the delivery's losing or crashed attempts (not the sealed one)."""
        cursor = self.files.find({"metadata.delivery_id": delivery.id})
        return [f._id async for f in cursor if f._id != delivery.file_id]
