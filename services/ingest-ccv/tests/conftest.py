"""The service on the real broker and database, against the CCV sandbox over real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from koppel_chassis import SecretBox, Service
from koppel_contracts import (
    CONNECTIONS,
    OPS_ALERTS,
    SHOP_ORDERS,
    AlertEvent,
    ConnectionSettings,
    ConnectionSettingsEvent,
    LedgerConnection,
    LedgerSystem,
    Merchant,
    OrderEvent,
    ShopConnection,
    ShopOptions,
    ShopSystem,
)
from koppel_ingest import webhook_address
from koppel_ingest.states import MongoStateStore
from koppel_ingest_ccv.adapter import CcvWebhooks
from koppel_ingest_ccv.app import build
from koppel_ingest_ccv.settings import IngestCcvSettings
from koppel_sandbox_ccvshop import ApiKey, CcvShopControl, CcvShopState, create_app
from koppel_sandbox_kit import free_port, serve
from koppel_testkit import publish_raw, read_events
from pydantic import BaseModel
from pymongo import AsyncMongoClient

from .ccv_harness import CcvHarness

M = TypeVar("M", bound=BaseModel)

CONNECTION_ID = "deboon-ccv"


@dataclass
class Shop:
    url: str
    state: CcvShopState
    control: CcvShopControl
    key: ApiKey


@pytest.fixture
async def shop() -> AsyncIterator[Shop]:
    state = CcvShopState()
    async with serve(create_app(state)) as url, CcvShopControl(url) as control:
        yield Shop(url, state, control, await control.create_api_key())


@pytest.fixture
async def harness(shop: Shop, secrets_key: str) -> AsyncIterator[CcvHarness]:
    """The sandbox as the ingest runtime's contract suite drives it (no Kafka, no MongoDB)."""
    harness = CcvHarness(shop.url, shop.control, shop.key, SecretBox(secrets_key))
    yield harness
    await harness.adapter.aclose()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        assert loop.time() < deadline, "timed out waiting"
        await asyncio.sleep(0.1)


@dataclass
class Koppel:
    """The running service plus what a test needs around it."""

    service: Service
    settings: IngestCcvSettings
    shop: Shop
    bootstrap: str
    topics: dict[str, str]
    secrets_key: str

    @property
    def webhook_url(self) -> str:
        return webhook_address(self.settings.public_base_url, CcvWebhooks.route, CONNECTION_ID)

    async def connect(
        self,
        *,
        version: int = 1,
        secret: str | None = None,
        triggers: tuple[str, ...] = ("paid",),
        wait: bool = True,
    ) -> None:
        """Publish the connection's settings (secret encrypted) and, by default,
        wait until the service has registered its webhooks with the shop."""
        box = SecretBox(self.secrets_key)
        settings = ConnectionSettings(
            merchant=Merchant(
                name="Koffiebranderij De Boon", contact_email="boekhouding@deboon.nl"
            ),
            shop=ShopConnection(
                system=ShopSystem.CCVSHOP,
                base_url=self.shop.url,
                account_id=self.shop.key.public,
                credentials={"api_secret": box.encrypt(secret or self.shop.key.secret)},
                options=ShopOptions(trigger_statuses=list(triggers)),
            ),
            ledger=LedgerConnection(
                system=LedgerSystem.OCTOPUS,
                base_url="https://octopus.example/",
                dossier_id="1234",
                credentials={"password": box.encrypt("geheim")},
            ),
        )
        event = ConnectionSettingsEvent.of(CONNECTION_ID, settings, version)
        await publish_raw(
            self.bootstrap,
            self.topics[CONNECTIONS.name],
            event.model_dump_json().encode(),
            CONNECTION_ID.encode(),
        )
        if wait:
            await self.registered(version)

    async def registered(self, version: int = 1) -> None:
        states = MongoStateStore(self.service.db)

        async def done() -> bool:
            state = await states.get(CONNECTION_ID)
            return (
                state is not None
                and state.settings_version == version
                and state.webhooks_address == self.webhook_url
            )

        await eventually(done)

    async def _read(self, topic: str, model: type[M], at_least: int, settle: float) -> list[M]:
        return await read_events(
            self.bootstrap, self.topics[topic], model, at_least=at_least, settle=settle
        )

    async def order_events(self, at_least: int = 1, settle: float = 2.0) -> list[OrderEvent]:
        """Every order event so far; waits for `at_least`, then `settle` more seconds."""
        return await self._read(SHOP_ORDERS.name, OrderEvent, at_least, settle)

    async def alerts(self, at_least: int = 1, settle: float = 2.0) -> list[AlertEvent]:
        return await self._read(OPS_ALERTS.name, AlertEvent, at_least, settle)


@pytest.fixture
async def start_koppel(
    shop: Shop,
    make_settings: Callable[..., Any],
    kafka_topics: dict[str, str],
    kafka_bootstrap: str,
    secrets_key: str,
) -> AsyncIterator[Callable[..., Awaitable[Koppel]]]:
    """Start the service (served on a real port, so the sandbox can deliver webhooks)."""
    async with AsyncExitStack() as stack:

        async def start(**overrides: Any) -> Koppel:
            port = free_port()
            values: dict[str, Any] = {
                "service_name": "ingest-ccv",
                "http_port": port,
                "public_base_url": f"http://127.0.0.1:{port}",
                # Tests that want the poll say so; the others must not be helped by it.
                "reconcile_interval_seconds": 3600,
                **overrides,
            }
            settings = make_settings(IngestCcvSettings, **values)
            service = build(settings)
            stack.push_async_callback(_drop_database, settings)  # runs after the stop
            # The ASGI app's lifespan starts and stops the service.
            await stack.enter_async_context(serve(service.asgi(), port=port))
            return Koppel(service, settings, shop, kafka_bootstrap, kafka_topics, secrets_key)

        yield start


async def _drop_database(settings: IngestCcvSettings) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        settings.mongodb_uri.get_secret_value()
    )
    try:
        await client.drop_database(settings.database_name)
    finally:
        await client.close()
