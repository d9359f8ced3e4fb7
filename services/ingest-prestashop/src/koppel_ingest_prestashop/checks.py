"""The shop's own arithmetic, checked before an order is mapped (prestashop.md §7: "check
it rather than assume it"). Pure; each failure names the figures that disagree.

- the order_details add up to `total_products_wt` (incl.) and `total_products` (excl.);
- the cart rules add up to `total_discounts_tax_incl` / `_tax_excl`;
- products + shipping + wrapping - discounts = `total_paid_tax_incl` / `_tax_excl`.

Amounts are compared to the cent: with rounding on the total (`round_type` 3) the lines
keep 6 decimals and their sum, rounded, is the shop's total.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from koppel_contracts import round_cents

from .amounts import ZERO
from .records import CartRule, Detail, Order
from .webservice import MappingError


def _same(left: Decimal, right: Decimal) -> bool:
    return round_cents(left) == round_cents(right)


def _disagree(what: str, side: str, found: Decimal, field: str, stated: Decimal) -> MappingError:
    return MappingError(
        f"{what} add up to {round_cents(found)} {side} VAT but the order's {field} is"
        f" {round_cents(stated)}"
    )


def shop_arithmetic(order: Order, details: Sequence[Detail], rules: Sequence[CartRule]) -> None:
    lines_incl = sum((d.total_price_tax_incl for d in details), ZERO)
    lines_excl = sum((d.total_price_tax_excl for d in details), ZERO)
    if not _same(lines_incl, order.total_products_wt):
        raise _disagree(
            "the lines", "incl.", lines_incl, "total_products_wt", order.total_products_wt
        )
    if not _same(lines_excl, order.total_products):
        raise _disagree("the lines", "excl.", lines_excl, "total_products", order.total_products)
    rules_incl = sum((r.value for r in rules), ZERO)
    rules_excl = sum((r.value_tax_excl for r in rules), ZERO)
    if not _same(rules_incl, order.total_discounts_tax_incl):
        raise _disagree(
            "the cart rules",
            "incl.",
            rules_incl,
            "total_discounts_tax_incl",
            order.total_discounts_tax_incl,
        )
    if not _same(rules_excl, order.total_discounts_tax_excl):
        raise _disagree(
            "the cart rules",
            "excl.",
            rules_excl,
            "total_discounts_tax_excl",
            order.total_discounts_tax_excl,
        )
    parts_incl = (
        order.total_products_wt
        + order.total_shipping_tax_incl
        + order.total_wrapping_tax_incl
        - order.total_discounts_tax_incl
    )
    parts_excl = (
        order.total_products
        + order.total_shipping_tax_excl
        + order.total_wrapping_tax_excl
        - order.total_discounts_tax_excl
    )
    if not _same(parts_incl, order.total_paid_tax_incl):
        raise _disagree(
            "products + shipping + wrapping - discounts",
            "incl.",
            parts_incl,
            "total_paid_tax_incl",
            order.total_paid_tax_incl,
        )
    if not _same(parts_excl, order.total_paid_tax_excl):
        raise _disagree(
            "products + shipping + wrapping - discounts",
            "excl.",
            parts_excl,
            "total_paid_tax_excl",
            order.total_paid_tax_excl,
        )
