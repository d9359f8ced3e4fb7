"""Publishing and reading the compacted connection-settings topic."""

from __future__ import annotations

from koppel_chassis import EventPublisher, ServiceSettings, TopicNames, create_broker
from koppel_chassis.topic_reader import read_to_end
from koppel_contracts import (
    CONNECTIONS,
    ConnectionSettings,
    ConnectionSettingsEvent,
)
from prometheus_client import CollectorRegistry


async def publish_connection(
    settings: ServiceSettings, connection_id: str, connection: ConnectionSettings, version: int
) -> ConnectionSettingsEvent:
    event = ConnectionSettingsEvent.of(connection_id, connection, version)
    broker = create_broker(settings, CollectorRegistry())
    try:  # stop it also when connecting failed: it holds a producer either way
        await broker.connect()
        await EventPublisher(broker, TopicNames(settings.topic_prefix)).publish(CONNECTIONS, event)
    finally:
        await broker.stop()
    return event


async def delete_connection(settings: ServiceSettings, connection_id: str) -> None:
    broker = create_broker(settings, CollectorRegistry())
    try:
        await broker.connect()
        await broker.publish(
            None,
            topic=TopicNames(settings.topic_prefix).name(CONNECTIONS),
            key=connection_id.encode(),
        )
    finally:
        await broker.stop()


async def read_connections(settings: ServiceSettings) -> dict[str, ConnectionSettingsEvent]:
    """Latest settings per connection, as a compacted topic's reader sees them."""
    topic = TopicNames(settings.topic_prefix).name(CONNECTIONS)
    latest: dict[str, ConnectionSettingsEvent] = {}
    for record in await read_to_end(settings.kafka_bootstrap_servers, topic):
        key = record.key.decode() if record.key else ""
        if not record.value:
            latest.pop(key, None)
            continue
        event = ConnectionSettingsEvent.model_validate_json(record.value)
        current = latest.get(event.connection_id)
        if current is None or event.version >= current.version:
            latest[event.connection_id] = event
    return latest
