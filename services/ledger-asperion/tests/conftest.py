"""Fixtures: the file ledger on the real MongoDB-compatible server, the runtime driven in
memory (koppel_ledger.testing.Driver), the delivery service with a real SMTP catcher."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from koppel_chassis import ConnectionStore, SecretBox
from koppel_contracts import ConnectionSettings, Envelope, OrderEvent, Topic
from koppel_ledger import ManualClock, OrderRecord
from koppel_ledger.testing import CONNECTION, Driver
from koppel_ledger_asperion import LedgerAsperionSettings
from koppel_ledger_asperion.adapter import AsperionAdapter
from koppel_ledger_asperion.schedule import DeliveryService
from koppel_testkit import SmtpCatcher, make_order, make_order_event

from .asperion_helpers import demo_settings, settings_event


@dataclass
class Published:
    events: list[tuple[Topic, Envelope]] = field(default_factory=list)

    async def publish(self, topic: Topic, event: Envelope) -> None:
        self.events.append((topic, event))


@dataclass
class Asperion:
    """The file ledger and its deliveries for one test (connection `contract-shop`)."""

    db: Any
    adapter: AsperionAdapter
    driver: Driver
    service: DeliveryService
    connections: ConnectionStore
    catcher: SmtpCatcher
    published: Published
    clock: ManualClock
    secrets_key: str
    version: int = 1

    async def connect(self, settings: ConnectionSettings | None = None) -> ConnectionSettings:
        settings = settings or demo_settings()
        self.version += 1
        await self.connections.apply(settings_event(settings, self.version, CONNECTION))
        await self.driver.connect(settings, version=self.version)
        return settings

    async def order(self, ref: str, **order: Any) -> OrderRecord:
        return await self.driver.order(event(ref, **order))

    def delivery_service(self, **overrides: Any) -> DeliveryService:
        """Another replica (or the same after a restart) on the same database."""
        settings = self.service.settings.model_copy(update=overrides)
        return DeliveryService(
            self.db,
            settings,
            connections=self.connections,
            publish=self.published.publish,
            secrets=SecretBox(self.secrets_key),
            clock=self.clock,
        )


def event(ref: str, *, revision: int = 1, kind: Any = None, **order: Any) -> OrderEvent:
    extra = {"kind": kind} if kind is not None else {}
    return make_order_event(
        make_order(order_id=ref, **order), connection_id=CONNECTION, revision=revision, **extra
    )


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpCatcher]:
    catcher = SmtpCatcher()
    await catcher.start()
    yield catcher
    await catcher.stop()


@pytest.fixture
async def asperion(mongo_db, smtp, secrets_key) -> AsyncIterator[Asperion]:
    clock = ManualClock(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))  # 10:00 in Amsterdam
    adapter = AsperionAdapter(mongo_db)
    settings = LedgerAsperionSettings(
        smtp_port=smtp.port,
        send_retry_initial_seconds=60,
        delivery_lease_seconds=60,
    )
    connections = ConnectionStore(mongo_db["connections"])
    published = Published()
    service = DeliveryService(
        mongo_db,
        settings,
        connections=connections,
        publish=published.publish,
        secrets=SecretBox(secrets_key),
        clock=clock,
    )
    ledger = Asperion(
        mongo_db,
        adapter,
        Driver(adapter),
        service,
        connections,
        smtp,
        published,
        clock,
        secrets_key,
    )
    await ledger.connect()
    yield ledger
