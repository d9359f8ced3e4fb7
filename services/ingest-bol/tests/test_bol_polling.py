"""The poll against the bol sandbox, on one clock with the runtime: an order that left
bol's list unseen is caught up from its shipments, cancelled units and returns become
revisions, a quiet poll costs four list calls, FBB orders count, tokens are renewed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from koppel_contracts import OrderEventKind, OrderStatus
from koppel_ingest.testing import Driver
from koppel_ingest_bol.polling import change_listings

from .bol_harness import BOOK, CHARGER, BolHarness
from .conftest import START, Timed

D = Decimal


async def calls(timed: Timed) -> dict[str, int]:
    return dict((await timed.harness.control.calls())["calls"])


async def test_an_order_that_left_the_list_unseen_is_caught_up_from_its_shipments(
    timed: Timed,
) -> None:
    await timed.connect(vat_by_ean={BOOK: D("9")})
    control = timed.harness.control
    await control.configure(order_detail_retention_days=1)
    timed.advance(minutes=30)
    order = await control.place_order(
        business=True, items=[{"ean": BOOK, "quantity": 3}, {"ean": CHARGER}]
    )
    book, charger = (i["orderItemId"] for i in order["orderItems"])
    timed.advance(hours=2)
    await control.ship(order["orderId"], [{"orderItemId": book, "quantity": 1}])
    timed.advance(hours=5)
    await control.ship(order["orderId"], [{"orderItemId": book}, {"orderItemId": charger}])
    timed.advance(days=3)  # Koppel was away: handled 3 days ago, the detail is gone
    await timed.poll()
    [event] = timed.driver.orders()
    assert (event.kind, event.order_ref) == (OrderEventKind.CREATED, order["orderId"])
    assert [(ln.ean, ln.quantity) for ln in event.order.lines] == [(BOOK, D(3)), (CHARGER, D(1))]
    assert event.order.totals.total_incl_vat == D("68.92")  # 3 x 12.99 + 29.95
    assert event.order.customer.vat_number == "NL859637412B01"
    assert event.order.status == OrderStatus.SHIPPED
    used = await calls(timed)
    assert used["GET /retailer/shipments/{shipment-id}"] == 2, "rebuilt from both shipments"
    assert timed.harness.metrics.orders_read.labels("shipments")._value.get() == 1
    await timed.poll()
    assert len(timed.driver.orders()) == 1, "seen again: nothing new"


async def test_bols_clock_jumping_two_days_between_polls_still_finds_the_shipped_order(
    harness: BolHarness,
) -> None:
    # The end-to-end recipe: the runtime on the real clock, the sandbox's clock moved on
    # 49 hours right after an order was placed and shipped — it left the order list and
    # (with a detail retention of a day) its detail before any poll saw it.
    harness.trigger = ["paid"]
    driver = Driver(harness.adapter, box=harness.box)
    await driver.connect(harness.settings())
    await driver.poll()
    await harness.control.configure(order_detail_retention_days=1)
    order_id = await harness.place_order()
    await harness.control.advance_clock(49 * 3600)
    await driver.poll()
    assert [e.order_ref for e in driver.orders()] == [order_id]
    assert harness.metrics.orders_read.labels("shipments")._value.get() == 1
    await driver.aclose()


async def test_cancelled_items_amend_the_order_and_cancelling_the_rest_cancels_it(
    timed: Timed,
) -> None:
    await timed.connect()
    control = timed.harness.control
    order = await control.place_order(items=[{"ean": BOOK, "quantity": 2}, {"ean": CHARGER}])
    order_id = order["orderId"]
    book = order["orderItems"][0]["orderItemId"]
    await timed.poll()
    await control.cancel(order_id, [{"orderItemId": book, "quantity": 1}], by="customer")
    await timed.poll()
    await control.cancel(order_id)
    await timed.poll()
    await timed.poll()
    created, amended, cancelled = timed.driver.orders()
    assert [e.kind for e in (created, amended, cancelled)] == [
        OrderEventKind.CREATED,
        OrderEventKind.AMENDED,
        OrderEventKind.CANCELLED,
    ]
    assert [ln.quantity for ln in created.order.lines] == [D(2), D(1)]
    assert [ln.quantity for ln in amended.order.lines] == [D(1), D(1)]
    assert cancelled.order.lines == amended.order.lines, "what was booked is cancelled"
    assert cancelled.order.status == OrderStatus.CANCELLED


async def test_a_partial_return_amends_and_returning_the_rest_cancels(timed: Timed) -> None:
    await timed.connect()
    harness = timed.harness
    order_id = await harness.place_order()  # shipped at once
    await timed.poll()
    detail = await harness.control.order(order_id)
    book, charger = (i["orderItemId"] for i in detail["orderItems"])
    await harness.give_back(charger, 1)
    await timed.poll()
    await harness.give_back(book, 2)
    await timed.poll()
    kinds = [(e.kind, [ln.ean for ln in e.order.lines]) for e in timed.driver.orders()]
    assert kinds == [
        (OrderEventKind.CREATED, [BOOK, CHARGER]),
        (OrderEventKind.AMENDED, [BOOK]),
        (OrderEventKind.CANCELLED, [BOOK]),
    ]


async def test_a_return_of_an_order_from_before_the_connection_publishes_nothing(
    timed: Timed,
) -> None:
    order_id = await timed.harness.place_order()
    timed.advance(hours=1)
    await timed.connect()
    detail = await timed.harness.control.order(order_id)
    await timed.harness.give_back(detail["orderItems"][0]["orderItemId"], 1)
    await timed.poll()
    assert timed.driver.orders() == []


async def test_a_quiet_poll_costs_four_list_calls_and_no_order_is_fetched_twice(
    timed: Timed,
) -> None:
    await timed.connect()
    await timed.harness.place_order(fulfilmentMethod="FBB")  # shipped by bol at once
    await timed.poll()
    [event] = timed.driver.orders()
    assert event.order.status == OrderStatus.SHIPPED, "shipped by bol (FBB), listed all the same"
    await timed.harness.control.reset_calls()
    await timed.poll()  # the order is still in the change listing's overlap: unchanged
    assert await calls(timed) == {
        "GET /retailer/orders": 1,
        "GET /retailer/shipments": 2,  # FBR and FBB
        "GET /retailer/returns": 1,
    }
    assert len(timed.driver.orders()) == 1


async def test_an_expired_token_is_renewed_once_and_nothing_is_alerted(timed: Timed) -> None:
    await timed.connect()
    await timed.poll()
    timed.advance(seconds=301)  # bol's token lives 299 s; ours was cached
    order_id = await timed.harness.place_order()
    await timed.poll()
    assert [e.order_ref for e in timed.driver.orders()] == [order_id]
    assert (await calls(timed))["POST /token"] == 2
    assert timed.driver.alerts() == []


def test_a_gap_of_an_hour_is_one_listing_a_longer_one_a_listing_per_dutch_day() -> None:
    [short] = change_listings(START - timedelta(minutes=7, seconds=1), START)
    assert (short.change_interval_minute, short.latest_change_date) == (8, None)
    days = change_listings(START - timedelta(hours=40), START)
    assert [d.latest_change_date for d in days] == ["2026-03-14", "2026-03-15", "2026-03-16"]
    far = change_listings(START - timedelta(days=400), START)
    assert len(far) == 91 and far[0].latest_change_date == "2025-12-16", "three months back"
