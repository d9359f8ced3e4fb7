"""The shop's data as webservice records: one dict per object with a value for
every field of its resource (typed: int, bool, Decimal, str, datetime, or a
{language id: text} dict for multilang fields) and its associations.
Dates that are not set read `0000-00-00 00:00:00`, as PrestaShop stores them.

A request names the records it may choose (`Wanted`, asked of a record's *head*: the few
fields that cost nothing to read), so a source computes amounts only for those — a single
order costs the same in a shop of four orders as in one of thousands.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from .amounts import amounts_of_line, order_amounts
from .model import Order
from .pricing import ZERO
from .state import PrestaShopState

ZERO_DATE = "0000-00-00 00:00:00"
SHOP_ADDRESS = "Oudegracht 1\n3511 AA Utrecht\nNederland"
Record = dict[str, Any]

Wanted = Callable[[Record], bool]
"""Whether a request may choose a record, asked of its head. A head's values are the
record's own (the shop's raw overrides included), so a `Wanted` that says no is never
wrong; the request's own filters still choose among what a source builds."""


def anything(_: Record) -> bool:
    return True


def with_id(record_id: int) -> Wanted:
    return lambda head: int(head["id"]) == record_id


class RecordSource(Protocol):
    def __call__(self, state: PrestaShopState, wanted: Wanted = anything, /) -> list[Record]:
        """At least every record `wanted` may choose; possibly more."""
        ...


def whole(build: Callable[[PrestaShopState], list[Record]]) -> RecordSource:
    """A source whose records cost next to nothing: built whole, whatever is wanted."""

    @functools.wraps(build)
    def source(state: PrestaShopState, wanted: Wanted = anything, /) -> list[Record]:
        return build(state)

    return source


def _when(moment: datetime | None) -> datetime | str:
    return moment if moment is not None else ZERO_DATE


def _invoice_id(state: PrestaShopState, order_id: int) -> int:
    invoice = state.invoice_of(order_id)
    return invoice.id if invoice else 0


def _order_head(order: Order) -> Record:
    """What requests narrow orders by (an id, a reference, a state, a window of dates),
    then the order's raw overrides: they are what the record says."""
    return {
        "id": order.id,
        "current_state": order.current_state,
        "date_add": order.date_add,
        "date_upd": order.date_upd,
        "reference": order.reference,
        **order.overrides.get("order", {}),
    }


def orders(state: PrestaShopState, wanted: Wanted = anything, /) -> list[Record]:
    records = []
    for order in state.orders.values():
        head = _order_head(order)
        if not wanted(head):
            continue
        amounts = order_amounts(order)
        totals = amounts.totals
        invoice = state.invoice_of(order.id)
        record: Record = {
            "id": order.id,
            "id_address_delivery": order.id_address_delivery,
            "id_address_invoice": order.id_address_invoice,
            "id_cart": order.id_cart,
            "id_currency": order.id_currency,
            "id_lang": order.id_lang,
            "id_customer": order.id_customer,
            "id_carrier": order.id_carrier,
            "current_state": order.current_state,
            "module": order.module,
            "invoice_number": invoice.number if invoice else 0,
            "invoice_date": _when(invoice.date_add if invoice else None),
            "delivery_number": order.delivery_number,
            "delivery_date": _when(order.delivery_date),
            "valid": order.valid,
            "date_add": order.date_add,
            "date_upd": order.date_upd,
            "shipping_number": order.tracking_number,
            "note": order.note,
            "id_shop_group": 1,
            "id_shop": 1,
            "secure_key": order.secure_key,
            "payment": order.payment,
            "recyclable": order.recyclable,
            "gift": order.gift,
            "gift_message": order.gift_message,
            "mobile_theme": False,
            "total_discounts": totals.discounts_incl,
            "total_discounts_tax_incl": totals.discounts_incl,
            "total_discounts_tax_excl": totals.discounts_excl,
            "total_paid": totals.paid_incl,
            "total_paid_tax_incl": totals.paid_incl,
            "total_paid_tax_excl": totals.paid_excl,
            "total_paid_real": totals.paid_incl if state.is_paid(order.reference) else ZERO,
            "total_products": totals.products_excl,
            "total_products_wt": totals.products_incl,
            "total_shipping": totals.shipping.tax_incl,
            "total_shipping_tax_incl": totals.shipping.tax_incl,
            "total_shipping_tax_excl": totals.shipping.tax_excl,
            "carrier_tax_rate": order.carrier_tax_rate,
            "total_wrapping": totals.wrapping.tax_incl,
            "total_wrapping_tax_incl": totals.wrapping.tax_incl,
            "total_wrapping_tax_excl": totals.wrapping.tax_excl,
            "round_mode": order.round_mode,
            "round_type": order.round_type,
            "conversion_rate": order.conversion_rate,
            "reference": order.reference,
            **head,
        }
        rows = []
        for line, line_amount in amounts.lines:
            row = {
                "id": line.id,
                "product_id": line.product_id,
                "product_attribute_id": line.product_attribute_id,
                "product_quantity": line.quantity,
                "product_name": line.name,
                "product_reference": line.reference,
                "product_ean13": line.ean13,
                "product_isbn": line.isbn,
                "product_upc": line.upc,
                "product_price": line.original_price or line.unit_price_tax_excl,
                "id_customization": 0,
                "unit_price_tax_incl": line_amount.unit_tax_incl,
                "unit_price_tax_excl": line_amount.unit_tax_excl,
            }
            row.update(order.overrides.get("order_details", {}).get(str(line.id), {}))
            rows.append({k: row[k] for k in row if k in _ORDER_ROW_FIELDS})
        record["associations"] = {"order_rows": rows}
        records.append(record)
    return records


