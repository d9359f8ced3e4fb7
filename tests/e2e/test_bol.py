"""Bol.com → Octopus end to end: orders placed at the Bol.com sandbox, polled by ingest-bol
(no webhooks, no VAT from Bol: the connection's EAN table), become sales bookings in the
merchant's Octopus dossier, exactly once each, read back and checked — a mixed-rate order,
a business buyer on a debtor of its own (its invoice request answered once), a cancellation
credited, and an order Bol stopped showing before a poll saw it, caught up from its
shipment.

Every part is its own process (the session's system); the seller account is driven through
the sandbox's control API, what happened is read from Octopus, ingest-bol's metrics and
the topics.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from koppel_contracts import (
    LEDGER_BOOKINGS,
    LEDGER_CHECKS,
    SHOP_ORDERS,
    BookingEvent,
    BookingStatus,
    CheckEvent,
    CheckOutcome,
    OrderEvent,
    OrderEventKind,
    RateAmount,
)
from koppel_demo.bol import (
    ATLAS,
    BOL_CONNECTION_ID,
    BOL_DOSSIER_ID,
    BOL_MERCHANT_EMAIL,
    BOOK,
    CHARGER,
    COOKBOOK,
    EARBUDS,
    bol_control,
    connect_bol,
)
from koppel_demo.processes import ProcessGroup
from koppel_demo.system import SystemConfig
from koppel_sandbox_bol import BolControl
from koppel_sandbox_octopus import OctopusControl
from koppel_testkit import SmtpCatcher, eventually, read_events
from prometheus_client.parser import text_string_to_metric_families

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

COLLECTIVE = "Consumenten Bol.com"
HANDLED_ORDERS_LEAVE_THE_LIST = 49 * 3600  # Bol lists a handled order for 48 hours


@pytest.fixture
async def bol(config: SystemConfig, system: ProcessGroup) -> AsyncIterator[BolControl]:
    async with bol_control(config) as control:
        yield control


@pytest.fixture
async def octopus(config: SystemConfig, system: ProcessGroup) -> AsyncIterator[OctopusControl]:
    async with OctopusControl(config.url(config.ports.octopus)) as control:
        yield control


def _vat(amounts: list[RateAmount] | None) -> dict[Decimal, Decimal]:
    return {v.vat_rate: v.amount for v in amounts or []}


def _d(value: str) -> Decimal:
    return Decimal(value)


async def _checks(config: SystemConfig, refs: set[str]) -> dict[tuple[str, int], list[CheckEvent]]:
    events = await read_events(
        config.kafka_bootstrap, config.isolation + LEDGER_CHECKS.name, CheckEvent, timeout=5
    )
    found: dict[tuple[str, int], list[CheckEvent]] = {}
    for check in events:
        if check.connection_id == BOL_CONNECTION_ID and check.order_ref in refs:
            found.setdefault((check.order_ref, check.order_revision), []).append(check)
    return found


async def _checked(
    config: SystemConfig, orders: list[dict[str, Any]], revision: int = 1
) -> dict[tuple[str, int], list[CheckEvent]]:
    """Wait until each order's `revision` was booked and read back."""
    refs = {str(o["orderId"]) for o in orders}

    async def all_there() -> dict[tuple[str, int], list[CheckEvent]]:
        found = await _checks(config, refs)
        return found if all((ref, revision) in found for ref in refs) else {}

    return await eventually(all_there, timeout=30, interval=0.5)


async def _topic(config: SystemConfig, name: str, model: type[Any]) -> list[Any]:
    events = await read_events(
        config.kafka_bootstrap, config.isolation + name, model, timeout=10, settle=1.0
    )
    return [e for e in events if e.connection_id == BOL_CONNECTION_ID]


