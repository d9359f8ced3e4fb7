"""The control API under /_control: what buyers, bol and the seller's warehouse do
to an account that the Retailer API only shows — and the knobs of a test. Not
part of bol's API; no token, no limits. Account-scoped routes take a retailer id,
or "default" for the first account."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from koppel_sandbox_kit import ControlApi, ErrorStatus, RouteSpec
from koppel_sandbox_kit.control_api import NOT_AN_OBJECT
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from . import render
from .account import Account
from .aftersales import Refused
from .jsonio import BOL_JSON
from .model import Product, UploadedInvoice
from .placing import place_order
from .state import BolState
from .timefmt import bol_datetime

# KeyError is a LookupError too: a missing field is the request's fault (400), an unknown
# account, order or shipment is not found (404).
ERRORS = (ErrorStatus((KeyError, ValueError, TypeError), 400), ErrorStatus(LookupError, 404))


def _lines(data: dict[str, Any]) -> list[tuple[str, int | None]] | None:
    items = data.get("items")
    if items is None:
        return None
    return [
        (str(i["orderItemId"]), None if i.get("quantity") is None else int(i["quantity"]))
        for i in items
    ]


def _product(spec: dict[str, Any]) -> Product:
    return Product(
        ean=str(spec["ean"]),
        title=str(spec["title"]),
        price=Decimal(str(spec["price"])),
        reference=str(spec.get("reference", spec["ean"])),
        offer_id=str(spec.get("offerId", "")),
        category=str(spec.get("category", "")),
    )


def invoice_meta(invoice: UploadedInvoice) -> dict[str, Any]:
    return {
        "number": invoice.number,
        "filename": invoice.filename,
        "contentType": invoice.content_type,
        "kind": invoice.kind,
        "size": len(invoice.data),
        "sha256": hashlib.sha256(invoice.data).hexdigest(),
        "uploadedAt": bol_datetime(invoice.uploaded_at),
        "processStatusId": invoice.process_status_id,
        "accepted": invoice.accepted,
        "refusal": invoice.refusal,
    }


def _account_json(account: Account) -> dict[str, Any]:
    return {
        "retailerId": account.retailer_id,
        "clientId": account.client_id,
        "clientSecret": account.client_secret,
        "name": account.name,
        "active": account.active,
        "products": [
            {
                "ean": p.ean,
                "title": p.title,
                "price": p.price,
                "reference": p.reference,
                "offerId": p.offer_id,
                "category": p.category,
            }
            for p in account.products.values()
        ],
    }


def control_routes(state: BolState) -> list[BaseRoute]:
    def learn_base_url(request: Request) -> None:
        state.base_url = str(request.base_url).rstrip("/")

    api = ControlApi(
        BOL_JSON,
        errors=ERRORS,
        not_an_object=lambda: Refused(NOT_AN_OBJECT),
        on_request=learn_base_url,
    )

    def acct(request: Request) -> Account:
        return state.account(request.path_params["retailer"])

    async def reset(request: Request) -> Response:
        state.reset(demo=bool((await api.body(request)).get("demo", False)))
        return Response(status_code=204)

    async def get_config(_: Request) -> Response:
        return api.json(vars(state.config))

    async def patch_config(request: Request) -> Response:
        state.config.update(await api.body(request))
        return api.json(vars(state.config))

    async def get_clock(_: Request) -> Response:
        return api.json({"now": bol_datetime(state.now())})

    async def advance_clock(request: Request) -> Response:
        state.advance_clock(float((await api.body(request))["advanceSeconds"]))
        return api.json({"now": bol_datetime(state.now())})

    async def accounts(_: Request) -> Response:
        return api.json([_account_json(a) for a in state.accounts.values()])

    async def create_account(request: Request) -> Response:
        data = await api.body(request)
        if data.get("demo"):
            from .demo import demo_account

            return api.json(_account_json(demo_account(state)), 201)
        account = state.add_account(
            retailer_id=data.get("retailerId"),
            client_id=data.get("clientId"),
            client_secret=data.get("clientSecret"),
            name=str(data.get("name", "")),
        )
        from .demo import DEMO_PRODUCTS

        # Without an assortment of its own an account sells the demo products.
        products = [_product(p) for p in data["products"]] if data.get("products") else None
        account.products = {p.ean: p for p in products or DEMO_PRODUCTS}
        return api.json(_account_json(account), 201)

    async def patch_account(request: Request) -> Response:
        account, data = acct(request), await api.body(request)
        if "active" in data:
            account.active = bool(data["active"])
        for spec in data.get("products") or []:
            product = _product(spec)
            account.products[product.ean] = product
        return api.json(_account_json(account))

    async def replace_credentials(request: Request) -> Response:
        data = await api.body(request)
        account = state.replace_credentials(
            acct(request),
            client_id=data.get("clientId"),
            client_secret=data.get("clientSecret"),
        )
        return api.json(_account_json(account))

    async def create_order(request: Request) -> Response:
        order = place_order(acct(request), await api.body(request))
        return api.json(render.order(order), 201)

    async def get_order(request: Request) -> Response:
        return api.json(render.order(acct(request).order(request.path_params["order_id"])))

    async def ship(request: Request) -> Response:
        account, data = acct(request), await api.body(request)
        shipment = account.ship(
            request.path_params["order_id"],
            _lines(data),
            reference=str(data.get("reference", "")),
            transporter_code=str(data.get("transporterCode", "POSTNL")),
            track_and_trace=data.get("trackAndTrace"),
            shipping_label_id=data.get("shippingLabelId"),
        )
        return api.json(render.shipment(shipment), 201)

    async def cancellation_request(request: Request) -> Response:
        account, data = acct(request), await api.body(request)
        ids = data.get("orderItemIds")
        order = account.request_cancellation(request.path_params["order_id"], ids)
        return api.json(render.order(order))

    async def cancel(request: Request) -> Response:
        account, data = acct(request), await api.body(request)
        by = str(data.get("by", "seller"))
        order = account.cancel(request.path_params["order_id"], _lines(data), by=by)
        return api.json(render.order(order))

    async def age(request: Request) -> Response:
        account, data = acct(request), await api.body(request)
        order = account.age(request.path_params["order_id"], float(data["hours"]))
        return api.json(render.order(order))

    async def get_shipment(request: Request) -> Response:
        return api.json(render.shipment(acct(request).shipment(request.path_params["shipment_id"])))

    async def create_return(request: Request) -> Response:
        account, data = acct(request), await api.body(request)
        ret = account.create_return(
            str(data["orderItemId"]),
            int(data.get("quantity", 1)),
            main_reason=str(data.get("mainReason", "Niet naar verwachting")),
            detailed_reason=str(data.get("detailedReason", "Product voldoet niet")),
            comments=str(data.get("comments", "")),
            track_and_trace=data.get("trackAndTrace"),
            handling_result=data.get("handlingResult"),
        )
        return api.json(render.return_(ret, detail=True), 201)

    async def handle_return(request: Request) -> Response:
        account, data = acct(request), await api.body(request)
        rma_id = request.path_params["rma_id"]
        item = account.return_item(rma_id)
        quantity = int(data.get("quantity", item.expected_quantity if item else 1))
        account.handle_return(rma_id, str(data["handlingResult"]), quantity)
        ret = next(r for r in account.returns.values() if any(i.rma_id == rma_id for i in r.items))
        return api.json(render.return_(ret, detail=True))

    async def invoice_request(request: Request) -> Response:
        found = acct(request).request_invoice(request.path_params["shipment_id"])
        return api.json(render.invoice_request(found), 201)

    async def invoice_status(request: Request) -> Response:
        account, data = acct(request), await api.body(request)
        found = account.set_invoice_status(request.path_params["shipment_id"], str(data["status"]))
        return api.json(render.invoice_request(found))

    async def all_invoices(request: Request) -> Response:
        invoices = acct(request).invoices
        return api.json({sid: [invoice_meta(i) for i in items] for sid, items in invoices.items()})

    async def shipment_invoices(request: Request) -> Response:
        account = acct(request)
        shipment_id = account.shipment(request.path_params["shipment_id"]).shipment_id
        return api.json([invoice_meta(i) for i in account.invoices.get(shipment_id, [])])

    async def invoice_file(request: Request) -> Response:
        uploads = acct(request).invoices.get(request.path_params["shipment_id"], [])
        number = int(request.path_params["number"])
        if not 1 <= number <= len(uploads):
            raise LookupError(f"no invoice {number} for this shipment")
        invoice = uploads[number - 1]
        return Response(invoice.data, media_type=invoice.content_type)

    async def calls(request: Request) -> Response:
        return api.json(acct(request).calls_json())

    async def reset_calls(request: Request) -> Response:
        account = acct(request)
        account.calls.clear()
        account.rate_limited.clear()
        return Response(status_code=204)

    async def get_limits(_: Request) -> Response:
        return api.json(state.limits.as_json())

    async def set_limits(request: Request) -> Response:
        for name, spec in (await api.body(request)).items():
            current = state.limits.groups.get(name)
            if current is None:
                raise Refused(f"unknown rate-limit group {name!r}")
            state.limits.configure(
                name,
                int(spec.get("capacity", current.capacity)),
                float(spec.get("windowSeconds", current.window_seconds)),
            )
        return api.json(state.limits.as_json())

    async def reset_limits(_: Request) -> Response:
        state.limits.reset()
        return Response(status_code=204)

    a = "/accounts/{retailer}"
    routes: list[RouteSpec] = [
        ("/reset", reset, "POST"),
        ("/config", get_config, "GET"),
        ("/config", patch_config, "PATCH"),
        ("/clock", get_clock, "GET"),
        ("/clock", advance_clock, "POST"),
        ("/accounts", accounts, "GET"),
        ("/accounts", create_account, "POST"),
        (a, patch_account, "PATCH"),
        (f"{a}/credentials", replace_credentials, "POST"),
        (f"{a}/orders", create_order, "POST"),
        (f"{a}/orders/{{order_id}}", get_order, "GET"),
        (f"{a}/orders/{{order_id}}/ship", ship, "POST"),
        (f"{a}/orders/{{order_id}}/cancellation-request", cancellation_request, "POST"),
        (f"{a}/orders/{{order_id}}/cancel", cancel, "POST"),
        (f"{a}/orders/{{order_id}}/age", age, "POST"),
        (f"{a}/shipments/{{shipment_id}}", get_shipment, "GET"),
        (f"{a}/shipments/{{shipment_id}}/invoice-request", invoice_request, "POST"),
        (f"{a}/shipments/{{shipment_id}}/invoice-status", invoice_status, "POST"),
        (f"{a}/shipments/{{shipment_id}}/invoices", shipment_invoices, "GET"),
        (f"{a}/shipments/{{shipment_id}}/invoices/{{number}}", invoice_file, "GET"),
        (f"{a}/invoices", all_invoices, "GET"),
        (f"{a}/returns", create_return, "POST"),
        (f"{a}/returns/{{rma_id}}/handle", handle_return, "POST"),
        (f"{a}/calls", calls, "GET"),
        (f"{a}/calls", reset_calls, "DELETE"),
        ("/ratelimits", get_limits, "GET"),
        ("/ratelimits", set_limits, "PUT"),
        ("/ratelimits", reset_limits, "DELETE"),
    ]
    return api.routes(routes, state.faults)
