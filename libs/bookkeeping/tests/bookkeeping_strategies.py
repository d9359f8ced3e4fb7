"""Generated orders for the bookkeeping property tests (hypothesis), and what the rules say
about them, written out again independently of the package.

Orders mix the rates 0/9/21 (and 0/7/19 for OSS), odd quantities, sub-cent amounts
such as 0.005, order discounts with and without a rate, shipping and payment costs
with and without a rate, incl- and excl-VAT pricing, and stated totals a cent off the
sum of their parts (as the contract allows). Totals are built from the parts, so every
order is valid. Not a test module: conftest.py puts this folder on sys.path.
"""

from __future__ import annotations

import os
from collections import defaultdict
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, event, settings
from hypothesis import strategies as st
from koppel_bookkeeping import (
    AmountBasis,
    BookingLineKind,
    BookingPlan,
    BookingRefused,
    plan_booking,
)
from koppel_contracts import (
    BookingOptions,
    CanonicalOrder,
    Charge,
    ChargeVat,
    OrderDiscount,
    OrderLine,
    OrderTotals,
    VatTreatment,
    round_cents,
)
from koppel_testkit.factories import make_order

D = Decimal
CENT = D("0.01")
HALF_CENT = Fraction(1, 200)
ONE_CENT = Fraction(1, 100)

SCENARIOS = {
    # name: (country, rates, customer VAT number)
    "domestic": ("NL", (D(0), D(9), D(21)), None),
    "oss": ("DE", (D(0), D(7), D(19)), None),
    "icp": ("BE", (D(0),), "BE0123456789"),
    "export": ("US", (D(0),), None),
}

# KOPPEL_HYPOTHESIS_EXAMPLES=5000 for a long local run; the default keeps the suite fast.
EXAMPLES = int(os.environ.get("KOPPEL_HYPOTHESIS_EXAMPLES", "150"))
PROPERTY_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

cents = st.integers(min_value=1, max_value=50_000).map(lambda c: D(c).scaleb(-2))
edge_amounts = st.sampled_from(
    [D(v) for v in ("0.005", "0.01", "0.015", "0.025", "0.045", "0.125", "0.995", "1.005")]
)
prices = st.one_of(cents, edge_amounts, st.sampled_from([D("9.99"), D("24.95"), D("0.33")]))
quantities = st.one_of(
    st.integers(min_value=1, max_value=12).map(D),
    st.sampled_from([D("0.5"), D("1.5"), D("0.25"), D("2.5"), D("3"), D("100")]),
)


def _incl_from_excl(excl: D, rate: D) -> D:
    return round_cents(excl * (100 + rate) / 100)


def _excl_from_incl(incl: D, rate: D) -> D:
    return round_cents(incl * 100 / (100 + rate))


# Every property runs for both ways of booking shipping and payment costs.
MODES = pytest.mark.parametrize("mode", list(ChargeVat), ids=[m.value for m in ChargeVat])


def options(mapping: BookingOptions, mode: ChargeVat) -> BookingOptions:
    return mapping.model_copy(update={"charge_vat": mode})


@st.composite
def order_lines(draw, rate: D, incl_pricing: bool, whole_cents: bool = False) -> OrderLine:
    quantity = draw(quantities)
    price = draw(prices)
    # A shop stores one unit price and rounds the other, like real shops do.
    if incl_pricing:
        unit_incl, unit_excl = price, _excl_from_incl(price, rate)
    else:
        unit_excl, unit_incl = price, _incl_from_excl(price, rate)
    line_discount = draw(st.sampled_from([D(0), D(0), D(0), D("0.5"), D("0.1")]))
    # A line discount never exceeds its line, on either side of the amounts.
    if incl_pricing:
        discount_incl = round_cents(quantity * unit_incl * line_discount)
        discount_excl = min(_excl_from_incl(discount_incl, rate), quantity * unit_excl)
    else:
        discount_excl = round_cents(quantity * unit_excl * line_discount)
        discount_incl = min(_incl_from_excl(discount_excl, rate), quantity * unit_incl)
    total_incl = quantity * unit_incl - discount_incl
    total_excl = quantity * unit_excl - discount_excl
    if whole_cents or draw(st.booleans()):  # most shops round line totals; some don't
        total_incl, total_excl = round_cents(total_incl), round_cents(total_excl)
    if not incl_pricing and draw(st.booleans()):
        # A B2B shop computes the line's VAT from its excl total, not from unit prices
        # (kept only where the contract's per-line check still accepts it).
        from_excl = round_cents(total_excl * (100 + rate) / 100)
        if abs(from_excl - (quantity * unit_incl - discount_incl)) <= CENT * max(1, quantity):
            total_incl = from_excl
    return OrderLine(
        description="Artikel",
        quantity=quantity,
        unit_price_incl_vat=unit_incl,
        unit_price_excl_vat=unit_excl,
        vat_rate=rate,
        discount_incl_vat=discount_incl,
        discount_excl_vat=discount_excl,
        total_incl_vat=total_incl,
        total_excl_vat=total_excl,
    )


