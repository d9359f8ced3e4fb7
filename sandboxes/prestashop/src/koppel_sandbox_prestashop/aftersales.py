"""After the sale: credit slips (refunds), tracking numbers, and malformed
orders for tests — what the merchant does in the back office once an order exists."""

from __future__ import annotations

from typing import Any

from .amounts import is_paid_before, order_amounts
from .model import Order, Slip, SlipLine
from .orders import set_state
from .pricing import ZERO, line_amounts, q2, q6, slip_products
from .state import NotFound, PrestaShopState


def refund(state: PrestaShopState, order_id: int, spec: dict[str, Any]) -> Slip:
    """A credit slip (`OrderSlip::create`): `lines` [{id_order_detail, quantity}] or
    `all: true`; `shipping: true` refunds the shipping too; `partial` is stored as
    given; `state` (e.g. 7 Refunded) also changes the order's state. Quantities are
    capped at what is not yet refunded; a paid order counts them as refunded."""
    order = state.order(order_id)
    if spec.get("all"):
        wanted = [(line, line.quantity - line.quantity_refunded) for line in order.lines]
    else:
        by_id = {line.id: line for line in order.lines}
        wanted = []
        for item in spec.get("lines") or []:
            line = by_id.get(int(item["id_order_detail"]))
            if line is None:
                raise NotFound(
                    f"order_detail {item['id_order_detail']} is not a line of order {order_id}"
                )
            wanted.append((line, int(item.get("quantity", line.quantity))))
    taken = [(line, min(qty, line.quantity - line.quantity_refunded)) for line, qty in wanted]
    taken = [(line, qty) for line, qty in taken if qty > 0]
    if not taken and not spec.get("shipping"):
        raise ValueError("nothing left to refund on this order")
    products = slip_products(
        [(line.unit_price_tax_excl, line.tax_rate, qty) for line, qty in taken], order.round_type
    )
    paid_before = is_paid_before(state, order)
    slip_lines = []
    for line, qty in taken:
        amounts = line_amounts(line.unit_price_tax_excl, line.tax_rate, 1, order.round_type)
        slip_line = SlipLine(
            line.id, qty, q6(amounts.unit_tax_excl * qty), q6(amounts.unit_tax_incl * qty)
        )
        slip_lines.append(slip_line)
        if paid_before:
            line.quantity_refunded += qty
        line.refunded_tax_excl += q2(slip_line.amount_tax_excl)
        line.refunded_tax_incl += q2(slip_line.amount_tax_incl)
    shipping = order_amounts(order).totals.shipping
    with_shipping = bool(spec.get("shipping"))
    slip = Slip(
        id=state.next_id("order_slip"),
        id_order=order.id,
        id_customer=order.id_customer,
        conversion_rate=order.conversion_rate,
        products_tax_excl=products.products_excl,
        products_tax_incl=products.products_incl,
        shipping_tax_excl=shipping.tax_excl if with_shipping else ZERO,
        shipping_tax_incl=shipping.tax_incl if with_shipping else ZERO,
        partial=bool(spec.get("partial", False)),
        lines=slip_lines,
        date_add=state.now(),
    )
    state.slips[slip.id] = slip
    if "state" in spec:
        set_state(state, order_id, int(spec["state"]))
    elif state.config.refund_touches_order:
        order.date_upd = state.now()
    return slip


def malform(state: PrestaShopState, order_id: int, spec: dict[str, Any]) -> Order:
    """Serve raw values instead of computed ones: {"order": {field: value},
    "order_details": {detail_id: {field: value}}} — e.g. a row whose totals do not
    add up. Merged into earlier overrides; `{"clear": true}` removes them."""
    order = state.order(order_id)
    if spec.get("clear"):
        order.overrides = {}
        return order
    order.overrides.setdefault("order", {}).update(spec.get("order") or {})
    details = order.overrides.setdefault("order_details", {})
    for detail_id, fields in (spec.get("order_details") or {}).items():
        details.setdefault(str(detail_id), {}).update(fields)
    return order


def set_tracking(state: PrestaShopState, order_id: int, tracking_number: str) -> Order:
    order = state.order(order_id)
    order.tracking_number = tracking_number
    order.date_upd = state.now()
    return order
