"""Cancellations (customer requests, PUT /retailer/orders/cancellation), returns
(GET /retailer/returns, PUT /retailer/returns/{rma-id}) and the process status of
asynchronous calls (GET /shared/process-status/{id})."""

from __future__ import annotations

from koppel_sandbox_bol import DEMO_PRODUCTS

BOOK, COOKBOOK, ATLAS, EARBUDS, CHARGER, WATCH = (p.ean for p in DEMO_PRODUCTS)


async def cancel_via_api(bol, order_item_id: str, reason: str = "REQUESTED_BY_CUSTOMER"):
    body = {"orderItems": [{"orderItemId": order_item_id, "reasonCode": reason}]}
    return await bol.api.call("PUT", "/retailer/orders/cancellation", body=body)


async def test_customer_request_shows_then_seller_confirms_it(bol) -> None:
    placed = await bol.control.place_order(items=[{"ean": ATLAS, "quantity": 2}])
    item_id = placed["orderItems"][0]["orderItemId"]
    await bol.control.request_cancellation(placed["orderId"])
    (listed,) = await bol.api.orders()
    assert listed["orderItems"][0]["cancellationRequest"] is True
    assert listed["orderItems"][0]["fulfilmentStatus"] == "OPEN"

    response = await cancel_via_api(bol, item_id)
    assert response.status_code == 202
    status = response.json()
    assert (status["eventType"], status["entityId"]) == ("CANCEL_ORDER", item_id)
    assert status["status"] == "SUCCESS"
    assert await bol.api.orders() == []
    detail = bol.decoded(await bol.api.get(f"/retailer/orders/{placed['orderId']}"))
    item = detail["orderItems"][0]
    assert (item["quantityCancelled"], item["cancellationRequest"]) == (2, True)


async def test_seller_cancellation_without_request_shows_as_handled(bol) -> None:
    placed = await bol.control.place_order(items=[{"ean": BOOK, "quantity": 3}])
    item_id = placed["orderItems"][0]["orderItemId"]
    await bol.control.ship(placed["orderId"], [{"orderItemId": item_id, "quantity": 1}])
    await bol.control.cancel(placed["orderId"], by="seller")
    (listed,) = await bol.api.orders(status="ALL")
    item = listed["orderItems"][0]
    assert (item["quantityShipped"], item["quantityCancelled"]) == (1, 2)
    assert (item["fulfilmentStatus"], item["cancellationRequest"]) == ("HANDLED", False)


async def test_cancelling_a_shipped_item_fails_in_the_process_status(bol) -> None:
    placed = await bol.control.place_order(ship=True)
    item_id = placed["orderItems"][0]["orderItemId"]
    response = await cancel_via_api(bol, item_id, "OUT_OF_STOCK")
    assert response.status_code == 202
    process_id = response.json()["processStatusId"]
    status = (await bol.api.get(f"/shared/process-status/{process_id}")).json()
    assert status["status"] == "FAILURE"
    assert "already been shipped or cancelled" in status["errorMessage"]


async def test_cancellation_body_is_validated(bol) -> None:
    two = {
        "orderItems": [
            {"orderItemId": "1", "reasonCode": "OUT_OF_STOCK"},
            {"orderItemId": "2", "reasonCode": "OUT_OF_STOCK"},
        ]
    }
    too_many = await bol.api.call("PUT", "/retailer/orders/cancellation", body=two)
    bad_reason = await cancel_via_api(bol, "6300000001", "BORED")
    assert too_many.status_code == 400
    assert too_many.json()["violations"][0]["name"] == "orderItems"
    assert bad_reason.status_code == 400
    assert bad_reason.json()["violations"][0]["name"] == "orderItems[0].reasonCode"


async def test_cancellation_needs_the_vendor_content_type(bol) -> None:
    response = await bol.api.call(
        "PUT",
        "/retailer/orders/cancellation",
        body={"orderItems": [{"orderItemId": "1", "reasonCode": "OTHER"}]},
        headers={"Content-Type": "application/vnd.retailer.v9+json"},
    )
    assert response.status_code == 415
    assert "not supported" in response.json()["detail"]


async def test_process_status_is_pending_until_processed(bol) -> None:
    await bol.control.configure(process_delay_seconds=30)
    placed = await bol.control.place_order()
    response = await cancel_via_api(bol, placed["orderItems"][0]["orderItemId"])
    assert response.json()["status"] == "PENDING"
    process_id = response.json()["processStatusId"]
    link = response.json()["links"][0]
    assert link == {"rel": "self", "href": f"{bol.url}/shared/process-status/{process_id}"}
    assert (await bol.api.get(f"/shared/process-status/{process_id}")).json()["status"] == "PENDING"
    bol.clock.advance(seconds=30)
    assert (await bol.api.get(f"/shared/process-status/{process_id}")).json()["status"] == "SUCCESS"


