"""Fixtures: the Octopus sandbox on a real port, the service on the real broker and database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from koppel_contracts import CONNECTIONS, SHOP_ORDERS, OrderEvent
from koppel_ledger import LedgerRuntime
from koppel_ledger_octopus import LedgerOctopusSettings, build
from koppel_sandbox_kit import serve
from koppel_sandbox_octopus import OctopusControl, OctopusState, create_app
from koppel_testkit import publish_raw

from .helpers import CONNECTION, demo_settings, settings_event


@dataclass
class Octopus:
    url: str
    state: OctopusState
    control: OctopusControl


@pytest.fixture
async def octopus() -> AsyncIterator[Octopus]:
    state = OctopusState.demo()
    async with serve(create_app(state)) as url, OctopusControl(url) as control:
        yield Octopus(url, state, control)


FAST = {
    "http_timeout_seconds": 1.0,
    "http_max_attempts": 2,
    "http_max_retry_seconds": 2.0,
    "http_initial_backoff_seconds": 0.05,
    "http_max_backoff_seconds": 0.2,
    "retry_initial_seconds": 0.3,
    "retry_factor": 1.5,
    "retry_max_seconds": 2.0,
    "scheduler_interval_seconds": 0.2,
    "settings_pending_recheck_seconds": 1.0,
    "lock_seconds": 5.0,
}


@pytest.fixture
def service_settings(make_settings) -> Callable[..., LedgerOctopusSettings]:
    def make(**overrides: Any) -> LedgerOctopusSettings:
        return make_settings(
            LedgerOctopusSettings, service_name="ledger-octopus", **{**FAST, **overrides}
        )

    return make


class Running:
    """The service under test, started in this event loop."""

    def __init__(self, settings: LedgerOctopusSettings) -> None:
        self.settings = settings
        self.service = build(settings)
        self.runtime: LedgerRuntime = self.service.runtime  # type: ignore[attr-defined]

    @property
    def orders(self):
        return self.service.db["orders"]

    async def start(self) -> Running:
        await self.service.start()
        return self

    async def stop(self) -> None:
        await self.service.stop()


@pytest.fixture
async def ledger(service_settings, kafka_topics) -> AsyncIterator[Callable[..., Any]]:
    """ledger(**settings overrides) -> a started service; stopped after the test."""
    started: list[Running] = []

    async def start(**overrides: Any) -> Running:
        running = await Running(service_settings(**overrides)).start()
        started.append(running)
        return running

    yield start
    for running in reversed(started):
        if running.service.started:
            await running.stop()


@pytest.fixture
def publish_order(kafka_bootstrap, kafka_topics) -> Callable[[OrderEvent], Any]:
    async def publish(event: OrderEvent) -> None:
        await publish_raw(
            kafka_bootstrap,
            kafka_topics[SHOP_ORDERS.name],
            event.model_dump_json().encode(),
            f"{event.connection_id}:{event.order_ref}".encode(),
        )

    return publish


@pytest.fixture
def publish_connection(kafka_bootstrap, kafka_topics, secrets_key, octopus):
    async def publish(version: int = 1, connection_id: str = CONNECTION, **options: Any) -> None:
        settings = demo_settings(octopus.url, secrets_key, **options)
        event = settings_event(settings, version, connection_id)
        await publish_raw(
            kafka_bootstrap,
            kafka_topics[CONNECTIONS.name],
            event.model_dump_json().encode(),
            connection_id.encode(),
        )

    return publish
