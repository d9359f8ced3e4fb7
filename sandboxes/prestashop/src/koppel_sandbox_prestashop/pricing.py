"""How the sandbox shop computes an order's amounts, the way PrestaShop's cart
calculator does (prestashop.md §7, §8; classes `Cart`, `OrderDetail`, `OrderSlip`):

- catalogue prices are stored **excl. VAT with 6 decimals**; a line's unit price
  incl. VAT is `unit_excl × (1 + rate)` kept at 6 decimals (the real 1.7 sample
  has `unit_price_tax_incl` 9.999999 for 8.264462 at 21 %);
- the shop's rounding type (`PS_ROUND_TYPE`, stored on the order as `round_type`)
  decides where amounts are rounded to the currency's 2 decimals:
  1 = per item (unit prices rounded, then × quantity — the install default),
  2 = per line (unit × quantity, then rounded),
  3 = on the total (lines kept at 6 decimals, the sums rounded once);
- incl. and excl. amounts are rounded independently, so a line's VAT is
  `total_incl − total_excl`;
- rounding is half up (`round_mode` 2, PS_ROUND_HALF_UP).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
CENT = Decimal("0.01")
MICRO = Decimal("0.000001")
ROUND_ITEM, ROUND_LINE, ROUND_TOTAL = 1, 2, 3
ROUND_TYPES = (ROUND_ITEM, ROUND_LINE, ROUND_TOTAL)
ROUND_HALF_UP_MODE = 2


def q2(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def q6(amount: Decimal) -> Decimal:
    return amount.quantize(MICRO, rounding=ROUND_HALF_UP)


def with_tax(amount: Decimal, rate: Decimal) -> Decimal:
    return amount * (100 + rate) / 100


def excl_from_incl(amount: Decimal, rate: Decimal) -> Decimal:
    """How the back office stores a price typed in incl. VAT: excl., 6 decimals."""
    return q6(amount * 100 / (100 + rate))


@dataclass(frozen=True)
class LineAmounts:
    unit_tax_excl: Decimal  # 6 decimals
    unit_tax_incl: Decimal  # 6 decimals
    total_tax_excl: Decimal  # 2 decimals, or 6 when rounding on the total
    total_tax_incl: Decimal

    @property
    def vat(self) -> Decimal:
        return self.total_tax_incl - self.total_tax_excl


def line_amounts(
    unit_tax_excl: Decimal, rate: Decimal, quantity: int, round_type: int
) -> LineAmounts:
    unit_excl = q6(unit_tax_excl)
    unit_incl_exact = with_tax(unit_excl, rate)
    if round_type == ROUND_ITEM:
        total_excl = q2(unit_excl) * quantity
        total_incl = q2(unit_incl_exact) * quantity
    elif round_type == ROUND_LINE:
        total_excl = q2(unit_excl * quantity)
        total_incl = q2(unit_incl_exact * quantity)
    elif round_type == ROUND_TOTAL:
        total_excl = q6(unit_excl * quantity)
        total_incl = q6(unit_incl_exact * quantity)
    else:
        raise ValueError(f"round_type must be one of {ROUND_TYPES}, got {round_type}")
    return LineAmounts(unit_excl, q6(unit_incl_exact), total_excl, total_incl)


@dataclass(frozen=True)
class Charge:
    """Shipping or gift wrapping: configured excl. VAT, taxed at its own rate."""

    tax_excl: Decimal
    tax_incl: Decimal
    rate: Decimal


def charge(price: Decimal, rate: Decimal, *, includes_tax: bool) -> Charge:
    excl = excl_from_incl(price, rate) if includes_tax else price
    return Charge(q2(excl), q2(with_tax(excl, rate)), rate)


@dataclass(frozen=True)
class Discount:
    """A cart rule as the order records it: `value` incl. VAT, `value_tax_excl`."""

    value: Decimal
    value_tax_excl: Decimal


def cart_rule_value(
    *,
    products_excl: Decimal,
    products_incl: Decimal,
    shipping: Charge,
    percent: Decimal | None = None,
    amount: Decimal | None = None,
    tax_included: bool = True,
    free_shipping: bool = False,
) -> Discount:
    """A percentage applies to the products (excl. and incl. each rounded); an
    amount is converted with the products' average VAT rate and capped at the
    products' total; free shipping adds the shipping to the discount."""
    incl = excl = ZERO
    if percent is not None:
        excl = q2(products_excl * percent / 100)
        incl = q2(products_incl * percent / 100)
    elif amount is not None and products_excl > 0:
        if tax_included:
            incl = min(amount, products_incl)
            excl = q2(incl * products_excl / products_incl)
        else:
            excl = min(amount, products_excl)
            incl = q2(excl * products_incl / products_excl)
    if free_shipping:
        incl += shipping.tax_incl
        excl += shipping.tax_excl
    return Discount(incl, excl)


@dataclass(frozen=True)
class OrderTotals:
    products_excl: Decimal
    products_incl: Decimal
    discounts_excl: Decimal
    discounts_incl: Decimal
    shipping: Charge
    wrapping: Charge
    paid_excl: Decimal
    paid_incl: Decimal


def order_totals(
    lines: Iterable[LineAmounts], discounts: Iterable[Discount], shipping: Charge, wrapping: Charge
) -> OrderTotals:
    """The order's totals; `total_paid = products + shipping + wrapping − discounts`
    holds exactly, both incl. and excl. VAT (prestashop.md §7)."""
    rows = list(lines)
    products_excl = q2(sum((row.total_tax_excl for row in rows), ZERO))
    products_incl = q2(sum((row.total_tax_incl for row in rows), ZERO))
    gross_excl = products_excl + shipping.tax_excl + wrapping.tax_excl
    gross_incl = products_incl + shipping.tax_incl + wrapping.tax_incl
    reductions = list(discounts)
    discounts_excl = min(sum((r.value_tax_excl for r in reductions), ZERO), gross_excl)
    discounts_incl = min(sum((r.value for r in reductions), ZERO), gross_incl)
    return OrderTotals(
        products_excl=products_excl,
        products_incl=products_incl,
        discounts_excl=discounts_excl,
        discounts_incl=discounts_incl,
        shipping=shipping,
        wrapping=wrapping,
        paid_excl=gross_excl - discounts_excl,
        paid_incl=gross_incl - discounts_incl,
    )


@dataclass(frozen=True)
class SlipAmounts:
    products_excl: Decimal
    products_incl: Decimal


def slip_products(refunds: Iterable[tuple[Decimal, Decimal, int]], round_type: int) -> SlipAmounts:
    """Products part of a credit slip from (unit excl., rate, quantity), as
    `OrderSlip::create` adds taxes per rounding type."""
    items = list(refunds)
    excl = q2(sum((unit * qty for unit, _, qty in items), ZERO))
    if round_type == ROUND_ITEM:
        incl = sum((q2(with_tax(unit, rate)) * qty for unit, rate, qty in items), ZERO)
    elif round_type == ROUND_LINE:
        incl = sum((q2(with_tax(unit, rate) * qty) for unit, rate, qty in items), ZERO)
    else:
        per_rate: dict[Decimal, Decimal] = {}
        for unit, rate, qty in items:
            per_rate[rate] = per_rate.get(rate, ZERO) + unit * qty
        incl = sum((q2(with_tax(total, rate)) for rate, total in per_rate.items()), ZERO)
    return SlipAmounts(excl, q2(incl))
