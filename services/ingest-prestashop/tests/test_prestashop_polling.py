"""Polling PrestaShop by `date_upd`, driven by the real runtime: refunds that do not move
the order, states that become paid without touching the order, triggers per state id,
the webservice switched off, a key without a right, a 1.7 shop; and the cursor itself."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from koppel_contracts import AlertKind, OrderEventKind, OrderStatus
from koppel_ingest.testing import Driver
from koppel_ingest_prestashop import adapter
from koppel_ingest_prestashop.check import NEEDED_RESOURCES
from koppel_ingest_prestashop.polling import Cursor, interval
from koppel_ingest_prestashop.reader import read_fetched

from .prestashop_harness import COFFEE, MUG, PrestashopHarness

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


async def connected(harness: PrestashopHarness) -> Driver:
    driver = Driver(harness.adapter, box=harness.box)
    await driver.connect(harness.settings())
    return driver


async def test_a_partial_refund_is_an_amendment_though_the_order_did_not_move(
    harness: PrestashopHarness,
) -> None:
    driver = await connected(harness)
    order = await harness.place_order(rows=[{**COFFEE, "quantity": 2}, {**MUG, "quantity": 2}])
    await driver.poll()
    mug = (await harness.control.order(int(order)))["order_details"][1]["id"]
    before = (await harness.control.order(int(order)))["order"]["date_upd"]
    slip = await harness.control.refund(int(order), [(mug, 1)])
    assert (await harness.control.order(int(order)))["order"]["date_upd"] == before
    await driver.poll()
    created, amended = driver.orders()
    assert (amended.kind, amended.revision) == (OrderEventKind.AMENDED, 2)
    assert amended.order.totals.total_incl_vat == created.order.totals.total_incl_vat - Decimal(
        slip["amount"]
    )
    await driver.poll()
    assert len(driver.orders()) == 2
    await driver.aclose()


async def test_an_order_whose_credit_slip_was_seen_is_not_read_again_on_every_poll(
    harness: PrestashopHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetched: list[int] = []

    async def counted(client: Any, lookups: Any, order_id: int) -> Any:
        fetched.append(order_id)
        return await read_fetched(client, lookups, order_id)

    monkeypatch.setattr(adapter, "read_fetched", counted)
    driver = await connected(harness)
    order = await harness.place_order(rows=[{**COFFEE, "quantity": 2}, {**MUG, "quantity": 2}])
    await driver.poll()
    mug = (await harness.control.order(int(order)))["order_details"][1]["id"]
    await harness.control.refund(int(order), [(mug, 1)])
    await driver.poll()
    assert fetched == [int(order), int(order)], "read when placed, read again for its slip"
    # The slip stays inside the overlap window (it is the newest): it changed nothing since.
    for _ in range(3):
        await driver.poll()
    assert fetched == [int(order), int(order)]
    # Another slip on the same order is a change all the same.
    await harness.control.refund(int(order), [(mug, 1)])
    await driver.poll()
    assert fetched == [int(order)] * 3
    assert [e.revision for e in driver.orders()] == [1, 2, 3]
    await driver.aclose()


async def test_everything_refunded_is_a_cancellation(harness: PrestashopHarness) -> None:
    driver = await connected(harness)
    order = await harness.place_order()
    await driver.poll()
    await harness.control.refund(int(order), all_lines=True, shipping=True)
    await driver.poll()
    created, cancelled = driver.orders()
    assert cancelled.kind == OrderEventKind.CANCELLED
    assert cancelled.order.status == OrderStatus.CANCELLED
    assert cancelled.order.lines == created.order.lines
    await driver.aclose()


async def test_an_order_waiting_for_payment_is_published_when_its_state_becomes_paid(
    harness: PrestashopHarness,
) -> None:
    driver = await connected(harness)
    order = await harness.place_order(bookable=False)  # awaiting bank wire (10)
    await driver.poll()
    assert driver.orders() == []
    # The merchant decides bank-wire orders count as paid: the order itself does not change.
    await harness.control.change_order_state(10, paid=True)
    await driver.poll()
    assert [(e.order_ref, e.kind) for e in driver.orders()] == [(order, OrderEventKind.CREATED)]
    await driver.aclose()


async def test_the_trigger_holds_the_shops_own_state_ids(harness: PrestashopHarness) -> None:
    harness.triggers = ["4"]  # shipped
    driver = await connected(harness)
    order = await harness.place_order()  # paid (2)
    await driver.poll()
    assert driver.orders() == [], "paid is not the trigger of this connection"
    await harness.control.set_state(int(order), 4)
    await driver.poll()
    [event] = driver.orders()
    assert (event.order_ref, event.order.source_status, event.order.status) == (
        order,
        "4",
        OrderStatus.SHIPPED,
    )
    await driver.aclose()


async def test_a_new_trigger_publishes_orders_already_in_that_state(
    harness: PrestashopHarness,
) -> None:
    harness.triggers = ["4"]
    driver = await connected(harness)
    order = await harness.place_order()
    await driver.poll()
    harness.triggers = ["paid"]
    await driver.connect(harness.settings(), version=2)
    assert [e.order_ref for e in driver.orders()] == [order]
    await driver.aclose()


async def test_a_switched_off_webservice_is_not_retried_and_breaks_nothing(
    harness: PrestashopHarness,
) -> None:
    driver = await connected(harness)
    order = await harness.place_order()
    await harness.control.disable_webservice()
    before = (await harness.control.counters())["requests"]
    await driver.poll()
    assert (await harness.control.counters())["requests"] == before + 1
    assert driver.orders() == [] and driver.alerts() == []
    assert not (await driver.state()).broken
    await harness.control.set_webservice(True)
    await driver.poll()
    assert [e.order_ref for e in driver.orders()] == [order]
    await driver.aclose()


async def test_a_key_without_the_view_right_on_a_resource_breaks_the_connection_once(
    harness: PrestashopHarness,
) -> None:
    read = {r: ["GET", "HEAD"] for r in NEEDED_RESOURCES if r != "order_slip"}
    harness.key = await harness.control.create_key({**read, "order_slip": ["HEAD"]})
    driver = await connected(harness)
    await harness.place_order()
    await driver.poll()
    await driver.poll()
    [alert] = driver.alerts()
    assert alert.kind == AlertKind.CONNECTION_BROKEN
    assert alert.reason_code == "shop_credentials_refused"
    assert "Bekijken (GET)" in alert.suggestion and "creditnota" in alert.suggestion
    assert (await driver.state()).broken and driver.orders() == []
    await driver.aclose()


async def test_a_17_shop_is_polled_the_same_way(harness: PrestashopHarness) -> None:
    await harness.control.configure(api_style="1.7", ps_version="1.7.8.11")
    driver = await connected(harness)
    order = await harness.place_order(cart_rules=[{"name": "K", "percent": "10"}])
    await driver.poll()
    await harness.control.edit_order(int(order), rows=[{**MUG, "quantity": 2}])
    await driver.poll()
    assert [(e.order_ref, e.kind) for e in driver.orders()] == [
        (order, OrderEventKind.CREATED),
        (order, OrderEventKind.AMENDED),
    ]
    await driver.aclose()


# ---- the cursor ----------------------------------------------------------------------------


def test_a_first_poll_lists_from_when_the_connection_was_made_minus_the_overlap() -> None:
    since = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 10:00 in Amsterdam
    now = datetime(2026, 11, 23, 9, 5, tzinfo=UTC)
    span = interval(None, since, now, 600, AMSTERDAM)
    assert span.filter == "[2026-11-23 09:50:00,2026-11-24 10:05:00]"


def test_a_later_poll_lists_from_the_last_change_it_saw_minus_the_overlap() -> None:
    cursor = Cursor.parse(Cursor().advanced("2026-11-23 10:42:17", None).dump())
    assert cursor == Cursor(orders="2026-11-23 10:42:17", slips=None)
    now = datetime(2026, 11, 30, tzinfo=UTC)
    span = interval(cursor.orders, datetime(2026, 11, 1, tzinfo=UTC), now, 300, AMSTERDAM)
    assert span.start == "2026-11-23 10:37:17"


def test_the_cursor_never_moves_back_and_survives_garbage() -> None:
    cursor = Cursor("2026-11-23 10:00:00", "2026-11-23 09:00:00")
    assert cursor.advanced("2026-11-23 09:59:59", None) == cursor
    assert cursor.advanced(None, "2026-11-23 09:30:00").slips == "2026-11-23 09:30:00"
    assert Cursor.parse("not json") == Cursor() and Cursor.parse(None).dump() is None
    assert Cursor.parse('{"orders": "yesterday"}') == Cursor()
