"""Credit slips (refunds) taken off what the order charges. Pure.

A slip states its products total (incl. and excl., rounded the shop's way) and, per
refunded line, a quantity and 6-decimal amounts (§9). The slip's totals are what the
customer got back: they are split over its lines in proportion to those amounts, to the
cent (`amounts.allocate`), so the lines together give back exactly the slip. Shipping
refunded is the slip's own figure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from .amounts import ZERO, allocate
from .records import Order, Slip
from .webservice import MappingError


@dataclass
class Refunded:
    quantity: int = 0
    excl: Decimal = ZERO
    incl: Decimal = ZERO


@dataclass(frozen=True)
class Refunds:
    lines: dict[int, Refunded]  # by order_detail id
    shipping_excl: Decimal
    shipping_incl: Decimal
    total_excl: Decimal  # everything the slips gave back
    total_incl: Decimal


def refunds(slips: Iterable[Slip]) -> Refunds:
    lines: dict[int, Refunded] = {}
    shipping_excl = shipping_incl = ZERO
    for slip in slips:
        if slip.products_tax_incl != 0 and not slip.lines:
            raise MappingError(f"credit slip {slip.id} refunds products without naming the lines")
        if slip.lines:
            excl = allocate(slip.products_tax_excl, [line.amount_tax_excl for line in slip.lines])
            incl = allocate(slip.products_tax_incl, [line.amount_tax_incl for line in slip.lines])
            for line, share_excl, share_incl in zip(slip.lines, excl, incl, strict=True):
                seen = lines.setdefault(line.id_order_detail, Refunded())
                seen.quantity += line.quantity
                seen.excl += share_excl
                seen.incl += share_incl
        shipping_excl += slip.shipping_tax_excl
        shipping_incl += slip.shipping_tax_incl
    total_excl = sum((r.excl for r in lines.values()), ZERO) + shipping_excl
    total_incl = sum((r.incl for r in lines.values()), ZERO) + shipping_incl
    return Refunds(lines, shipping_excl, shipping_incl, total_excl, total_incl)


def refunded_entirely(order: Order, slips: Sequence[Slip]) -> bool:
    """Every item and the shipping given back: the order is as good as cancelled. A
    partial refund is a change of the order (an amendment), not a cancellation."""
    if not slips or not order.rows:
        return False
    given_back: dict[int, int] = {}
    for slip in slips:
        for line in slip.lines:
            given_back[line.id_order_detail] = (
                given_back.get(line.id_order_detail, 0) + line.quantity
            )
    items_back = all(given_back.get(row.id, 0) >= row.quantity for row in order.rows)
    shipping_back = sum((s.shipping_tax_incl for s in slips), ZERO) >= order.total_shipping_tax_incl
    return items_back and shipping_back
