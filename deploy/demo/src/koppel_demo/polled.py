"""Connecting a merchant whose shop has no webhooks (PrestaShop, Bol.com): publish the
connection settings, then wait until the shop's ingest service has taken them in — from
then on it polls the shop, and orders placed from then on are found by its next poll."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from koppel_chassis import ServiceSettings
from koppel_cli.connections import publish_connection
from koppel_contracts import ConnectionSettings
from koppel_ingest.states import MongoStateStore
from pymongo import AsyncMongoClient

from .config import SystemConfig, database_prefix


async def publish_polled_connection(
    config: SystemConfig,
    service: str,
    connection_id: str,
    connection: ConnectionSettings,
    *,
    timeout: float = 30.0,
) -> int:
    """Publish the connection (version: now in milliseconds) and wait until `service`
    (`ingest-bol`) polls with it. Returns the version published."""
    settings = ServiceSettings(
        service_name="koppel-demo",
        kafka_bootstrap_servers=config.kafka_bootstrap,
        topic_prefix=config.isolation,
    )
    version = time.time_ns() // 1_000_000
    await publish_connection(settings, connection_id, connection, version)
    await wait_until_polling(config, service, connection_id, version, timeout=timeout)
    return version


async def wait_until_polling(
    config: SystemConfig, service: str, connection_id: str, version: int, *, timeout: float
) -> None:
    """`service` has taken the settings `version` in (its connection state has it): orders
    changed from then on (and up to its overlap window before) are polled."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        config.mongodb_uri, serverSelectionTimeoutMS=5000
    )
    try:
        database = f"{database_prefix(config)}{service.replace('-', '_')}"
        states = MongoStateStore(client[database])
        deadline = time.monotonic() + timeout
        while True:
            state = await states.get(connection_id)
            if state is not None and state.settings_version >= version:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{service} did not take in connection {connection_id} within {timeout:.0f}s"
                )
            await asyncio.sleep(0.2)
    finally:
        await client.close()
