"""Resources as CCV Shop returns them: every documented key, nulls and empty strings
as in the real samples, money as numbers, absolute hrefs with a trailing slash."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from .pricing import ZERO
from .signing import format_date
from .state import Order, Row, Webhook

API = "/api/rest/v1"


def _href(base: str, *parts: object) -> str:
    return f"{base}{API}/" + "/".join(str(p) for p in parts) + "/"


def _date(moment: datetime | None) -> str | None:
    return format_date(moment) if moment else None


def order(o: Order, base: str) -> dict[str, Any]:
    totals = o.totals()
    done = o.is_completed
    coupon = o.coupon
    resource: dict[str, Any] = {
        "href": _href(base, "orders", o.id),
        "id": o.id,
        "ordernumber_prefix": o.ordernumber_prefix if done else None,
        "ordernumber": o.ordernumber if done else None,
        "ordernumber_full": o.ordernumber_full if done else None,
        "invoicenumber": o.ordernumber if done else None,
        "transaction_id": o.transaction_id,
        "create_date": _date(o.create_date),
        "deliver_method": "shipping",
        "deliver_date": None,
        "take_out_window": {"start": None, "end": None},
        "is_platform_sale": False,
        "orderedinlng": "nl",
        "status": o.status if done else None,
        "is_completed": done,
        "paid": o.paid,
        "safety_deposit_returned": False,
        "paymethod_id": o.paymethod["id"],
        "paymethod": o.paymethod["name"],
        "paymethod_label": o.paymethod["label"],
        "taxes_included": True,
        "order_row_taxes_included": o.order_row_taxes_included,
        "shipping_taxes_included": o.shipping_taxes_included,
        "shipping_tax_percentage": o.shipping_tax_percentage,
        "is_intra_community_order": False,
        "total_orderrow_price": totals.total_orderrow_price,
        "total_shipping": o.shipping,
        "total_discounts": totals.total_discounts,
        "total_price": totals.total_price,
        "currency": o.currency,
        "total_tax": totals.total_tax,
        "total_weight": sum((row.weight * row.count for row in o.rows), ZERO),
        "extra_payment_option": "",
        "extra_payment_option_price": None,
        "extra_payment_option_no_sentprice": False,
        "extra_payment_option_pay_on_pickup": False,
        "extra_price": o.paymethod_costs - o.credit_point_discount,
        "paymethod_costs": o.paymethod_costs,
        "credit_point_discount": o.credit_point_discount,
        "extra_costs": o.extra_costs,
        "extra_costs_description": o.extra_costs_description,
        "track_and_trace_code": "",
        "track_and_trace_carrier": None,
        "track_and_trace_deeplink": "",
        "reservationnumber": None,
        "delivery_option": None,
        # The real payload carried user.id as a string although the schema says int.
        "user": {"id": None, "discount_percentage": 0, "href": None},
        "discountcoupon": {
            "code": coupon.code if coupon else "",
            "discount": coupon.discount if coupon else ZERO,
            "type": coupon.type if coupon else "",
            "enddate": None,
            "onetimeuse": False,
            "givesfreeshipping": coupon.givesfreeshipping if coupon else False,
            "minimumprice": ZERO,
        },
        "customer": o.customer,
        "pickup_address": None,
        "packing_slip_deeplink": None,
        **{
            name: {"href": _href(base, "orders", o.id, name)}
            for name in (
                "orderrows",
                "ordernotes",
                "ordermessages",
                "ordernotifications",
                "orderaffiliatenetworks",
                "orderlabels",
                "invoices",
            )
        },
    }
    # Test hook: seeded "raw" fields win, to model malformed or unusual payloads.
    resource.update(o.overrides)
    return resource


def row(o: Order, r: Row, base: str) -> dict[str, Any]:
    unit = r.price - r.discount
    with_options = unit + r.option_price
    return {
        "href": _href(base, "orderrows", r.id),
        "id": r.id,
        "order_id": o.id,
        "product_type": r.product_type,
        "product_name": r.product_name,
        "product_name_google": "",
        "product_number": r.product_number,
        "sub_product_number": r.sub_product_number,
        "sub_sku_number": r.sub_sku_number,
        "sub_ean_number": r.sub_ean_number,
        "product_id": r.product_id,
        "product_href": _href(base, "products", r.product_id),
        "count": r.count,
        "price": r.price,
        "product_purchase_price": ZERO,
        "discount": r.discount,
        "custom_price": False,
        "tax": r.tax,
        "unit": "stuk",
        "weight": r.weight,
        "memo": "",
        "package_id": 0,
        "package_name": "",
        "stock_location": "",
        "supplier": "",
        "user_discount": ZERO,
        "original_price": unit,
        "selling_price": unit,
        "price_without_discount": r.price,
        "price_without_discount_with_attributes": r.price + r.option_price,
        "price_with_attributes": with_options,
        "total_price": r.total_price,
        "total_extra_option_price": r.count * r.option_price,
        "total_price_with_attributes": r.total_price,
        "attributes": [
            {
                "id": option.id,
                "option_name": option.option_name,
                "value_name": option.value_name,
                "price": option.price,
            }
            for option in r.options
        ],
        "uploads": [],
        "parent": {"href": _href(base, "orders", o.id)},
    }


def webhook(hook: Webhook, base: str) -> dict[str, Any]:
    return {
        "href": _href(base, "webhooks", hook.id),
        "id": hook.id,
        "createdate": _date(hook.createdate),
        "event": hook.event,
        "address": hook.address,
        "key": hook.key,
        "is_active": hook.is_active,
        "parent": {"href": _href(base, "webshops", 1)},
    }


def webhook_payload(
    event: str, o: Order, base: str, triggered_at: datetime, extra: dict[str, Any]
) -> dict[str, Any]:
    """The summary CCV posts (§8): `order_number` with an underscore, href without slash."""
    payload: dict[str, Any] = {
        "triggered_at": format_date(triggered_at),
        "href": f"{base}{API}/orders/{o.id}",
        "id": o.id,
        "order_number": o.ordernumber,
        "ordernumber_prefix": o.ordernumber_prefix,
        "ordernumber_full": o.ordernumber_full,
        "total_price": o.totals().total_price,
    }
    if event == "orders.updated.status":
        payload["previous_status"] = extra.get("previous_status")
    payload["status"] = o.status
    payload["customer_email"] = o.customer.get("email", "")
    payload["customer_mobile"] = o.customer.get("billingaddress", {}).get("mobile", "")
    if event == "orders.updated.ispaid":
        payload["paid"] = o.paid
    return payload


def collection(
    items: list[dict[str, Any]],
    *,
    base: str,
    path: str,
    params: dict[str, str],
    start: int,
    size: int,
    total: int,
) -> dict[str, Any]:
    """The collection envelope (§7); `items` is already the requested page."""

    def link(offset: int) -> str:
        return f"{base}{path}?" + urlencode({**params, "start": offset, "size": size})

    return {
        "href": link(start),
        "start": start,
        "size": size,
        "first": link(0),
        "previous": link(max(0, start - size)) if start > 0 else None,
        "next": link(start + size) if start + size < total else None,
        "items": items,
    }
