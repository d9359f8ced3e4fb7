"""Properties of plan_booking over generated orders (hypothesis).

Orders mix the rates 0/9/21 (and 0/7/19 for OSS), odd quantities, sub-cent amounts
such as 0.005, order discounts with and without a rate, shipping and payment costs,
incl- and excl-VAT pricing, and stated totals a cent off the sum of their parts
(as the contract allows). Totals are built from the parts, so every order is valid.
"""

from __future__ import annotations

import os
from collections import defaultdict
from decimal import ROUND_DOWN, Context, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from koppel_bookkeeping import (
    AmountBasis,
    BookingLineKind,
    BookingPlan,
    BookingRefused,
    plan_booking,
)
from koppel_bookkeeping.allocation import apportion
from koppel_contracts import (
    BookingOptions,
    CanonicalOrder,
    Charge,
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


@st.composite
def order_lines(draw, rate: D, incl_pricing: bool) -> OrderLine:
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
    if draw(st.booleans()):  # most shops round line totals; some send them exact
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
def order_discounts(draw, lines: list[OrderLine], incl_pricing: bool) -> list[OrderDiscount]:
    goods_incl: dict[D, D] = defaultdict(D)
    goods_excl: dict[D, D] = defaultdict(D)
    for ln in lines:
        goods_incl[ln.vat_rate] += ln.total_incl_vat
        goods_excl[ln.vat_rate] += ln.total_excl_vat
    discounts = []
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        rate = draw(st.one_of(st.none(), st.sampled_from(sorted(goods_incl))))
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
def charges(draw, description: str, incl_pricing: bool) -> Charge | None:
    if draw(st.booleans()):
        return None
    amount = draw(st.one_of(cents, edge_amounts, st.just(D("4.95"))))
    shop_rate = draw(st.sampled_from([D(21), D(9), D(0)]))
    if incl_pricing:
        incl, excl = amount, _excl_from_incl(amount, shop_rate)
    else:
        excl, incl = amount, _incl_from_excl(amount, shop_rate)
    rate = draw(st.sampled_from([None, shop_rate]))
    return Charge(description=description, amount_incl_vat=incl, amount_excl_vat=excl,
                  vat_rate=rate)  # fmt: skip


@st.composite
def orders(draw, max_lines: int = 12) -> CanonicalOrder:
    scenario = draw(st.sampled_from(sorted(SCENARIOS)))
    country, rates, vat_number = SCENARIOS[scenario]
    incl_pricing = draw(st.booleans())
    count = draw(st.integers(min_value=1, max_value=max_lines))
    line_rates = [draw(st.sampled_from(rates)) for _ in range(count)]
    if scenario == "oss" and not any(line_rates):
        # 0% on every line to another member state is the ICP refusal, tested elsewhere.
        line_rates[0] = rates[-1]
    lines = [draw(order_lines(rate, incl_pricing)) for rate in line_rates]
    discounts = draw(order_discounts(lines, incl_pricing))
    order = make_order(
        country=country,
        vat_number=vat_number,
        lines=lines,
        discounts=discounts,
        shipping=draw(charges("Verzending", incl_pricing)),
        payment_costs=draw(charges("Betaalkosten", incl_pricing)),
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


def _plan(order: CanonicalOrder, mapping: BookingOptions) -> BookingPlan:
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
    return plan


def _exact_vat(rate: D, excl: D, incl: D, basis: AmountBasis) -> Fraction:
    """The VAT exactly due on the authoritative amount of a line or rate."""
    r = Fraction(rate)
    if basis is AmountBasis.INCL_VAT:
        return Fraction(incl) * r / (100 + r)
    return Fraction(excl) * r / 100


@PROPERTY_SETTINGS
@given(order=orders())
def test_booked_total_is_the_order_total_to_the_cent(order, mapping):
    plan = _plan(order, mapping)
    assert plan.total_incl_vat == round_cents(order.totals.total_incl_vat)
    assert plan.total_incl_vat.as_tuple().exponent == -2


@PROPERTY_SETTINGS
@given(order=orders())
def test_lines_add_up_to_the_plan_totals(order, mapping):
    plan = _plan(order, mapping)
    assert sum(ln.vat_amount for ln in plan.lines) == plan.total_vat
    assert sum(ln.amount_excl_vat for ln in plan.lines) == plan.total_excl_vat
    assert sum(ln.amount_incl_vat for ln in plan.lines) == plan.total_incl_vat
    assert plan.total_excl_vat + plan.total_vat == plan.total_incl_vat
    assert sum(rt.vat_amount for rt in plan.rate_totals) == plan.total_vat
    for ln in plan.lines:
        assert ln.amount_excl_vat + ln.vat_amount == ln.amount_incl_vat
        for amount in (ln.amount_excl_vat, ln.vat_amount, ln.amount_incl_vat):
            assert amount.as_tuple().exponent == -2  # whole cents, nothing finer
        assert ln.amount_excl_vat or ln.vat_amount  # never a zero line


@PROPERTY_SETTINGS
@given(order=orders())
def test_vat_is_within_half_a_cent_per_rate_and_a_cent_per_line(order, mapping):
    """The rate's VAT is the rounded exact VAT of its total (half a cent); its lines share
    it by largest remainder, so each line is under a cent from its own exact VAT. On the
    excl basis, the shop's own rounding difference is added as VAT, a cent per line."""
    plan = _plan(order, mapping)
    adjusted = (
        abs(Fraction(plan.rounding_difference)) if plan.amount_basis is AmountBasis.EXCL_VAT else 0
    )
    for rt in plan.rate_totals:
        exact = _exact_vat(rt.vat_rate, rt.amount_excl_vat, rt.amount_incl_vat, plan.amount_basis)
        assert abs(Fraction(rt.vat_amount) - exact) <= HALF_CENT + adjusted
    per_line_bound = ONE_CENT + (ONE_CENT if adjusted else 0)
    for ln in plan.lines:
        exact = _exact_vat(ln.vat_rate, ln.amount_excl_vat, ln.amount_incl_vat, plan.amount_basis)
        assert abs(Fraction(ln.vat_amount) - exact) < per_line_bound
        if ln.vat_rate == 0:
            assert ln.vat_amount == 0
    if plan.amount_basis is AmountBasis.EXCL_VAT:
        # Exactly the recorded difference was booked as VAT, and nothing else.
        recomputed = sum(
            round_cents(rt.amount_excl_vat * rt.vat_rate / 100) for rt in plan.rate_totals
        )
        assert plan.total_vat - recomputed == plan.rounding_difference


@PROPERTY_SETTINGS
@given(order=orders())
def test_allocation_never_turns_positive_into_negative(order, mapping):
    plan = _plan(order, mapping)
    sign_of = {
        BookingLineKind.GOODS: 1,
        BookingLineKind.DISCOUNT: -1,
        BookingLineKind.SHIPPING: 1,
        BookingLineKind.PAYMENT_COSTS: 1,
    }
    for ln in plan.lines:
        sign = sign_of[ln.kind]
        for amount in (ln.amount_excl_vat, ln.vat_amount, ln.amount_incl_vat):
            assert amount * sign >= 0, ln


@PROPERTY_SETTINGS
@given(order=orders())
def test_costs_follow_the_goods_rates(order, mapping):
    plan = _plan(order, mapping)
    goods_rates = {ln.vat_rate for ln in plan.lines if ln.kind is BookingLineKind.GOODS}
    for ln in plan.lines:
        if ln.kind in (BookingLineKind.SHIPPING, BookingLineKind.PAYMENT_COSTS):
            assert ln.vat_rate in goods_rates or not goods_rates
    if plan.treatment in (VatTreatment.ICP, VatTreatment.EXPORT):
        assert {ln.vat_rate for ln in plan.lines} == {D(0)}


@settings(
    max_examples=max(60, EXAMPLES // 3),
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much],
)
@given(order=orders())
def test_result_is_deterministic_whatever_the_decimal_context(order, mapping):
    plan = _plan(order, mapping)
    assert plan_booking(order, mapping) == plan
    # The same order read back from the topic, planned under a hostile decimal context.
    reread = CanonicalOrder.model_validate_json(order.model_dump_json())
    with localcontext(Context(prec=4, rounding=ROUND_DOWN)):
        assert plan_booking(reread, mapping) == plan


@settings(
    max_examples=max(15, EXAMPLES // 10),
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much],
)
@given(order=orders(max_lines=120))
def test_many_lines(order, mapping):
    plan = _plan(order, mapping)
    assert plan.total_incl_vat == round_cents(order.totals.total_incl_vat)
    assert sum(ln.vat_amount for ln in plan.lines) == plan.total_vat


fractions = st.fractions(min_value=0, max_value=10_000, max_denominator=10_000)


@settings(max_examples=300, deadline=None)
@given(st.lists(fractions, min_size=1, max_size=12), st.sampled_from(["floor", "round", "ceil"]))
def test_apportion_keeps_every_part_within_a_unit_and_the_sum_exact(values, how):
    import math

    total_exact = sum(values, Fraction(0))
    total = {
        "floor": math.floor(total_exact),
        "ceil": math.ceil(total_exact),
        "round": math.floor(total_exact + Fraction(1, 2)),
    }[how]
    assume(sum(math.floor(v) for v in values) <= total <= sum(math.ceil(v) for v in values))
    parts = apportion(values, total)
    assert sum(parts) == total
    for part, value in zip(parts, values, strict=True):
        assert part in (math.floor(value), math.ceil(value))
        assert part >= 0
    assert apportion(values, total) == parts


def test_apportion_refuses_an_impossible_total():
    with pytest.raises(ValueError):
        apportion([Fraction(1, 2), Fraction(1, 2)], 3)
