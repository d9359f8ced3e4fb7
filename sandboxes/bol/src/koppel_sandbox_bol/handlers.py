"""The endpoints of the Retailer API (and the shared process status) the sandbox
serves, each checking its parameters as the v10 spec declares them."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile

from . import queries, render
from .aftersales import Upload
from .gateway import Call, Endpoint, Json
from .invoicefiles import sniff
from .jsonio import loads
from .model import CANCELLATION_REASONS, HANDLING_RESULTS
from .params import Checks, Query
from .problems import bad_request, not_found, violation
from .timefmt import local_date, months_back

Result = tuple[int, Json | None]


def _list(call: Call, key: str, items: list[Json]) -> Result:
    """bol answers an empty page with `{}` (bol.md §3.1), unless configured otherwise."""
    if not items and call.state.config.empty_list_shape == "object":
        return 200, {}
    return 200, {key: items}


def _page(query: Query) -> int:
    return query.number("page", 1, minimum=1) or 1


async def get_orders(call: Call) -> Result:
    q = Query(call.request.query_params)
    page = _page(q)
    method = q.choice("fulfilment-method", ("FBR", "FBB", "ALL"), "FBR")
    status = q.choice("status", ("OPEN", "SHIPPED", "ALL"), "OPEN")
    interval = q.number("change-interval-minute", None, minimum=1, maximum=60)
    day = q.day("latest-change-date")
    if day is not None:
        now = call.account.now()
        oldest = local_date(months_back(now, call.state.config.latest_change_date_months))
        if not oldest <= day <= local_date(now):
            q.add("latest-change-date", "Only the last 3 months of history are supported.")
    vvb = q.flag("vvb-only")
    q.raise_if_any()
    found = queries.list_orders(
        call.account,
        queries.OrderFilter(
            fulfilment_method=method or "FBR",
            status=status or "OPEN",
            change_interval_minutes=interval,
            latest_change_date=day,
            vvb_only=bool(vvb),
        ),
    )
    size = call.state.config.page_size
    return _list(call, "orders", render.reduced_orders(queries.page_of(found, page, size)))


async def get_order(call: Call) -> Result:
    order_id = call.path("order-id")
    order = call.account.orders.get(order_id)
    if order is None or not queries.order_detail_visible(call.account, order):
        raise not_found(f"Order for order id {order_id} not found.")
    return 200, render.order(order)


async def _json_body(call: Call) -> Any:
    raw = await call.request.body()
    try:
        return loads(raw) if raw else None
    except ValueError:
        raise bad_request([violation("body", "The request body is not valid JSON.")]) from None


async def cancel_order_item(call: Call) -> Result:
    data = await _json_body(call)
    checks = Checks()
    items = data.get("orderItems") if isinstance(data, dict) else None
    if not isinstance(items, list) or len(items) != 1:
        checks.add("orderItems", "size must be between 1 and 1")
        checks.raise_if_any()
    item = items[0] if isinstance(items[0], dict) else {}
    order_item_id = item.get("orderItemId")
    if not isinstance(order_item_id, str) or not order_item_id:
        checks.add("orderItems[0].orderItemId", "must not be blank")
    reason = item.get("reasonCode")
    if reason is None:
        checks.add("orderItems[0].reasonCode", "must not be null")
    checks.enum("orderItems[0].reasonCode", reason, CANCELLATION_REASONS)
    checks.raise_if_any()
    status = call.account.cancel_by_api(str(order_item_id), str(reason))
    return 202, render.process_status(status, call.account.now(), call.state.base_url)


async def get_shipments(call: Call) -> Result:
    q = Query(call.request.query_params)
    page = _page(q)
    method = q.choice("fulfilment-method", ("FBR", "FBB"), None)
    order_id = q.text("order-id")
    if order_id is not None and "fulfilment-method" in call.request.query_params:
        q.add("order-id", "order-id is only valid without fulfilment-method.")
    q.raise_if_any()
    found = queries.list_shipments(call.account, method, order_id)
    size = call.state.config.page_size
    return _list(call, "shipments", render.reduced_shipments(queries.page_of(found, page, size)))


async def get_shipment(call: Call) -> Result:
    shipment_id = call.path("shipment-id")
    shipment = call.account.shipments.get(shipment_id)
    if shipment is None:
        raise not_found(f"Shipment for shipment id {shipment_id} not found.")
    return 200, render.shipment(shipment)


async def get_invoice_requests(call: Call) -> Result:
    q = Query(call.request.query_params)
    page = _page(q)
    state = q.choice("state", ("OPEN", "UPLOAD_ERROR", "ALL"), "OPEN")
    shipment_id = q.text("shipment-id")
    q.raise_if_any()
    if shipment_id is not None and shipment_id not in call.account.shipments:
        raise not_found(f"Shipment for shipment id {shipment_id} not found.")
    found = queries.list_invoice_requests(call.account, shipment_id, state or "OPEN")
    size = call.state.config.page_size
    items = [render.invoice_request(r) for r in queries.page_of(found, page, size)]
    return _list(call, "invoiceRequests", items)


async def upload_invoice(call: Call) -> Result:
    shipment_id = call.path("shipment-id")
    if shipment_id not in call.account.shipments:
        raise not_found(f"Shipment for shipment id {shipment_id} not found.")
    limit = call.state.config.max_invoice_bytes
    async with call.request.form(max_files=2, max_fields=10) as form:
        part = form.get("invoice")
        if not isinstance(part, UploadFile):
            raise bad_request([violation("invoice", "The invoice file is required.")])
        data = await part.read(limit + 1)
        filename = part.filename or "invoice"
        content_type = part.content_type or "application/octet-stream"
    if len(data) > limit:
        raise bad_request(
            [violation("invoice", f"The invoice file exceeds the maximum size of {limit} bytes.")]
        )
    kind = sniff(data)
    if kind is None:
        raise bad_request(
            [
                violation(
                    "invoice", "Unsupported file type: upload a PDF or a UBL 2.1 invoice (XML)."
                )
            ]
        )
    status = call.account.upload_invoice(
        shipment_id, Upload(filename=filename, content_type=content_type, kind=kind, data=data)
    )
    return 202, render.process_status(status, call.account.now(), call.state.base_url)


async def get_returns(call: Call) -> Result:
    q = Query(call.request.query_params)
    page = _page(q)
    handled = q.flag("handled")
    method = q.choice("fulfilment-method", ("FBR", "FBB"), None)
    q.raise_if_any()
    found = queries.list_returns(call.account, bool(handled), method)
    size = call.state.config.page_size
    items = [render.return_(r, detail=False) for r in queries.page_of(found, page, size)]
    return _list(call, "returns", items)


async def get_return(call: Call) -> Result:
    return_id = call.path("return-id")
    found = call.account.returns.get(return_id)
    if found is None:
        raise not_found(f"Return for return id {return_id} not found.")
    return 200, render.return_(found, detail=True)


async def handle_return(call: Call) -> Result:
    checks = Checks()
    rma_id = checks.integer("rma-id", call.path("rma-id"))
    data = await _json_body(call)
    body = data if isinstance(data, dict) else {}
    result = body.get("handlingResult")
    if result is None:
        checks.add("handlingResult", "must not be null")
    checks.enum("handlingResult", result, HANDLING_RESULTS)
    quantity = body.get("quantityReturned")
    if quantity is None:
        checks.add("quantityReturned", "must not be null")
    quantity = checks.integer("quantityReturned", quantity, minimum=1, maximum=9999)
    checks.raise_if_any()
    status = call.account.handle_return_by_api(str(rma_id), str(result), int(quantity or 0))
    return 202, render.process_status(status, call.account.now(), call.state.base_url)


async def get_process_status(call: Call) -> Result:
    process_id = call.path("process-status-id")
    status = call.account.process_statuses.get(process_id)
    if status is None:
        raise not_found(f"Process status with id {process_id} not found.")
    return 200, render.process_status(status, call.account.now(), call.state.base_url)


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/retailer/orders", "orders-list", get_orders),
    Endpoint(
        "PUT", "/retailer/orders/cancellation", "order-cancellation", cancel_order_item, "json"
    ),
    Endpoint("GET", "/retailer/orders/{order-id}", "order-detail", get_order),
    Endpoint("GET", "/retailer/shipments", "shipments-list", get_shipments),
    Endpoint(
        "GET", "/retailer/shipments/invoices/requests", "invoice-requests", get_invoice_requests
    ),
    Endpoint(
        "POST",
        "/retailer/shipments/invoices/{shipment-id}",
        "invoice-upload",
        upload_invoice,
        "multipart",
    ),
    Endpoint("GET", "/retailer/shipments/{shipment-id}", "shipment-detail", get_shipment),
    Endpoint("GET", "/retailer/returns", "returns-list", get_returns),
    Endpoint("GET", "/retailer/returns/{return-id}", "return-detail", get_return),
    Endpoint("PUT", "/retailer/returns/{rma-id}", "return-handle", handle_return, "json"),
    Endpoint(
        "GET", "/shared/process-status/{process-status-id}", "process-status", get_process_status
    ),
)