async def test_unknown_process_status_is_404(bol) -> None:
    assert (await bol.api.get("/shared/process-status/42")).status_code == 404


async def returns(bol, **params: str) -> list[dict]:
    response = await bol.api.get("/retailer/returns", **params)
    assert response.status_code == 200, response.text
    return list(bol.decoded(response).get("returns", []))


async def test_a_return_is_listed_unhandled_then_handled_through_the_api(bol) -> None:
    placed = await bol.control.place_order(items=[{"ean": EARBUDS, "quantity": 2}], ship=True)
    item_id = placed["orderItems"][0]["orderItemId"]
    created = await bol.control.create_return(item_id, 1, comments="Valt uit")
    rma_id = created["returnItems"][0]["rmaId"]
    (unhandled,) = await returns(bol, handled="false")
    assert unhandled["returnId"] == created["returnId"]
    assert unhandled["returnItems"][0]["handled"] is False
    assert await returns(bol, handled="true") == []

    response = await bol.api.call(
        "PUT",
        f"/retailer/returns/{rma_id}",
        body={"handlingResult": "RETURN_RECEIVED", "quantityReturned": 1},
    )
    assert response.status_code == 202
    assert response.json()["eventType"] == "HANDLE_RETURN_ITEM"
    (handled,) = await returns(bol, handled="true")
    result = handled["returnItems"][0]["processingResults"][0]
    assert (result["handlingResult"], result["processingResult"], result["quantity"]) == (
        "RETURN_RECEIVED",
        "ACCEPTED",
        1,
    )
    detail = bol.decoded(await bol.api.get(f"/retailer/returns/{created['returnId']}"))
    item = detail["returnItems"][0]
    assert (item["orderId"], item["ean"], item["title"]) == (
        placed["orderId"],
        EARBUDS,
        "Draadloze oordopjes BT-200 zwart",
    )
    assert item["returnReason"]["customerComments"] == "Valt uit"
    assert item["customerDetails"]["countryCode"] == "NL"


async def test_returns_sort_unhandled_oldest_first_and_handled_newest_first(bol) -> None:
    placed = await bol.control.place_order(items=[{"ean": BOOK, "quantity": 3}], ship=True)
    item_id = placed["orderItems"][0]["orderItemId"]
    first = await bol.control.create_return(item_id, 1)
    bol.clock.advance(hours=1)
    second = await bol.control.create_return(item_id, 1)
    unhandled = [r["returnId"] for r in await returns(bol, handled="false")]
    assert unhandled == [first["returnId"], second["returnId"]]
    await bol.control.handle_return(first["returnItems"][0]["rmaId"])
    bol.clock.advance(hours=1)
    await bol.control.handle_return(
        second["returnItems"][0]["rmaId"], "RETURN_DOES_NOT_MEET_CONDITIONS"
    )
    handled = await returns(bol, handled="true")
    assert [r["returnId"] for r in handled] == [second["returnId"], first["returnId"]]
    assert handled[0]["returnItems"][0]["processingResults"][0]["processingResult"] == "REJECTED"


async def test_fbb_returns_filter(bol) -> None:
    placed = await bol.control.place_order(
        fulfilmentMethod="FBB", items=[{"ean": WATCH}], ship=True
    )
    await bol.control.create_return(placed["orderItems"][0]["orderItemId"])
    assert len(await returns(bol, **{"fulfilment-method": "FBB"})) == 1
    assert await returns(bol, **{"fulfilment-method": "FBR"}) == []


async def test_handle_return_validates_rma_id_and_body(bol) -> None:
    not_a_number = await bol.api.call(
        "PUT",
        "/retailer/returns/abc",
        body={"handlingResult": "RETURN_RECEIVED", "quantityReturned": 1},
    )
    bad_body = await bol.api.call(
        "PUT", "/retailer/returns/123", body={"handlingResult": "KEPT", "quantityReturned": 0}
    )
    assert not_a_number.status_code == 400
    assert not_a_number.json()["violations"][0]["name"] == "rma-id"
    assert bad_body.status_code == 400
    names = {v["name"] for v in bad_body.json()["violations"]}
    assert names == {"handlingResult", "quantityReturned"}


async def test_handling_an_unknown_return_fails_in_the_process_status(bol) -> None:
    response = await bol.api.call(
        "PUT",
        "/retailer/returns/999",
        body={"handlingResult": "RETURN_RECEIVED", "quantityReturned": 1},
    )
    assert response.status_code == 202
    status = await bol.api.get(f"/shared/process-status/{response.json()['processStatusId']}")
    assert status.json()["status"] == "FAILURE"


async def test_unknown_return_is_404(bol) -> None:
    assert (await bol.api.get("/retailer/returns/1")).status_code == 404
