"""How the sandbox computes an order's totals and VAT.

CCV does not document the formula (ccvshop.md §4 marks it UNCONFIRMED). The
sandbox uses the reading that fits the real November 2022 sample:
- a row's `total_price` is `count x (price - discount)`, in the order's price
  basis (incl. VAT when `order_row_taxes_included`, else excl.);
- `total_price` is what the customer pays: rows - coupon - credit points
  + shipping + payment costs + extra costs (+ VAT on top for an ex-VAT order);
- shipping (and positive extra costs) carry `shipping_tax_percentage`;
  discounts, credit points, negative extra costs and payment costs are spread
  over the goods' VAT rates in proportion to the rows' totals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from koppel_sandbox_kit import round_cents as cents

ZERO = Decimal(0)


def allocate(amount: Decimal, weights: Mapping[Decimal, Decimal]) -> dict[Decimal, Decimal]:
    """Split `amount` over the keys in proportion to `weights`, to the cent, summing exactly."""
    total = sum(weights.values(), ZERO)
    if not weights or total == 0:
        return {}
    shares = {key: cents(amount * weight / total) for key, weight in weights.items()}
    # Rounding leftovers go to the largest weight, so the parts add up to the amount.
    largest = max(weights, key=lambda key: weights[key])
    shares[largest] += amount - sum(shares.values(), ZERO)
    return shares


def vat_in(amount: Decimal, rate: Decimal, includes_vat: bool) -> Decimal:
    """The VAT contained in (or due on top of) `amount` at `rate` percent, to the cent."""
    if includes_vat:
        return cents(amount * rate / (100 + rate))
    return cents(amount * rate / 100)


@dataclass(frozen=True)
class OrderTotals:
    total_orderrow_price: Decimal
    total_discounts: Decimal
    total_tax: Decimal
    total_price: Decimal


def order_totals(
    *,
    rows: list[tuple[Decimal, Decimal]],
    includes_vat: bool,
    coupon_discount: Decimal,
    credit_point_discount: Decimal,
    shipping: Decimal,
    shipping_rate: Decimal,
    payment_costs: Decimal,
    extra_costs: Decimal,
) -> OrderTotals:
    """`rows` are (row total, VAT rate) pairs in the order's price basis."""
    goods: dict[Decimal, Decimal] = {}
    for total, rate in rows:
        goods[rate] = goods.get(rate, ZERO) + total
    rows_total = sum(goods.values(), ZERO)
    reductions = [coupon_discount, credit_point_discount, max(ZERO, -extra_costs)]
    base = dict(goods)
    for reduction in reductions:
        for rate, share in allocate(reduction, goods).items():
            base[rate] -= share
    for rate, share in allocate(payment_costs, goods).items():
        base[rate] += share
    taxed_at_shipping_rate = shipping + max(ZERO, extra_costs)
    tax = sum((vat_in(amount, rate, includes_vat) for rate, amount in base.items()), ZERO)
    tax += vat_in(taxed_at_shipping_rate, shipping_rate, includes_vat)
    price = rows_total - sum(reductions, ZERO) + payment_costs + taxed_at_shipping_rate
    if not includes_vat:
        price += tax
    return OrderTotals(
        total_orderrow_price=rows_total,
        total_discounts=coupon_discount,
        total_tax=tax,
        total_price=price,
    )