def _revisions(events: list[Any], order: dict[str, Any], attribute: str) -> list[tuple[Any, int]]:
    """Distinct (kind or status, revision) of an order, in revision order: a redelivered
    event (the same event id) counts once."""
    seen = {
        (getattr(e, attribute), e.revision if isinstance(e, OrderEvent) else e.order_revision)
        for e in events
        if e.order_ref == str(order["orderId"])
    }
    return sorted(seen, key=lambda pair: pair[1])


def _relation_of(document: dict[str, Any]) -> int:
    return int(document["relationIdentificationServiceData"]["relationKey"]["id"])


async def _sales_bookings(octopus: OctopusControl) -> dict[str, list[dict[str, Any]]]:
    """The dossier's sales bookings per reference (Bol's order id)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for booking in await octopus.buysell_bookings(BOL_DOSSIER_ID):
        found.setdefault(str(booking.get("reference")), []).append(booking)
    return found


async def _read_from_shipments(config: SystemConfig) -> float:
    """ingest-bol's count of orders it had to rebuild from their shipments."""
    async with httpx.AsyncClient(timeout=5) as http:
        text = (await http.get(f"{config.url(config.ports.ingest_bol)}/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (
                sample.name == "koppel_bol_orders_read_total"
                and sample.labels.get("source") == "shipments"
            ):
                return sample.value
    return 0.0


async def test_bol_orders_are_booked_in_octopus_once_with_a_cancellation_and_a_catch_up(
    config: SystemConfig,
    system: ProcessGroup,
    smtp: SmtpCatcher,
    bol: BolControl,
    octopus: OctopusControl,
) -> None:
    # Orders placed before the connection (the sandbox's own demo orders) are left alone.
    await connect_bol(config)

    # ---- 1. a mixed-rate consumer order, a business buyer, and one to be cancelled ----
    mixed = await bol.place_order(items=[{"ean": BOOK}, {"ean": EARBUDS}])
    business = await bol.place_order(
        business=True, invoiceRequested=True, items=[{"ean": CHARGER, "quantity": 2}]
    )
    shipment = await bol.ship(str(business["orderId"]), reference="E2E-ZAKELIJK")
    cancelled = await bol.place_order(items=[{"ean": ATLAS}])
    orders = [mixed, business, cancelled]
    first = await _checked(config, orders)
    # Bol gives no VAT: each line at its EAN's rate, incl. × rate / (100 + rate), to the cent.
    expected = {
        str(mixed["orderId"]): (_d("62.98"), {_d("9"): _d("1.07"), _d("21"): _d("8.68")}),
        str(business["orderId"]): (_d("59.90"), {_d("21"): _d("10.40")}),
        str(cancelled["orderId"]): (_d("39.50"), {_d("9"): _d("3.26")}),
    }
    for ref, (total, vat) in expected.items():
        [check] = first[(ref, 1)]
        assert check.outcome == CheckOutcome.MATCHED, check.details
        assert (check.expected_total_incl_vat, check.booked_total_incl_vat) == (total, total)
        assert _vat(check.expected_vat) == vat
        assert _vat(check.booked_vat) == vat, "the sales booking states the VAT per rate"

    # Sales bookings: consumers on the collective debtor, the business on its own.
    booked = await _sales_bookings(octopus)
    relations = {_relation_of(r): r for r in await octopus.relations(BOL_DOSSIER_ID)}
    for ref, (total, _) in expected.items():
        [document] = booked[ref]
        assert Decimal(str(document["amount"])) == total
    company = business["billingDetails"]
    own = relations[_relation_of(booked[str(business["orderId"])][0])]
    assert (own["name"], own["vatNr"]) == (company["company"], company["vatNumber"])
    for consumer in (mixed, cancelled):
        assert relations[_relation_of(booked[str(consumer["orderId"])][0])]["name"] == COLLECTIVE

    # The business buyer asked for an invoice: answered with the booking's UBL, once.
    shipment_id = str(shipment["shipmentId"])

    async def answered() -> list[dict[str, Any]]:
        return list(await bol.invoices(shipment_id))

    [invoice] = await eventually(answered, timeout=20, interval=0.5)
    assert invoice["accepted"] is True, invoice

    # ---- 2. the seller cancels an order that was booked: its sales booking is credited ----
    await bol.cancel(str(cancelled["orderId"]))
    [credit] = (await _checked(config, [cancelled], revision=2))[(str(cancelled["orderId"]), 2)]
    assert credit.outcome == CheckOutcome.MATCHED, credit.details
    assert credit.booked_total_incl_vat == credit.expected_total_incl_vat == _d("-39.50")
    credited = (await _sales_bookings(octopus))[str(cancelled["orderId"])]
    assert sorted(Decimal(str(b["amount"])) for b in credited) == [_d("-39.50"), _d("39.50")]

    # ---- 3. an order shipped at once and handled more than 48 hours before the next poll:
    #         Bol no longer lists it nor shows its detail, only its shipment ----
    await bol.configure(order_detail_retention_days=1)
    late_orders: list[dict[str, Any]] = []
    for _ in range(3):
        # The clock moves right after the order is placed; a poll landing in between (a few
        # milliseconds of a one-second interval) sees it in the list: then it is booked the
        # ordinary way, and the next order tries again.
        rebuilt_before = await _read_from_shipments(config)
        caught_up = await bol.place_order(items=[{"ean": COOKBOOK}], ship=True)
        await bol.advance_clock(HANDLED_ORDERS_LEAVE_THE_LIST)
        late_orders.append(caught_up)
        [late] = (await _checked(config, [caught_up]))[(str(caught_up["orderId"]), 1)]
        assert late.outcome == CheckOutcome.MATCHED, late.details
        assert late.booked_total_incl_vat == _d("24.95")
        assert _vat(late.booked_vat) == {_d("9"): _d("2.06")}
        if await _read_from_shipments(config) == rebuilt_before + 1:
            break  # rebuilt from its shipment
    else:
        pytest.fail("no order was caught up from its shipment in three tries")
    [document] = (await _sales_bookings(octopus))[str(caught_up["orderId"])]
    assert relations.get(_relation_of(document), {}).get("name") == COLLECTIVE

    # ---- exactly once: on the topics, in Octopus, at Bol ----
    everything = [*orders, *late_orders]
    published = await _topic(config, SHOP_ORDERS.name, OrderEvent)
    for order in (mixed, business, *late_orders):
        assert _revisions(published, order, "kind") == [(OrderEventKind.CREATED, 1)]
    assert _revisions(published, cancelled, "kind") == [
        (OrderEventKind.CREATED, 1),
        (OrderEventKind.CANCELLED, 2),
    ]
    bookings = await _topic(config, LEDGER_BOOKINGS.name, BookingEvent)
    for order in (mixed, business, *late_orders):
        assert _revisions(bookings, order, "status") == [(BookingStatus.BOOKED, 1)]
    assert _revisions(bookings, cancelled, "status") == [
        (BookingStatus.BOOKED, 1),
        (BookingStatus.CREDITED, 2),
    ]
    checks = await _checks(config, {str(o["orderId"]) for o in everything})
    assert sorted(checks) == sorted(
        [(str(o["orderId"]), 1) for o in everything] + [(str(cancelled["orderId"]), 2)]
    )
    assert all(len({c.event_id for c in found}) == 1 for found in checks.values())
    booked = await _sales_bookings(octopus)
    assert {ref: len(documents) for ref, documents in booked.items()} == {
        str(mixed["orderId"]): 1,
        str(business["orderId"]): 1,
        str(cancelled["orderId"]): 2,  # the booking and its credit
        **{str(order["orderId"]): 1 for order in late_orders},
    }
    assert len(await bol.invoices(shipment_id)) == 1
    # Nothing needed the merchant.
    mails = await smtp.settled(2.0)
    assert [m for m in mails if BOL_MERCHANT_EMAIL in m.rcpt_tos] == []