_ORDER_ROW_FIELDS = {
    "id",
    "product_id",
    "product_attribute_id",
    "product_quantity",
    "product_name",
    "product_reference",
    "product_ean13",
    "product_isbn",
    "product_upc",
    "product_price",
    "id_customization",
    "unit_price_tax_incl",
    "unit_price_tax_excl",
}


def order_details(state: PrestaShopState, wanted: Wanted = anything, /) -> list[Record]:
    records = []
    for order in state.orders.values():
        overrides = order.overrides.get("order_details", {})
        for line in order.lines:
            head = {"id": line.id, "id_order": order.id, **overrides.get(str(line.id), {})}
            if not wanted(head):
                continue
            amounts = amounts_of_line(order, line)
            record: Record = {
                "id": line.id,
                "id_order": order.id,
                "product_id": line.product_id,
                "product_attribute_id": line.product_attribute_id,
                "product_quantity_reinjected": 0,
                "group_reduction": ZERO,
                "discount_quantity_applied": 0,
                "download_hash": "",
                "download_deadline": ZERO_DATE,
                "id_order_invoice": _invoice_id(state, order.id),
                "id_warehouse": 0,
                "id_shop": 1,
                "id_customization": 0,
                "product_name": line.name,
                "product_quantity": line.quantity,
                "product_quantity_in_stock": line.quantity,
                "product_quantity_return": line.quantity_returned,
                "product_quantity_refunded": line.quantity_refunded,
                "product_price": line.original_price or line.unit_price_tax_excl,
                "reduction_percent": line.reduction_percent,
                "reduction_amount": ZERO,
                "reduction_amount_tax_incl": ZERO,
                "reduction_amount_tax_excl": ZERO,
                "product_quantity_discount": ZERO,
                "product_ean13": line.ean13,
                "product_isbn": line.isbn,
                "product_upc": line.upc,
                "product_mpn": line.mpn,
                "product_reference": line.reference,
                "product_supplier_reference": line.supplier_reference,
                "product_weight": line.weight,
                "tax_name": state.taxes[line.tax_id].name[1] if line.tax_id else "",
                "tax_rate": line.tax_rate,
                "tax_computation_method": 0,
                "id_tax_rules_group": line.tax_rules_group,
                "ecotax": ZERO,
                "ecotax_tax_rate": ZERO,
                "download_nb": 0,
                "unit_price_tax_incl": amounts.unit_tax_incl,
                "unit_price_tax_excl": amounts.unit_tax_excl,
                "total_price_tax_incl": amounts.total_tax_incl,
                "total_price_tax_excl": amounts.total_tax_excl,
                "total_shipping_price_tax_excl": ZERO,
                "total_shipping_price_tax_incl": ZERO,
                "purchase_supplier_price": ZERO,
                "original_product_price": line.original_price or line.unit_price_tax_excl,
                "original_wholesale_price": ZERO,
                "total_refunded_tax_excl": line.refunded_tax_excl,
                "total_refunded_tax_incl": line.refunded_tax_incl,
                **head,
            }
            record["associations"] = {"taxes": [{"id": line.tax_id}] if line.tax_id else []}
            records.append(record)
    return records


