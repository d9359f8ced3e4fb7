"""The JSON bodies, field for field as the v10 spec's schemas name them. Optional
fields without a value are left out, as bol does (no nulls)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .model import (
    InvoiceRequest,
    Order,
    OrderItem,
    ProcessStatus,
    Return,
    ReturnItem,
    Shipment,
    ShipmentLine,
)
from .timefmt import bol_date, bol_datetime

Json = dict[str, Any]

# What an invoice request repeats of the billing details (InvoiceRequestsBillingDetails).
_INVOICE_BILLING_KEYS = (
    "salutation",
    "firstName",
    "surname",
    "streetName",
    "houseNumber",
    "houseNumberExtension",
    "zipCode",
    "city",
    "countryCode",
    "company",
    "vatNumber",
    "kvkNumber",
)
# CustomerDetails of a return: the delivery address plus the buyer's VAT number.
_CUSTOMER_KEYS = (
    "salutation",
    "firstName",
    "surname",
    "streetName",
    "houseNumber",
    "houseNumberExtension",
    "extraAddressInformation",
    "zipCode",
    "city",
    "countryCode",
    "email",
    "deliveryPhoneNumber",
    "company",
)


def _compact(data: Json) -> Json:
    return {k: v for k, v in data.items() if v is not None}


def reduced_orders(entries: list[tuple[Order, list[OrderItem]]]) -> list[Json]:
    return [
        {
            "orderId": order.order_id,
            "orderPlacedDateTime": bol_datetime(order.placed_at),
            "orderItems": [
                {
                    "orderItemId": i.order_item_id,
                    "ean": i.ean,
                    "fulfilmentMethod": i.method,
                    "fulfilmentStatus": "HANDLED" if i.handled else "OPEN",
                    "quantity": i.quantity,
                    "quantityShipped": i.quantity_shipped,
                    "quantityCancelled": i.quantity_cancelled,
                    "cancellationRequest": i.cancellation_request,
                    "latestChangedDateTime": bol_datetime(i.changed_at),
                }
                for i in items
            ],
        }
        for order, items in entries
    ]


def _offer(item: OrderItem) -> Json:
    return _compact({"offerId": item.offer_id or None, "reference": item.offer_reference})


def _product(item: OrderItem) -> Json | None:
    return {"ean": item.ean, "title": item.title} if item.with_product else None


def order(o: Order) -> Json:
    return _compact(
        {
            "orderId": o.order_id,
            "pickupPoint": o.pickup_point,
            "orderPlacedDateTime": bol_datetime(o.placed_at),
            "shipmentDetails": dict(o.shipment_details),
            "billingDetails": dict(o.billing_details) if o.billing_details is not None else None,
            "orderItems": [order_item(i) for i in o.items],
        }
    )


def order_item(i: OrderItem) -> Json:
    fulfilment = _compact(
        {
            "method": i.method,
            "distributionParty": i.distribution_party,
            "latestDeliveryDate": bol_date(i.latest_delivery_date)
            if i.latest_delivery_date
            else None,
            "exactDeliveryDate": bol_date(i.exact_delivery_date) if i.exact_delivery_date else None,
            "expiryDate": bol_date(i.expiry_date) if i.expiry_date else None,
            "timeFrameType": i.time_frame_type,
        }
    )
    return _compact(
        {
            "orderItemId": i.order_item_id,
            "cancellationRequest": i.cancellation_request,
            "fulfilment": fulfilment,
            "offer": _offer(i),
            "product": _product(i),
            "quantity": i.quantity,
            "quantityShipped": i.quantity_shipped,
            "quantityCancelled": i.quantity_cancelled,
            "unitPrice": i.unit_price,
            "totalPrice": i.total_price,
            "discounts": [{"title": d.title, "amount": d.amount} for d in i.discounts],
            "commission": i.commission,
            "additionalServices": [{"serviceType": s} for s in i.additional_services] or None,
            "latestChangedDateTime": bol_datetime(i.changed_at),
        }
    )


def reduced_shipments(shipments: list[Shipment]) -> list[Json]:
    return [
        {
            "shipmentId": s.shipment_id,
            "shipmentDateTime": bol_datetime(s.shipped_at),
            "shipmentReference": s.reference,
            "order": {
                "orderId": s.order.order_id,
                "orderPlacedDateTime": bol_datetime(s.order.placed_at),
            },
            "shipmentItems": [
                {"orderItemId": line.item.order_item_id, "ean": line.item.ean} for line in s.lines
            ],
            "transport": {"transportId": s.transport.transport_id},
        }
        for s in shipments
    ]


def _shipment_item(line: ShipmentLine) -> Json:
    i = line.item
    fulfilment = _compact(
        {
            "method": i.method,
            "distributionParty": i.distribution_party,
            "latestDeliveryDate": bol_date(i.latest_delivery_date)
            if i.latest_delivery_date
            else None,
        }
    )
    # No totalPrice and no discounts on shipment items (bol.md §3.4).
    return _compact(
        {
            "orderItemId": i.order_item_id,
            "fulfilment": fulfilment,
            "offer": _offer(i),
            "product": _product(i),
            "quantity": i.quantity,
            "quantityShipped": line.quantity,
            "unitPrice": i.unit_price,
            "commission": i.commission,
        }
    )


def shipment(s: Shipment) -> Json:
    t = s.transport
    transport = _compact(
        {
            "transportId": t.transport_id,
            "transporterCode": t.transporter_code,
            "trackAndTrace": t.track_and_trace,
            "shippingLabelId": t.shipping_label_id,
            "transportEvents": [
                {"eventCode": code, "eventDateTime": bol_datetime(at)} for code, at in t.events
            ],
        }
    )
    o = s.order
    return _compact(
        {
            "shipmentId": s.shipment_id,
            "shipmentDateTime": bol_datetime(s.shipped_at),
            "shipmentReference": s.reference,
            "pickupPoint": o.pickup_point,
            "order": {"orderId": o.order_id, "orderPlacedDateTime": bol_datetime(o.placed_at)},
            "shipmentDetails": dict(o.shipment_details),
            "billingDetails": dict(o.billing_details) if o.billing_details is not None else None,
            "shipmentItems": [_shipment_item(line) for line in s.lines],
            "transport": transport,
        }
    )


def invoice_request(r: InvoiceRequest) -> Json:
    s = r.shipment
    billing = s.order.billing_details or s.order.shipment_details
    return _compact(
        {
            "shipmentId": s.shipment_id,
            "orderId": s.order.order_id,
            "customerAccountNumber": s.order.customer_account_number or None,
            "billingDetails": {k: billing[k] for k in _INVOICE_BILLING_KEYS if k in billing},
            "products": [
                {
                    "description": line.item.title,
                    "quantity": line.quantity,
                    "unitPrice": line.item.unit_price,
                }
                for line in s.lines
            ],
            "status": r.status,
            "statusTransitions": [
                {"status": status, "statusDateTime": bol_datetime(at)}
                for status, at in r.transitions
            ],
        }
    )


def _return_item(item: ReturnItem, detail: bool) -> Json:
    data: Json = {
        "rmaId": item.rma_id,
        "orderId": item.order.order_id,
        "ean": item.item.ean,
    }
    if detail:
        data["title"] = item.item.title
    data["expectedQuantity"] = item.expected_quantity
    data["returnReason"] = {
        "mainReason": item.main_reason,
        "detailedReason": item.detailed_reason,
        "customerComments": item.comments,
    }
    if detail:
        data["trackAndTrace"] = item.track_and_trace
        data["transporterName"] = item.transporter_name
    data["handled"] = item.handled
    data["processingResults"] = [
        {
            "quantity": r.quantity,
            "processingResult": r.processing_result,
            "handlingResult": r.handling_result,
            "processingDateTime": bol_datetime(r.at),
        }
        for r in item.results
    ]
    if detail:
        delivery = item.order.shipment_details
        customer = {k: delivery[k] for k in _CUSTOMER_KEYS if k in delivery}
        vat = (item.order.billing_details or {}).get("vatNumber")
        data["customerDetails"] = _compact({**customer, "vatNumber": vat})
    return _compact(data)


def return_(r: Return, *, detail: bool) -> Json:
    return {
        "returnId": r.return_id,
        "registrationDateTime": bol_datetime(r.registered_at),
        "fulfilmentMethod": r.method,
        "returnItems": [_return_item(i, detail) for i in r.items],
    }


def process_status(p: ProcessStatus, now: datetime, base_url: str) -> Json:
    status = p.status(now)
    return _compact(
        {
            "processStatusId": p.process_status_id,
            "entityId": p.entity_id,
            "eventType": p.event_type,
            "description": p.description,
            "status": status,
            "errorMessage": p.error_message if status == "FAILURE" else None,
            "createTimestamp": bol_datetime(p.created_at),
            "links": [
                {"rel": "self", "href": f"{base_url}/shared/process-status/{p.process_status_id}"}
            ],
        }
    )
