"""Properties of plan_booking over generated orders (hypothesis), for both ways of booking
shipping and payment costs (as charged, re-split). The orders: bookkeeping_strategies.py."""

from __future__ import annotations

from decimal import ROUND_DOWN, Context, Decimal, localcontext
from fractions import Fraction

import pytest
from bookkeeping_strategies import (
    EXAMPLES,
    HALF_CENT,
    MODES,
    ONE_CENT,
    PROPERTY_SETTINGS,
    basis_amount,
    before_difference,
    exact_vat,
    options,
    orders,
    plan_of,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from koppel_bookkeeping import AmountBasis, BookingLineKind, plan_booking
from koppel_bookkeeping.allocation import apportion
from koppel_contracts import CanonicalOrder, ChargeVat, VatTreatment, round_cents

D = Decimal


@MODES
@PROPERTY_SETTINGS
@given(order=orders())
def test_booked_total_is_the_order_total_to_the_cent(order, mapping, mode):
    plan = plan_of(order, options(mapping, mode))
    assert plan.total_incl_vat == round_cents(order.totals.total_incl_vat)
    assert plan.total_incl_vat.as_tuple().exponent == -2
    # The whole cents of the difference between the stated total and its parts are on
    # the rates' revenue, and nowhere else.
    parts_in_cents = round_cents(plan.total_incl_vat - plan.rounding_difference)
    on_rates = sum(rt.rounding_difference for rt in plan.rate_totals)
    assert on_rates == plan.total_incl_vat - parts_in_cents


@MODES
@PROPERTY_SETTINGS
@given(order=orders())
def test_lines_add_up_to_the_plan_totals(order, mapping, mode):
    plan = plan_of(order, options(mapping, mode))
    assert sum(ln.vat_amount for ln in plan.lines) == plan.total_vat
    assert sum(ln.amount_excl_vat for ln in plan.lines) == plan.total_excl_vat
    assert sum(ln.amount_incl_vat for ln in plan.lines) == plan.total_incl_vat
    assert plan.total_excl_vat + plan.total_vat == plan.total_incl_vat
    assert sum(rt.vat_amount for rt in plan.rate_totals) == plan.total_vat
    assert plan.vat_difference == order.totals.total_vat - plan.total_vat
    for ln in plan.lines:
        assert ln.amount_excl_vat + ln.vat_amount == ln.amount_incl_vat
        for amount in (ln.amount_excl_vat, ln.vat_amount, ln.amount_incl_vat):
            assert amount.as_tuple().exponent == -2  # whole cents, nothing finer
        assert ln.amount_excl_vat or ln.vat_amount  # never a zero line


@MODES
@PROPERTY_SETTINGS
@given(order=orders())
def test_vat_is_within_half_a_cent_per_rate_and_a_cent_per_line(order, mapping, mode):
    """A rate's VAT is the rounded exact VAT of its total before the stated total's
    difference (half a cent); on the excl basis plus the shop's own rounding, a cent per
    line of the rate. Its lines share it by largest remainder: each is under a cent from
    its own exact VAT (plus that cent, plus the VAT of revenue cents it took)."""
    plan = plan_of(order, options(mapping, mode))
    excl_basis = plan.amount_basis is AmountBasis.EXCL_VAT
    for rt in plan.rate_totals:
        lines_of_rate = [ln for ln in plan.lines if ln.vat_rate == rt.vat_rate]
        exact = exact_vat(rt.vat_rate, before_difference(rt, plan.amount_basis), plan.amount_basis)
        shop_rounding = ONE_CENT * len(lines_of_rate) if excl_basis else 0
        assert abs(Fraction(rt.vat_amount) - exact) <= HALF_CENT + shop_rounding
        per_line_bound = ONE_CENT + (ONE_CENT if excl_basis else 0)
        per_line_bound += abs(Fraction(rt.rounding_difference))
        for ln in lines_of_rate:
            exact = exact_vat(ln.vat_rate, basis_amount(ln, plan.amount_basis), plan.amount_basis)
            assert abs(Fraction(ln.vat_amount) - exact) < per_line_bound
            if ln.vat_rate == 0:
                assert ln.vat_amount == 0


@MODES
@PROPERTY_SETTINGS
@given(order=orders())
def test_allocation_never_turns_positive_into_negative(order, mapping, mode):
    plan = plan_of(order, options(mapping, mode))
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


@MODES
@PROPERTY_SETTINGS
@given(order=orders())
def test_costs_follow_the_goods_unless_booked_at_the_rate_the_shop_charged(order, mapping, mode):
    plan = plan_of(order, options(mapping, mode))
    # The order's goods rates: a goods line of a fraction of a cent is not booked, but its
    # rate still takes its share of the costs.
    zero_rated = plan.treatment in (VatTreatment.ICP, VatTreatment.EXPORT)
    goods_rates = {D(0) if zero_rated else ln.vat_rate for ln in order.lines}
    charged = {
        BookingLineKind.SHIPPING: order.shipping,
        BookingLineKind.PAYMENT_COSTS: order.payment_costs,
    }
    for ln in plan.lines:
        if ln.kind not in charged:
            continue
        c = charged[ln.kind]
        if mode is ChargeVat.AS_CHARGED and c.vat_rate is not None and plan.vat_note is None:
            assert ln.vat_rate == c.vat_rate  # domestic: booked as charged
        elif mode is ChargeVat.RESPLIT or c.vat_rate is None:
            assert ln.vat_rate in goods_rates
    if plan.treatment in (VatTreatment.ICP, VatTreatment.EXPORT):
        assert {ln.vat_rate for ln in plan.lines} == {D(0)}


@MODES
@settings(
    max_examples=max(60, EXAMPLES // 3),
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much],
)
@given(order=orders())
def test_result_is_deterministic_whatever_the_decimal_context(order, mapping, mode):
    booking = options(mapping, mode)
    plan = plan_of(order, booking)
    assert plan_booking(order, booking) == plan
    # The same order read back from the topic, planned under a hostile decimal context.
    reread = CanonicalOrder.model_validate_json(order.model_dump_json())
    with localcontext(Context(prec=4, rounding=ROUND_DOWN)):
        assert plan_booking(reread, booking) == plan


@MODES
@settings(
    max_examples=max(15, EXAMPLES // 10),
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much],
)
@given(order=orders(max_lines=120))
def test_many_lines(order, mapping, mode):
    plan = plan_of(order, options(mapping, mode))
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
