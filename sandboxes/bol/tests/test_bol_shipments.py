"""GET /retailer/shipments and /retailer/shipments/{id}, and rebuilding an order that
left the order list before the ingest saw it (bol.md §3.3, §3.4)."""

from __future__ import annotations

from decimal import Decimal

from koppel_sandbox_bol import DEMO_PRODUCTS

BOOK, COOKBOOK, ATLAS, EARBUDS, CHARGER, WATCH = (p.ean for p in DEMO_PRODUCTS)


async def shipments(bol, **params: str) -> list[dict]:
    response = await bol.api.get("/retailer/shipments", **params)
    assert response.status_code == 200, response.text
    return list(bol.decoded(response).get("shipments", []))


async def test_no_shipments_is_an_empty_object(bol) -> None:
    assert (await bol.api.get("/retailer/shipments")).json() == {}


async def test_shipment_list_is_newest_first_and_fbr_by_default(bol) -> None:
    first = await bol.control.place_order(ship=True)
    bol.clock.advance(minutes=5)
    second = await bol.control.place_order(ship=True)
    await bol.control.place_order(fulfilmentMethod="FBB", items=[{"ean": WATCH}], ship=True)
    listed = await shipments(bol)
    assert [s["order"]["orderId"] for s in listed] == [second["orderId"], first["orderId"]]
    item = listed[0]["shipmentItems"][0]
    assert item == {"orderItemId": second["orderItems"][0]["orderItemId"], "ean": BOOK}
    assert set(listed[0]) == {
        "shipmentId",
        "shipmentDateTime",
        "shipmentReference",
        "order",
        "shipmentItems",
        "transport",
    }
    fbb = await shipments(bol, **{"fulfilment-method": "FBB"})
    assert [s["shipmentItems"][0]["ean"] for s in fbb] == [WATCH]


async def test_order_id_filter_ignores_the_default_method(bol) -> None:
    order = await bol.control.place_order(fulfilmentMethod="FBB", items=[{"ean": WATCH}], ship=True)
    await bol.control.place_order(ship=True)
    found = await shipments(bol, **{"order-id": order["orderId"]})
    assert [s["order"]["orderId"] for s in found] == [order["orderId"]]


async def test_order_id_with_fulfilment_method_is_a_400(bol) -> None:
    response = await bol.api.get(
        "/retailer/shipments", **{"order-id": "1201000001", "fulfilment-method": "FBR"}
    )
    assert response.status_code == 400
    assert response.json()["violations"][0]["name"] == "order-id"


async def test_shipments_older_than_3_months_leave_the_list_but_keep_their_detail(bol) -> None:
    order = await bol.control.place_order(ship=True)
    shipment_id = (await shipments(bol))[0]["shipmentId"]
    await bol.control.age_order(order["orderId"], hours=24 * 95)
    assert await shipments(bol) == []
    assert (await bol.api.get(f"/retailer/shipments/{shipment_id}")).status_code == 200


async def test_shipment_list_pages_by_50(bol) -> None:
    account = bol.state.account("default")
    from koppel_sandbox_bol.placing import place_order

    for _ in range(51):
        place_order(account, {"ship": True})
        bol.clock.advance(seconds=10)
    assert len(await shipments(bol, page="1")) == 50
    assert len(await shipments(bol, page="2")) == 1
    assert (await bol.api.get("/retailer/shipments", page=3)).json() == {}


async def test_shipment_detail_carries_prices_and_billing_but_no_discounts(bol) -> None:
    placed = await bol.control.place_order(
        business=True,
        items=[{"ean": COOKBOOK, "quantity": 2, "discounts": [{"title": "Actie", "amount": "5"}]}],
    )
    item_id = placed["orderItems"][0]["orderItemId"]
    shipped = await bol.control.ship(
        placed["orderId"],
        [{"orderItemId": item_id, "quantity": 1}],
        reference="ZEND-1",
        transporter_code="TNT",
        track_and_trace="3SBOL0987654321",
    )
    response = await bol.api.get(f"/retailer/shipments/{shipped['shipmentId']}")
    assert response.status_code == 200
    shipment = bol.decoded(response)
    assert shipment["shipmentReference"] == "ZEND-1"
    assert shipment["order"]["orderId"] == placed["orderId"]
    assert shipment["billingDetails"]["vatNumber"] == "NL859637412B01"
    (line,) = shipment["shipmentItems"]
    assert (line["quantity"], line["quantityShipped"]) == (2, 1)
    assert line["unitPrice"] == Decimal("24.95")
    assert "totalPrice" not in line and "discounts" not in line
    assert shipment["transport"]["transporterCode"] == "TNT"
    assert shipment["transport"]["trackAndTrace"] == "3SBOL0987654321"
    assert shipment["transport"]["transportEvents"][0]["eventCode"] == "PRE_ANNOUNCED"


async def test_unknown_shipment_is_a_404_problem(bol) -> None:
    response = await bol.api.get("/retailer/shipments/123")
    assert response.status_code == 404
    assert response.json()["title"] == "Not Found"


async def test_a_missed_order_can_be_rebuilt_from_its_shipments(bol) -> None:
    """Shipped in two parts and aged out of the order list before anyone looked."""
    placed = await bol.control.place_order(
        business=True, items=[{"ean": CHARGER, "quantity": 3}, {"ean": BOOK}]
    )
    charger_id, book_id = (i["orderItemId"] for i in placed["orderItems"])
    await bol.control.ship(placed["orderId"], [{"orderItemId": charger_id, "quantity": 2}])
    bol.clock.advance(hours=2)
    await bol.control.ship(placed["orderId"])
    await bol.control.age_order(placed["orderId"], hours=72)
    assert await bol.api.orders(status="ALL") == []

    listed = await shipments(bol, **{"order-id": placed["orderId"]})
    assert len(listed) == 2
    shipped: dict[str, int] = {}
    billing = None
    for entry in listed:
        detail = bol.decoded(await bol.api.get(f"/retailer/shipments/{entry['shipmentId']}"))
        billing = detail["billingDetails"]
        for line in detail["shipmentItems"]:
            shipped[line["orderItemId"]] = (
                shipped.get(line["orderItemId"], 0) + line["quantityShipped"]
            )
    assert shipped == {charger_id: 3, book_id: 1}
    assert billing is not None and billing["company"] == "Studio Lindeboom B.V."
