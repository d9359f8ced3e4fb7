"""The service on the real broker and database, against the bol sandbox over real sockets:
a business buyer's order is published within a poll, a handled return amends it, and once
the ledger's booking arrives on ledger.bookings.v1 the buyer's invoice request is answered
— once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from koppel_contracts import (
    CONNECTIONS,
    LEDGER_BOOKINGS,
    SHOP_ORDERS,
    BookingEvent,
    BookingStatus,
    ConnectionSettingsEvent,
    LedgerRef,
    OrderEvent,
    OrderEventKind,
    OrderSummary,
    SourceSystem,
    make_event_id,
)
from koppel_ingest_bol.app import build
from koppel_ingest_bol.settings import IngestBolSettings
from koppel_sandbox_kit import free_port, serve
from koppel_testkit import eventually, publish_raw, read_events

from .bol_harness import BOOK, CHARGER, BolHarness
from .test_bol_invoice_requests import asperion

CONNECTION_ID = "bladwijzer-bol"


async def test_orders_returns_and_invoice_requests_through_kafka_and_mongodb(
    harness: BolHarness,
    make_settings: Callable[..., Any],
    kafka_topics: dict[str, str],
    kafka_bootstrap: str,
) -> None:
    port = free_port()
    settings: IngestBolSettings = make_settings(
        IngestBolSettings,
        service_name="ingest-bol",
        http_port=port,
        poll_interval_seconds=1,
        invoice_interval_seconds=1,
        # bol lists 25 shipments pages a minute: a poll a second needs a looser sandbox.
        rate_limits=harness.service_settings().rate_limits,
        budget_share=1.0,
    )
    await harness.limit_rate()
    service = build(settings)
    harness.trigger = ["paid"]
    connection = harness.settings(ledger=asperion(), answer_invoice_requests=True)
    event = ConnectionSettingsEvent.of(CONNECTION_ID, connection, 1)
    async with serve(service.asgi(), port=port) as url:
        await publish_raw(
            kafka_bootstrap,
            kafka_topics[CONNECTIONS.name],
            event.model_dump_json().encode(),
            CONNECTION_ID.encode(),
        )
        order_id = await harness.place_order(
            bookable=False,
            business=True,
            invoiceRequested=True,
            items=[{"ean": BOOK, "quantity": 2}, {"ean": CHARGER}],
        )
        shipment = str((await harness.control.ship(order_id))["shipmentId"])
        [created] = await read_events(
            kafka_bootstrap, kafka_topics[SHOP_ORDERS.name], OrderEvent, timeout=40
        )
        assert (created.kind, created.order_ref) == (OrderEventKind.CREATED, order_id)
        assert created.source_system == SourceSystem.BOL
        assert created.order.customer.vat_number == "NL859637412B01"

        detail = await harness.control.order(order_id)
        await harness.give_back(detail["orderItems"][0]["orderItemId"], 1)
        events = await read_events(
            kafka_bootstrap, kafka_topics[SHOP_ORDERS.name], OrderEvent, at_least=2, timeout=40
        )
        assert len(events) == 2, "each revision once"
        amended = events[1]
        assert (amended.kind, amended.revision) == (OrderEventKind.AMENDED, 2)
        assert [ln.quantity for ln in amended.order.lines] == [Decimal(1), Decimal(1)]

        await publish_raw(
            kafka_bootstrap,
            kafka_topics[LEDGER_BOOKINGS.name],
            booking(amended).model_dump_json().encode(),
            f"{CONNECTION_ID}:{order_id}".encode(),
        )

        async def uploaded() -> list[Any]:
            return list(await harness.control.invoices(shipment))

        [invoice] = await eventually(uploaded, timeout=40)
        assert invoice["kind"] == "ubl" and invoice["accepted"]
        async with httpx.AsyncClient() as http:
            metrics = (await http.get(f"{url}/metrics")).text
        assert 'koppel_bol_api_calls_total{group="orders-list"}' in metrics
        assert 'koppel_bol_invoice_requests_total{outcome="uploaded"} 1.0' in metrics
    assert len(await harness.control.invoices(shipment)) == 1


def booking(order: OrderEvent) -> BookingEvent:
    return BookingEvent(
        event_id=make_event_id("booking", order.event_id),
        occurred_at=datetime.now(UTC),
        connection_id=order.connection_id,
        source_system=SourceSystem.ASPERION,
        order_ref=order.order_ref,
        order_revision=order.revision,
        status=BookingStatus.BOOKED,
        order=OrderSummary(
            order_number=order.order.order_number,
            placed_on=order.order.placed_at.date(),
            total_incl_vat=order.order.totals.total_incl_vat,
            currency="EUR",
        ),
        ledger_ref=LedgerRef(booking_id="doc-1", document_number="VF2026-0100"),
    )
