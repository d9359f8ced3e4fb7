"""Each service's own copy of the connection settings it needs.

Settings arrive whole on the compacted `config.connections.v1` topic; the
latest version wins, so a replayed older event never overwrites a newer one.
Secrets stay encrypted in the document and are decrypted only in memory, when
a client needs them (`SecretBox.decrypt`). A tombstone removes the connection.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from faststream.kafka import KafkaMessage
from koppel_contracts import (
    CONNECTIONS,
    SETTINGS_APPLIED,
    ConnectionSettings,
    ConnectionSettingsEvent,
    SettingsApplied,
    SourceSystem,
    make_event_id,
)

from .broker import decoded
from .mongo import AsyncCollection, Document, DuplicateKeyError, IndexSpec
from .service import Service

log = logging.getLogger(__name__)

COLLECTION = "connections"
INDEXES = [IndexSpec(COLLECTION, [("version", 1)])]

SettingsChanged = Callable[[str, ConnectionSettings | None], Awaitable[None]]


class ConnectionStore:
    """The stored settings per connection.

    `current()` may answer from memory for `cache_seconds` (0: never), for services
    that look the settings up once per message. Changes this process applies are
    seen at once; a change applied by another replica (the topic's partitions are
    shared out between them) is seen within `cache_seconds`.
    """

    def __init__(self, collection: AsyncCollection[Document], cache_seconds: float = 0.0) -> None:
        self.collection = collection
        self.cache_seconds = cache_seconds
        self._cached: dict[str, tuple[float, tuple[ConnectionSettings, int] | None]] = {}

    async def apply(self, event: ConnectionSettingsEvent) -> bool:
        """Store the event unless we hold a newer version; True when the event's
        version is now the stored one.

        An equal version counts as applied: when reacting to a change failed and
        Kafka redelivers the event, the reaction (`on_change`) must run again.
        """
        try:
            return await self._apply(event)
        finally:
            self._cached.pop(event.connection_id, None)

    async def _apply(self, event: ConnectionSettingsEvent) -> bool:
        stored = await self.version_of(event.connection_id)
        if stored is not None and stored > event.version:
            return False
        if stored == event.version:
            return True
        try:
            result = await self.collection.update_one(
                {"_id": event.connection_id, "version": {"$lt": event.version}},
                {
                    "$set": {
                        "version": event.version,
                        "settings": event.settings.model_dump(mode="json"),
                        "updated_at": datetime.now(UTC),
                    }
                },
                upsert=True,
            )
        except DuplicateKeyError:
            # Someone stored a version concurrently; applied if it is this one.
            return await self.version_of(event.connection_id) == event.version
        return result.modified_count == 1 or result.upserted_id is not None

    async def remove(self, connection_id: str) -> None:
        await self.collection.delete_one({"_id": connection_id})
        self._cached.pop(connection_id, None)

    async def current(self, connection_id: str) -> tuple[ConnectionSettings, int] | None:
        """The settings and their version in one read (or from memory, see above)."""
        now = time.monotonic()
        cached = self._cached.get(connection_id)
        if cached is not None and now - cached[0] < self.cache_seconds:
            return cached[1]
        doc = await self.collection.find_one({"_id": connection_id})
        found = None
        if doc is not None:
            found = (ConnectionSettings.model_validate(doc["settings"]), int(doc["version"]))
        # Only settings are kept: "none yet" is asked again, so settings are seen the
        # moment they are stored (orders that arrived first must not wait for the cache).
        if self.cache_seconds and found is not None:
            self._cached[connection_id] = (now, found)
        return found

    async def get(self, connection_id: str) -> ConnectionSettings | None:
        doc = await self.collection.find_one({"_id": connection_id})
        return ConnectionSettings.model_validate(doc["settings"]) if doc else None

    async def version_of(self, connection_id: str) -> int | None:
        doc = await self.collection.find_one({"_id": connection_id}, {"version": 1})
        return doc["version"] if doc else None

    async def versions(self) -> dict[str, int]:
        """Every connection's stored settings version, in one query."""
        return {d["_id"]: d["version"] async for d in self.collection.find({}, {"version": 1})}

    async def all(self) -> dict[str, ConnectionSettings]:
        found: dict[str, ConnectionSettings] = {}
        async for doc in self.collection.find({}):
            found[doc["_id"]] = ConnectionSettings.model_validate(doc["settings"])
        return found


def applied(service: Service, event: ConnectionSettingsEvent) -> SettingsApplied:
    component = service.settings.service_name
    return SettingsApplied(
        event_id=make_event_id(
            "settings_applied", component, event.connection_id, str(event.version)
        ),
        occurred_at=datetime.now(UTC),
        connection_id=event.connection_id,
        source_system=SourceSystem.KOPPEL,
        component=component,
        version=event.version,
    )


def follow_connections(
    service: Service, store: ConnectionStore, on_change: SettingsChanged | None = None
) -> None:
    """Keep `store` in step with the settings topic; call `on_change` after each applied change."""
    service.indexes.extend(INDEXES)
    service.publishes(SETTINGS_APPLIED)

    @service.subscriber(CONNECTIONS, purpose="connections")
    async def handle_connection_settings(msg: KafkaMessage) -> None:
        raw = msg.raw_message
        if not msg.body:
            connection_id = raw.key.decode() if raw.key else ""  # type: ignore[union-attr]
            if connection_id:
                await store.remove(connection_id)
                log.info("connection removed", extra={"connection_id": connection_id})
                if on_change:
                    await on_change(connection_id, None)
            return
        event = await decoded(msg, ConnectionSettingsEvent)
        if await store.apply(event):
            log.info(
                "connection settings applied",
                extra={"connection_id": event.connection_id, "version": event.version},
            )
            if on_change:
                await on_change(event.connection_id, event.settings)
            # Tell whoever shows the settings (the dashboard) that this service has them.
            await service.publisher.publish(SETTINGS_APPLIED, applied(service, event))
