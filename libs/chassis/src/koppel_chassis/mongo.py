"""MongoDB access with PyMongo's native async client.

Only what real MongoDB *and* FerretDB both do is used anywhere in Koppel:
single-document atomicity, unique indexes, upserts, find_one_and_update.
No transactions, no TTL indexes, no change streams — expiry is a periodic delete.
Where exactly one of several racing replicas must win, decide it with a unique insert:
FerretDB's conditional updates are not exclusive under concurrency.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from .settings import ServiceSettings

Document = dict[str, Any]

__all__ = [
    "AsyncCollection",
    "AsyncDatabase",
    "Document",
    "DuplicateKeyError",
    "IndexSpec",
    "create_mongo_client",
    "ensure_indexes",
    "purge_expired",
]


@dataclass(frozen=True)
class IndexSpec:
    collection: str
    keys: Sequence[tuple[str, int]]
    unique: bool = False
    name: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


def create_mongo_client(settings: ServiceSettings) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(
        settings.mongodb_uri.get_secret_value(),
        tz_aware=True,
        appname=settings.service_name,
        serverSelectionTimeoutMS=5000,
    )


async def ensure_indexes(db: AsyncDatabase[Document], specs: Sequence[IndexSpec]) -> None:
    """Create the indexes a service relies on; idempotent, run at every start."""
    for spec in specs:
        await db[spec.collection].create_index(
            list(spec.keys),
            unique=spec.unique,
            name=spec.name or "_".join(f"{k}_{d}" for k, d in spec.keys),
            **spec.options,
        )


async def purge_expired(
    collection: AsyncCollection[Document], field_name: str, now: datetime, grace: timedelta
) -> int:
    """The portable stand-in for a TTL index: delete documents whose time has passed."""
    result = await collection.delete_many({field_name: {"$lt": now - grace}})
    return result.deleted_count
