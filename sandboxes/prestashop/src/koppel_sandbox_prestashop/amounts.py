"""An order's amounts, derived from its stored inputs with the order's own
rounding type (see `pricing.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .model import CartRule, Line, Order
from .pricing import (
    ZERO,
    Discount,
    LineAmounts,
    OrderTotals,
    cart_rule_value,
    charge,
    line_amounts,
    order_totals,
    q2,
)

if TYPE_CHECKING:
    from .state import PrestaShopState


@dataclass(frozen=True)
class OrderAmounts:
    lines: list[tuple[Line, LineAmounts]]
    cart_rules: list[tuple[CartRule, Discount]]
    totals: OrderTotals


def amounts_of_line(order: Order, line: Line) -> LineAmounts:
    """One line's amounts: they depend on the line and the order's rounding type only."""
    return line_amounts(line.unit_price_tax_excl, line.tax_rate, line.quantity, order.round_type)


def order_amounts(order: Order) -> OrderAmounts:
    lines = [(line, amounts_of_line(order, line)) for line in order.lines]
    products_excl = q2(sum((a.total_tax_excl for _, a in lines), ZERO))
    products_incl = q2(sum((a.total_tax_incl for _, a in lines), ZERO))
    shipping = charge(order.shipping_tax_excl, order.carrier_tax_rate, includes_tax=False)
    wrapping = charge(order.wrapping_tax_excl, order.wrapping_tax_rate, includes_tax=False)
    rules = []
    for rule in order.cart_rules:
        if rule.value is not None:
            extra = (shipping.tax_incl, shipping.tax_excl) if rule.free_shipping else (ZERO, ZERO)
            value = Discount(rule.value + extra[0], (rule.value_tax_excl or rule.value) + extra[1])
        else:
            value = cart_rule_value(
                products_excl=products_excl,
                products_incl=products_incl,
                shipping=shipping,
                percent=rule.percent,
                amount=rule.amount,
                tax_included=rule.tax_included,
                free_shipping=rule.free_shipping,
            )
        rules.append((rule, value))
    totals = order_totals([a for _, a in lines], [v for _, v in rules], shipping, wrapping)
    return OrderAmounts(lines, rules, totals)


def is_paid_before(state: PrestaShopState, order: Order) -> bool:
    """`Order::hasBeenPaid`: some state in its history has the paid flag."""
    return any(
        h.id_order == order.id and state.order_states[h.id_order_state].paid
        for h in state.histories.values()
        if h.id_order_state in state.order_states
    )