def order_cart_rules(state: PrestaShopState, wanted: Wanted = anything, /) -> list[Record]:
    records = []
    for order in state.orders.values():
        chosen = {r.id for r in order.cart_rules if wanted({"id": r.id, "id_order": order.id})}
        if not chosen:
            continue  # the order's amounts are not computed for nothing
        for rule, value in order_amounts(order).cart_rules:
            if rule.id not in chosen:
                continue
            records.append(
                {
                    "id": rule.id,
                    "id_order": order.id,
                    "id_cart_rule": rule.id_cart_rule,
                    "id_order_invoice": _invoice_id(state, order.id),
                    "name": rule.name,
                    "value": value.value,
                    "value_tax_excl": value.value_tax_excl,
                    "free_shipping": rule.free_shipping,
                    "deleted": False,
                }
            )
    return records


def order_invoices(state: PrestaShopState, wanted: Wanted = anything, /) -> list[Record]:
    records = []
    for invoice in state.invoices.values():
        if not wanted({"id": invoice.id, "id_order": invoice.id_order}):
            continue
        order = state.orders[invoice.id_order]
        totals = order_amounts(order).totals
        records.append(
            {
                "id": invoice.id,
                "id_order": order.id,
                "number": invoice.number,
                "delivery_number": order.delivery_number,
                "delivery_date": _when(order.delivery_date),
                "total_discount_tax_excl": totals.discounts_excl,
                "total_discount_tax_incl": totals.discounts_incl,
                "total_paid_tax_excl": totals.paid_excl,
                "total_paid_tax_incl": totals.paid_incl,
                "total_products": totals.products_excl,
                "total_products_wt": totals.products_incl,
                "total_shipping_tax_excl": totals.shipping.tax_excl,
                "total_shipping_tax_incl": totals.shipping.tax_incl,
                "shipping_tax_computation_method": 0,
                "total_wrapping_tax_excl": totals.wrapping.tax_excl,
                "total_wrapping_tax_incl": totals.wrapping.tax_incl,
                "shop_address": f"{state.config.shop_name}\n{SHOP_ADDRESS}",
                "note": "",
                "date_add": invoice.date_add,
            }
        )
    return records


def order_carriers(state: PrestaShopState, wanted: Wanted = anything, /) -> list[Record]:
    records = []
    for order in state.orders.values():
        # An order has one carrier row, under the order's own id.
        if not wanted({"id": order.id, "id_order": order.id}):
            continue
        totals = order_amounts(order).totals
        records.append(
            {
                "id": order.id,
                "id_order": order.id,
                "id_carrier": order.id_carrier,
                "id_order_invoice": _invoice_id(state, order.id),
                "weight": sum((line.weight * line.quantity for line in order.lines), ZERO),
                "shipping_cost_tax_excl": totals.shipping.tax_excl,
                "shipping_cost_tax_incl": totals.shipping.tax_incl,
                "tracking_number": order.tracking_number,
                "date_add": order.date_add,
            }
        )
    return records


def order_slips(state: PrestaShopState) -> list[Record]:
    return [
        {
            "id": slip.id,
            "id_customer": slip.id_customer,
            "id_order": slip.id_order,
            "conversion_rate": slip.conversion_rate,
            "total_products_tax_excl": slip.products_tax_excl,
            "total_products_tax_incl": slip.products_tax_incl,
            "total_shipping_tax_excl": slip.shipping_tax_excl,
            "total_shipping_tax_incl": slip.shipping_tax_incl,
            "amount": slip.products_tax_incl + slip.shipping_tax_incl,
            "shipping_cost": int(slip.shipping_tax_incl > 0),
            "shipping_cost_amount": slip.shipping_tax_incl,
            "partial": int(slip.partial),
            "date_add": slip.date_add,
            "date_upd": slip.date_add,
            "order_slip_type": 0,
            # OrderSlip's association getter selects id_order_slip AS id (UNCONFIRMED).
            "associations": {
                "order_slip_details": [
                    {
                        "id": slip.id,
                        "id_order_detail": line.id_order_detail,
                        "product_quantity": line.quantity,
                        "amount_tax_excl": line.amount_tax_excl,
                        "amount_tax_incl": line.amount_tax_incl,
                    }
                    for line in slip.lines
                ]
            },
        }
        for slip in state.slips.values()
    ]
