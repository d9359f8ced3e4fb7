"""The service as it runs (`build(settings)`): real Kafka and MongoDB-compatible server,
the PrestaShop sandbox over HTTP. Connection settings arrive on config.connections.v1;
the leased poll publishes an order once, then its edit and its cancellation."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from koppel_chassis import Service
from koppel_contracts import (
    CONNECTIONS,
    SHOP_ORDERS,
    ConnectionSettingsEvent,
    OrderEvent,
    OrderEventKind,
    SourceSystem,
)
from koppel_ingest.states import MongoStateStore
from koppel_ingest_prestashop.app import build
from koppel_ingest_prestashop.settings import IngestPrestashopSettings
from koppel_sandbox_kit import free_port, serve
from koppel_testkit import eventually, publish_raw, read_events

from .prestashop_harness import COFFEE, PrestashopHarness

CONNECTION_ID = "deboon-prestashop"


@asynccontextmanager
async def running(make_settings: Any) -> AsyncIterator[Service]:
    port = free_port()
    settings = make_settings(
        IngestPrestashopSettings,
        service_name="ingest-prestashop",
        http_port=port,
        poll_interval_seconds=1,
    )
    service = build(settings)
    async with serve(service.asgi(), port=port):  # the lifespan starts and stops it
        yield service


async def test_the_service_polls_and_publishes_an_order_its_edit_and_its_cancellation(
    harness: PrestashopHarness,
    make_settings: Any,
    kafka_topics: dict[str, str],
    kafka_bootstrap: str,
) -> None:
    async def orders(at_least: int, settle: float = 0.0) -> list[OrderEvent]:
        """Every order event so far, once there are `at_least` (and `settle` s more)."""
        topic = kafka_topics[SHOP_ORDERS.name]
        return await read_events(
            kafka_bootstrap, topic, OrderEvent, at_least=at_least, settle=settle
        )

    async with running(make_settings) as service:
        event = ConnectionSettingsEvent.of(CONNECTION_ID, harness.settings(), 1)
        await publish_raw(
            kafka_bootstrap,
            kafka_topics[CONNECTIONS.name],
            event.model_dump_json().encode(),
            CONNECTION_ID.encode(),
        )
        states = MongoStateStore(service.db)

        async def taken_in() -> bool:
            return await states.get(CONNECTION_ID) is not None

        await eventually(taken_in, timeout=20)
        order = await harness.place_order()
        [created] = await orders(1, settle=0.5)
        assert (created.kind, created.order_ref, created.source_system) == (
            OrderEventKind.CREATED,
            order,
            SourceSystem.PRESTASHOP,
        )
        assert created.order.totals.total_incl_vat == Decimal("68.95")  # 49.90 + 12.10 + 6.95
        await harness.control.edit_order(int(order), rows=[{**COFFEE, "quantity": 1}])
        await orders(2)
        await harness.control.cancel_order(int(order))
        events = await orders(3, settle=1.0)  # and nothing more
        assert [(e.kind, e.revision) for e in events] == [
            (OrderEventKind.CREATED, 1),
            (OrderEventKind.AMENDED, 2),
            (OrderEventKind.CANCELLED, 3),
        ]
        state = await states.get(CONNECTION_ID)
        assert state is not None and json.loads(state.cursor or "{}")["orders"]
