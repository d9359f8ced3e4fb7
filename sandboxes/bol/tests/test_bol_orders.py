"""GET /retailer/orders and /retailer/orders/{id} (bol.md §3.1, §3.2, §6)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from koppel_sandbox_bol import DEMO_PRODUCTS

BOOK, COOKBOOK, ATLAS, EARBUDS, CHARGER, WATCH = (p.ean for p in DEMO_PRODUCTS)


async def test_empty_order_list_is_an_empty_object(bol) -> None:
    response = await bol.api.get("/retailer/orders")
    assert response.status_code == 200
    assert response.json() == {}


async def test_empty_order_list_can_follow_the_spec_instead(bol) -> None:
    await bol.control.configure(empty_list_shape="array")
    before = bol.checker.deviations["empty list as {}"]
    assert (await bol.api.get("/retailer/orders")).json() == {"orders": []}
    assert bol.checker.deviations["empty list as {}"] == before


async def test_orders_come_in_pages_of_50_newest_first_without_totals(bol) -> None:
    placed = []
    for _ in range(51):
        order = await bol.control.place_order(items=[{"ean": BOOK}])
        placed.append(order["orderId"])
        bol.clock.advance(minutes=1)
    first = bol.decoded(await bol.api.get("/retailer/orders", page=1))
    second = bol.decoded(await bol.api.get("/retailer/orders", page=2))
    third = bol.decoded(await bol.api.get("/retailer/orders", page=3))
    assert list(first) == ["orders"] and list(second) == ["orders"]  # no totals, no links
    assert [o["orderId"] for o in first["orders"]] == placed[::-1][:50]
    assert [o["orderId"] for o in second["orders"]] == [placed[0]]
    assert third == {}


async def test_default_is_open_fbr_and_all_shows_fbb(bol) -> None:
    fbr = await bol.control.place_order(items=[{"ean": BOOK}])
    fbb = await bol.control.place_order(fulfilmentMethod="FBB", items=[{"ean": WATCH}])
    default = [o["orderId"] for o in await bol.api.orders()]
    both = [o["orderId"] for o in await bol.api.orders(**{"fulfilment-method": "ALL"})]
    only_fbb = await bol.api.orders(**{"fulfilment-method": "FBB"})
    assert default == [fbr["orderId"]]
    assert set(both) == {fbr["orderId"], fbb["orderId"]}
    assert [o["orderId"] for o in only_fbb] == [fbb["orderId"]]
    assert only_fbb[0]["orderItems"][0]["fulfilmentMethod"] == "FBB"


async def test_status_filter_open_shipped_all(bol) -> None:
    open_order = await bol.control.place_order()
    shipped = await bol.control.place_order()
    cancelled = await bol.control.place_order()
    await bol.control.ship(shipped["orderId"])
    await bol.control.cancel(cancelled["orderId"], by="seller")

    def ids(orders: list[dict]) -> set[str]:
        return {o["orderId"] for o in orders}

    assert ids(await bol.api.orders(status="OPEN")) == {open_order["orderId"]}
    assert ids(await bol.api.orders(status="SHIPPED")) == {shipped["orderId"]}
    everything = await bol.api.orders(status="ALL")
    assert ids(everything) == {open_order["orderId"], shipped["orderId"], cancelled["orderId"]}
    items = {o["orderId"]: o["orderItems"][0] for o in everything}
    assert items[shipped["orderId"]]["fulfilmentStatus"] == "HANDLED"
    assert items[shipped["orderId"]]["quantityShipped"] == 1
    assert items[cancelled["orderId"]]["quantityCancelled"] == 1
    assert items[open_order["orderId"]]["fulfilmentStatus"] == "OPEN"


async def test_handled_orders_leave_the_list_after_48_hours(bol) -> None:
    order = await bol.control.place_order(ship=True)
    bol.clock.advance(hours=47)
    assert [o["orderId"] for o in await bol.api.orders(status="ALL")] == [order["orderId"]]
    bol.clock.advance(hours=2)
    assert await bol.api.orders(status="ALL") == []


async def test_open_orders_stay_listed_however_old(bol) -> None:
    order = await bol.control.place_order()
    bol.clock.advance(hours=24 * 10)
    assert [o["orderId"] for o in await bol.api.orders()] == [order["orderId"]]


async def test_an_order_shipped_at_once_is_never_open(bol) -> None:
    order = await bol.control.place_order(ship=True)
    assert await bol.api.orders(status="OPEN") == []
    assert [o["orderId"] for o in await bol.api.orders(status="SHIPPED")] == [order["orderId"]]


async def test_change_interval_minute_shows_only_recent_changes(bol) -> None:
    old = await bol.control.place_order()
    bol.clock.advance(minutes=30)
    new = await bol.control.place_order()
    bol.clock.advance(minutes=5)
    recent = await bol.api.orders(**{"change-interval-minute": 10})
    assert [o["orderId"] for o in recent] == [new["orderId"]]
    await bol.control.request_cancellation(old["orderId"])  # a change brings it back
    recent = await bol.api.orders(**{"change-interval-minute": 10})
    assert {o["orderId"] for o in recent} == {old["orderId"], new["orderId"]}


async def test_change_interval_above_60_is_a_400_with_violation(bol) -> None:
    response = await bol.api.get("/retailer/orders", **{"change-interval-minute": 61})
    assert response.status_code == 400
    body = response.json()
    assert body["violations"] == [
        {"name": "change-interval-minute", "reason": "must be less than or equal to 60"}
    ]
    assert body["title"].startswith("Error validating request")


async def test_latest_change_date_reaches_handled_orders_past_48_hours(bol) -> None:
    order = await bol.control.place_order(ship=True)
    shipped_day = bol.clock.now.date().isoformat()
    bol.clock.advance(days=10)
    assert await bol.api.orders(status="ALL") == []
    found = await bol.api.orders(status="ALL", **{"latest-change-date": shipped_day})
    assert [o["orderId"] for o in found] == [order["orderId"]]
    other_day = (bol.clock.now.date() - timedelta(days=1)).isoformat()
    assert await bol.api.orders(status="ALL", **{"latest-change-date": other_day}) == []


async def test_latest_change_date_older_than_3_months_or_malformed_is_400(bol) -> None:
    too_old = (bol.clock.now.date() - timedelta(days=100)).isoformat()
    for value in (too_old, "16-03-2026", "yesterday"):
        response = await bol.api.get("/retailer/orders", **{"latest-change-date": value})
        assert response.status_code == 400, value
        assert response.json()["violations"][0]["name"] == "latest-change-date"


async def test_page_must_be_at_least_1(bol) -> None:
    response = await bol.api.get("/retailer/orders", page=0)
    assert response.status_code == 400
    assert response.json()["violations"][0]["name"] == "page"


async def test_vvb_only_lists_only_vvb_orders(bol) -> None:
    vvb = await bol.control.place_order(vvb=True)
    await bol.control.place_order()
    listed = await bol.api.orders(**{"vvb-only": "true"})
    assert [o["orderId"] for o in listed] == [vvb["orderId"]]


async def test_order_detail_of_a_business_buyer(bol) -> None:
    placed = await bol.control.place_order(
        business=True,
        invoiceRequested=True,
        billingDetails={"orderReference": "PO-77"},
        items=[
            {
                "ean": COOKBOOK,
                "quantity": 3,
                "discounts": [{"title": "3 voor 2", "amount": "24.95"}],
                "commission": "9.12",
            },
            {"ean": "8712345678906", "title": "Losse kabel", "unitPrice": "7.50"},
        ],
    )
    response = await bol.api.get(f"/retailer/orders/{placed['orderId']}")
    assert response.status_code == 200
    order = bol.decoded(response)
    billing, delivery = order["billingDetails"], order["shipmentDetails"]
    assert billing["company"] == "Studio Lindeboom B.V."
    assert billing["vatNumber"] == "NL859637412B01"
    assert billing["kvkNumber"] == "71234567"
    assert billing["orderReference"] == "PO-77"
    assert billing["email"].endswith("@verkopen.bol.com")
    assert delivery["email"].endswith("@verkopen.bol.com")
    assert billing["email"] != delivery["email"]
    book, cable = order["orderItems"]
    assert book["product"] == {"ean": COOKBOOK, "title": "Koken met groenten uit eigen tuin"}
    assert book["offer"]["reference"] == "BOEK-GROENTE-TUIN"
    assert (book["quantity"], book["unitPrice"], book["commission"]) == (
        3,
        Decimal("24.95"),
        Decimal("9.12"),
    )
    assert book["discounts"] == [{"title": "3 voor 2", "amount": Decimal("24.95")}]
    assert book["totalPrice"] == Decimal("49.90")  # 3 × 24.95 − 24.95
    assert book["fulfilment"]["method"] == "FBR"
    assert book["fulfilment"]["distributionParty"] == "RETAILER"
    assert (cable["unitPrice"], cable["totalPrice"], cable["discounts"]) == (
        Decimal("7.50"),
        Decimal("7.50"),
        [],
    )
    assert order["orderPlacedDateTime"].endswith("+01:00")


async def test_order_without_billing_details_leaves_the_key_out(bol) -> None:
    placed = await bol.control.place_order(billingDetails=None)
    order = bol.decoded(await bol.api.get(f"/retailer/orders/{placed['orderId']}"))
    assert "billingDetails" not in order
    assert order["shipmentDetails"]["countryCode"] == "NL"


async def test_unknown_order_is_a_404_problem(bol) -> None:
    response = await bol.api.get("/retailer/orders/9999999999")
    assert response.status_code == 404
    body = response.json()
    assert body["type"] == "https://api.bol.com/problems"
    assert (body["title"], body["status"]) == ("Not Found", 404)
    assert body["instance"] == f"{bol.url}/retailer/orders/9999999999"
    assert "violations" not in body


async def test_order_detail_retention_is_a_knob(bol) -> None:
    placed = await bol.control.place_order(ship=True)
    await bol.control.configure(order_detail_retention_days=30)
    bol.clock.advance(days=31)
    assert (await bol.api.get(f"/retailer/orders/{placed['orderId']}")).status_code == 404
