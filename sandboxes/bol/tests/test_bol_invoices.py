"""Invoice requests of business buyers and invoice uploads (bol.md §3.5)."""

from __future__ import annotations

from decimal import Decimal

from koppel_sandbox_bol import DEMO_PRODUCTS

BOOK, COOKBOOK, ATLAS, EARBUDS, CHARGER, WATCH = (p.ean for p in DEMO_PRODUCTS)

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
UBL = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
    b'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
    b"<cbc:ID>F2026-0001</cbc:ID></Invoice>"
)


async def shipped_business_order(bol, **extra) -> tuple[dict, str]:
    placed = await bol.control.place_order(
        business=True,
        invoiceRequested=True,
        items=[{"ean": CHARGER, "quantity": 2}],
        **extra,
    )
    shipment = await bol.control.ship(placed["orderId"])
    return placed, shipment["shipmentId"]


async def requests(bol, **params: str) -> list[dict]:
    response = await bol.api.get("/retailer/shipments/invoices/requests", **params)
    assert response.status_code == 200, response.text
    return list(bol.decoded(response).get("invoiceRequests", []))


async def upload(bol, shipment_id: str, data: bytes = PDF, name: str = "factuur.pdf", **kw):
    files = {"invoice": (name, data, kw.pop("content_type", "application/pdf"))}
    return await bol.api.call(
        "POST", f"/retailer/shipments/invoices/{shipment_id}", files=files, **kw
    )


async def test_a_business_buyer_shipment_gets_an_open_invoice_request(bol) -> None:
    placed, shipment_id = await shipped_business_order(bol)
    await bol.control.place_order(ship=True)  # a consumer: no request
    (request,) = await requests(bol, state="OPEN")
    assert (request["shipmentId"], request["orderId"]) == (shipment_id, placed["orderId"])
    assert request["status"] == "INVOICE_REQUESTED"
    assert request["billingDetails"]["company"] == "Studio Lindeboom B.V."
    assert request["billingDetails"]["vatNumber"] == "NL859637412B01"
    assert "email" not in request["billingDetails"]
    assert request["products"] == [
        {"description": "USB-C snellader 65W GaN", "quantity": 2, "unitPrice": Decimal("29.95")}
    ]
    assert [t["status"] for t in request["statusTransitions"]] == ["INVOICE_REQUESTED"]


async def test_uploading_answers_the_request_once(bol) -> None:
    _, shipment_id = await shipped_business_order(bol)
    first = await upload(bol, shipment_id)
    assert first.status_code == 202
    status = first.json()
    assert (status["eventType"], status["entityId"], status["status"]) == (
        "UPLOAD_INVOICE",
        shipment_id,
        "SUCCESS",
    )
    assert await requests(bol, state="OPEN") == []
    (answered,) = await requests(bol, state="ALL")
    assert [t["status"] for t in answered["statusTransitions"]] == [
        "INVOICE_REQUESTED",
        "INVOICE_UPLOADED",
    ]
    second = await upload(bol, shipment_id, name="nogmaals.pdf")
    assert second.status_code == 202  # accepted for processing …
    process = await bol.api.get(f"/shared/process-status/{second.json()['processStatusId']}")
    assert process.json()["status"] == "FAILURE"  # … and refused there
    assert "already been uploaded" in process.json()["errorMessage"]
    stored = await bol.control.invoices(shipment_id)
    assert [(i["filename"], i["accepted"]) for i in stored] == [
        ("factuur.pdf", True),
        ("nogmaals.pdf", False),
    ]
    assert await bol.control.invoice_file(shipment_id, 1) == PDF


async def test_a_refused_invoice_shows_as_upload_error_and_may_be_replaced(bol) -> None:
    _, shipment_id = await shipped_business_order(bol)
    await upload(bol, shipment_id)
    await bol.control.set_invoice_status(shipment_id, "INVOICE_INCORRECT")
    (errored,) = await requests(bol, state="UPLOAD_ERROR")
    assert errored["status"] == "INVOICE_INCORRECT"
    again = await upload(bol, shipment_id, UBL, "factuur.xml", content_type="application/xml")
    process = await bol.api.get(f"/shared/process-status/{again.json()['processStatusId']}")
    assert process.json()["status"] == "SUCCESS"
    all_invoices = await bol.control.invoices()
    assert [i["kind"] for i in all_invoices[shipment_id]] == ["pdf", "ubl"]
    await bol.control.set_invoice_status(shipment_id, "FINISHED")
    (finished,) = await requests(bol, state="ALL")
    assert finished["status"] == "FINISHED"


async def test_proactive_upload_without_a_request_is_accepted(bol) -> None:
    placed = await bol.control.place_order(ship=True)
    detail = await bol.api.get("/retailer/shipments", **{"order-id": placed["orderId"]})
    shipment_id = detail.json()["shipments"][0]["shipmentId"]
    response = await upload(bol, shipment_id)
    assert response.json()["status"] == "SUCCESS"
    assert await requests(bol, state="ALL") == []


async def test_only_pdf_or_ubl_files_are_taken(bol) -> None:
    _, shipment_id = await shipped_business_order(bol)
    for data in (b"just some text", b"<note>not an invoice</note>", b"\x89PNG\r\n\x1a\n"):
        response = await upload(bol, shipment_id, data, "factuur.pdf")
        assert response.status_code == 400, data
        assert response.json()["violations"][0]["name"] == "invoice"
    assert await bol.control.invoices(shipment_id) == []


async def test_invoice_larger_than_the_limit_is_refused(bol) -> None:
    await bol.control.configure(max_invoice_bytes=1000)
    _, shipment_id = await shipped_business_order(bol)
    response = await upload(bol, shipment_id, PDF + b"0" * 1000)
    assert response.status_code == 400
    assert "maximum size of 1000 bytes" in response.json()["violations"][0]["reason"]


async def test_upload_needs_multipart_with_an_invoice_part(bol) -> None:
    _, shipment_id = await shipped_business_order(bol)
    as_json = await bol.api.call(
        "POST", f"/retailer/shipments/invoices/{shipment_id}", body={"invoice": "x"}
    )
    assert as_json.status_code == 415
    wrong_part = await bol.api.call(
        "POST",
        f"/retailer/shipments/invoices/{shipment_id}",
        files={"file": ("factuur.pdf", PDF, "application/pdf")},
    )
    assert wrong_part.status_code == 400
    assert wrong_part.json()["violations"] == [
        {"name": "invoice", "reason": "The invoice file is required."}
    ]


async def test_upload_for_an_unknown_shipment_is_404(bol) -> None:
    assert (await upload(bol, "404404404")).status_code == 404


async def test_invoice_requests_filter_by_shipment(bol) -> None:
    _, first = await shipped_business_order(bol)
    _, second = await shipped_business_order(bol)
    found = await requests(bol, **{"shipment-id": second, "state": "ALL"})
    assert [r["shipmentId"] for r in found] == [second]
    unknown = await bol.api.get("/retailer/shipments/invoices/requests", **{"shipment-id": "1"})
    assert unknown.status_code == 404
    assert first != second


async def test_a_late_request_for_an_already_invoiced_shipment_is_answered(bol) -> None:
    placed = await bol.control.place_order(business=True, ship=True)
    listed = await bol.api.get("/retailer/shipments", **{"order-id": placed["orderId"]})
    shipment_id = listed.json()["shipments"][0]["shipmentId"]
    await upload(bol, shipment_id)
    request = await bol.control.request_invoice(shipment_id)
    assert request["status"] == "INVOICE_UPLOADED"
    assert await requests(bol, state="OPEN") == []