@st.composite
def order_discounts(
    draw, lines: list[OrderLine], incl_pricing: bool, rated: bool = False
) -> list[OrderDiscount]:
    goods_incl: dict[D, D] = defaultdict(D)
    goods_excl: dict[D, D] = defaultdict(D)
    for ln in lines:
        goods_incl[ln.vat_rate] += ln.total_incl_vat
        goods_excl[ln.vat_rate] += ln.total_excl_vat
    discounts = []
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        rated_rates = st.sampled_from(sorted(goods_incl))
        rate = draw(rated_rates if rated else st.one_of(st.none(), rated_rates))
        fraction = draw(st.sampled_from([D("0.05"), D("0.1"), D("0.15"), D("0.2")]))
        base_incl = goods_incl[rate] if rate is not None else sum(goods_incl.values())
        base_excl = goods_excl[rate] if rate is not None else sum(goods_excl.values())
        # The authoritative side is a fraction of the goods; the other side is derived.
        if incl_pricing:
            incl = (base_incl * fraction).quantize(CENT, rounding=ROUND_DOWN)
            excl = (
                _excl_from_incl(incl, rate)
                if rate is not None
                else (round_cents(incl * base_excl / base_incl) if base_incl else incl)
            )
        else:
            excl = (base_excl * fraction).quantize(CENT, rounding=ROUND_DOWN)
            incl = (
                _incl_from_excl(excl, rate)
                if rate is not None
                else (round_cents(excl * base_incl / base_excl) if base_excl else excl)
            )
        discounts.append(
            OrderDiscount(description="Korting", amount_incl_vat=incl, amount_excl_vat=excl,
                          vat_rate=rate)
        )  # fmt: skip
    return discounts


@st.composite
def charges(
    draw, description: str, incl_pricing: bool, rates: tuple[D, ...], rated: bool = False
) -> Charge | None:
    if draw(st.booleans()):
        return None
    amounts = [cents, st.just(D("4.95"))] + ([] if rated else [edge_amounts])
    amount = draw(st.one_of(*amounts))
    # The shop's rate for the charge: one of the rates of the destination, whatever the
    # goods have (the shop may put 21% on shipping for 9% goods, or 0%).
    shop_rate = draw(st.sampled_from(rates))
    if incl_pricing:
        incl, excl = amount, _excl_from_incl(amount, shop_rate)
    else:
        excl, incl = amount, _incl_from_excl(amount, shop_rate)
    rate = shop_rate if rated else draw(st.sampled_from([None, shop_rate]))
    return Charge(description=description, amount_incl_vat=incl, amount_excl_vat=excl,
                  vat_rate=rate)  # fmt: skip


@st.composite
def orders(draw, max_lines: int = 12, rated: bool = False) -> CanonicalOrder:
    """rated: every discount and charge has a rate and every amount is whole cents, so
    the VAT the shop charged per rate is determined by the order alone."""
    scenario = draw(st.sampled_from(sorted(SCENARIOS)))
    country, rates, vat_number = SCENARIOS[scenario]
    incl_pricing = draw(st.booleans())
    count = draw(st.integers(min_value=1, max_value=max_lines))
    line_rates = [draw(st.sampled_from(rates)) for _ in range(count)]
    if scenario == "oss" and not any(line_rates):
        # 0% on every line to another member state is the ICP refusal, tested elsewhere.
        line_rates[0] = rates[-1]
    lines = [draw(order_lines(rate, incl_pricing, whole_cents=rated)) for rate in line_rates]
    discounts = draw(order_discounts(lines, incl_pricing, rated=rated))
    order = make_order(
        country=country,
        vat_number=vat_number,
        lines=lines,
        discounts=discounts,
        shipping=draw(charges("Verzending", incl_pricing, rates, rated)),
        payment_costs=draw(charges("Betaalkosten", incl_pricing, rates, rated)),
        prices_include_vat=incl_pricing,
    )
    # Shops round their own total; the contract allows a cent per amount of difference.
    off = draw(st.sampled_from([D(0), D(0), D(0), D("0.01"), D("-0.01")]))
    if off and order.totals.total_incl_vat >= 1:  # a cent off a 0.005 order is no total
        incl = order.totals.total_incl_vat + off
        totals = OrderTotals(
            total_incl_vat=incl,
            total_excl_vat=order.totals.total_excl_vat,
            total_vat=incl - order.totals.total_excl_vat,
        )
        order = CanonicalOrder.model_validate({**order.model_dump(), "totals": totals})
    event(f"scenario={scenario}")
    return order


