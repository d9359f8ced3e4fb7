"""Properties of the rules for shipping and payment costs (hypothesis): VAT per rate as the
shop charged it, every line within a cent of its exact amount, notices exactly where §6 is
contradicted. Expected values come from the rules written out again (spec_buckets)."""

from __future__ import annotations

import math
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

from bookkeeping_strategies import (
    MODES,
    ONE_CENT,
    PROPERTY_SETTINGS,
    basis_amount,
    before_difference,
    canonical,
    options,
    orders,
    plan_of,
    spec_buckets,
)
from hypothesis import given
from koppel_bookkeeping import AmountBasis, BookingLineKind, NoticeCode
from koppel_contracts import ChargeVat, VatTreatment, round_cents

D = Decimal


@MODES
@PROPERTY_SETTINGS
@given(order=orders())
def test_every_line_is_within_a_cent_of_its_exact_amount(order, mapping, mode):
    """Against the rules written out again (goods per rate, discounts per rate or in
    proportion, charges as charged or following the goods): each booked line within a
    cent of its exact amount, plus the revenue cents of the stated total on its rate."""
    plan = plan_of(order, options(mapping, mode))
    buckets, _ = spec_buckets(order, plan, mode)
    slack = {rt.vat_rate: abs(Fraction(rt.rounding_difference)) for rt in plan.rate_totals}
    booked = {(ln.kind, ln.vat_rate): ln for ln in plan.lines}
    assert set(booked) <= set(buckets)
    for key, exact in buckets.items():
        amount = basis_amount(booked[key], plan.amount_basis) if key in booked else 0
        assert abs(amount - exact) < ONE_CENT + slack.get(key[1], 0), key


@PROPERTY_SETTINGS
@given(order=orders(rated=True))
def test_vat_per_rate_booked_is_the_vat_per_rate_the_shop_charged(order, mapping):
    """Every discount and charge rated, every amount whole cents: the shop's amounts per
    rate are the order's own. Booked as charged, a rate's VAT is exactly what they carry:
    on the incl basis what their total contains (§7: total - round_half_up(total x
    100/(100+r))), on the excl basis the VAT the shop put on them (sum of incl - excl)."""
    plan = plan_of(order, mapping)  # as charged: the default
    if plan.treatment in (VatTreatment.ICP, VatTreatment.EXPORT):
        assert plan.total_vat == 0
        return
    incl_basis = plan.amount_basis is AmountBasis.INCL_VAT
    side = "incl" if incl_basis else "excl"
    amount: dict[D, Fraction] = defaultdict(Fraction)
    shop_vat: dict[D, Fraction] = defaultdict(Fraction)
    parts = [(ln.vat_rate, ln.total_incl_vat, ln.total_excl_vat, 1) for ln in order.lines]
    parts += [(d.vat_rate, d.amount_incl_vat, d.amount_excl_vat, -1) for d in order.discounts]
    parts += [(c.vat_rate, c.amount_incl_vat, c.amount_excl_vat, 1) for c in order.charges]
    for rate, incl, excl, sign in parts:
        amount[canonical(rate)] += sign * Fraction(incl if side == "incl" else excl)
        shop_vat[canonical(rate)] += sign * (Fraction(incl) - Fraction(excl))
    booked = {rt.vat_rate: rt for rt in plan.rate_totals}
    for rate, total in amount.items():
        cents = total * 100
        assert cents.denominator == 1  # whole cents: nothing for a rounding rule to decide
        if incl_basis:
            r = Fraction(rate)
            expected = cents - math.floor(cents * 100 / (100 + r) + Fraction(1, 2))
        else:
            expected = math.floor(shop_vat[rate] * 100 + Fraction(1, 2))
        if rate not in booked:
            assert cents == 0 and expected == 0
            continue
        assert booked[rate].vat_amount * 100 == expected, rate
        assert before_difference(booked[rate], plan.amount_basis) == total


@MODES
@PROPERTY_SETTINGS
@given(order=orders())
def test_notices_appear_exactly_where_section_6_is_contradicted(order, mapping, mode):
    """A notice for each charge booked at its own rate where §6 would split it otherwise:
    a rate none of the goods with a share of the costs has, or one rate while several
    goods rates have a share. Never when re-splitting."""
    plan = plan_of(order, options(mapping, mode))
    _, weights = spec_buckets(order, plan, mode)
    section_6_rates = {rate for rate, w in weights.items() if w > 0}
    expected = []
    zero_rated = plan.treatment in (VatTreatment.ICP, VatTreatment.EXPORT)
    for kind, c in ((BookingLineKind.SHIPPING, order.shipping),
                    (BookingLineKind.PAYMENT_COSTS, order.payment_costs)):  # fmt: skip
        if c is None or c.vat_rate is None or mode is ChargeVat.RESPLIT or zero_rated:
            continue
        if c.amount_incl_vat == 0 and c.amount_excl_vat == 0:
            continue
        if c.vat_rate not in section_6_rates:
            expected.append((kind, NoticeCode.CHARGE_RATE_NOT_ON_GOODS))
        elif len(section_6_rates) > 1:
            expected.append((kind, NoticeCode.CHARGE_RATE_ON_MIXED_GOODS))
    assert [(n.kind, n.code) for n in plan.notices] == expected
    for notice in plan.notices:
        assert sorted(notice.goods_rates, reverse=True) == sorted(section_6_rates, reverse=True)
        assert sum(s.amount for s in notice.resplit) == round_cents(
            notice.amount_incl_vat
            if plan.amount_basis is AmountBasis.INCL_VAT
            else notice.amount_excl_vat
        )
        assert "resplit" in notice.text_nl and "resplit" in notice.text_en