def plan_of(order: CanonicalOrder, mapping: BookingOptions) -> BookingPlan:
    """Plan, accepting only the refusals a generated order can legitimately get."""
    try:
        plan = plan_booking(order, mapping)
    except BookingRefused as refused:
        # Per-unit rounding can make a tiny line's goods smaller than its discount on
        # one side of the amounts; everything else must book.
        assert refused.reason_code in {"empty_order", "discount_exceeds_goods"}, refused
        event(f"refused={refused.reason_code}")
        assume(False)
        raise
    event(f"basis={plan.amount_basis}")
    if not order.prices_include_vat:
        event(f"excl-priced order booked on basis={plan.amount_basis}")
    if plan.rounding_difference:
        event(f"rounding difference on basis={plan.amount_basis}")
    if plan.notices:
        event("notice")
    return plan


def exact_vat(rate: D, amount: Fraction, basis: AmountBasis) -> Fraction:
    """The VAT exactly contained in (incl) or due on (excl) an amount at a rate."""
    r = Fraction(rate)
    return amount * r / (100 + r) if basis is AmountBasis.INCL_VAT else amount * r / 100


def basis_amount(item, basis: AmountBasis) -> Fraction:
    """A line's or rate total's amount on the plan's basis, as a Fraction."""
    value = item.amount_incl_vat if basis is AmountBasis.INCL_VAT else item.amount_excl_vat
    return Fraction(value)


def before_difference(rt, basis: AmountBasis) -> Fraction:
    """The rate's amount before the stated total's difference was put on its revenue."""
    return basis_amount(rt, basis) - Fraction(rt.rounding_difference)


def canonical(rate: D) -> D:
    return rate.normalize() if rate != rate.to_integral_value() else rate.quantize(D(1))


def spec_buckets(order: CanonicalOrder, plan: BookingPlan, mode: ChargeVat):
    """The rules, written out again from vat-nl-eu.md §6/§7 and the README, exactly:
    (exact amount per (kind, rate) on the plan's basis, §6 weights per goods rate)."""
    side = "incl" if plan.amount_basis is AmountBasis.INCL_VAT else "excl"
    zero = plan.treatment in (VatTreatment.ICP, VatTreatment.EXPORT)

    def rate_of(rate: D) -> D:
        return D(0) if zero else canonical(rate)

    buckets: dict[tuple[BookingLineKind, D], Fraction] = defaultdict(Fraction)
    goods: dict[D, Fraction] = defaultdict(Fraction)
    for ln in order.lines:
        goods[rate_of(ln.vat_rate)] += Fraction(getattr(ln, f"total_{side}_vat"))
    for rate, amount in goods.items():
        buckets[(BookingLineKind.GOODS, rate)] += amount
    gross = sum(goods.values(), Fraction(0))
    reduced: dict[D, Fraction] = defaultdict(Fraction)
    for d in order.discounts:
        amount = Fraction(getattr(d, f"amount_{side}_vat"))
        if not amount:
            continue
        shares = (
            {rate_of(d.vat_rate): amount}
            if d.vat_rate is not None and not zero
            else {rate: amount * g / gross for rate, g in goods.items()}
        )
        for rate, share in shares.items():
            reduced[rate] += share
            buckets[(BookingLineKind.DISCOUNT, rate)] -= share
    weights = {rate: goods[rate] - reduced[rate] for rate in goods}
    if not sum(weights.values()):
        weights = dict(goods)
    if not sum(weights.values()):
        weights = {rate: Fraction(rate == max(goods)) for rate in goods}
    total_weight = sum(weights.values(), Fraction(0))
    for kind, c in ((BookingLineKind.SHIPPING, order.shipping),
                    (BookingLineKind.PAYMENT_COSTS, order.payment_costs)):  # fmt: skip
        if c is None:
            continue
        amount = Fraction(getattr(c, f"amount_{side}_vat"))
        if mode is ChargeVat.AS_CHARGED and c.vat_rate is not None and not zero:
            buckets[(kind, rate_of(c.vat_rate))] += amount
        else:
            for rate, w in weights.items():
                buckets[(kind, rate)] += amount * w / total_weight
    return buckets, weights
