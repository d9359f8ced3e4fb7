"""Every tolerance, bound and rounding rule at its edge: just inside books, just outside refuses
(or falls back). Changing any constant by a factor of 100 either way fails a test here."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from koppel_bookkeeping import (
    AmountBasis,
    BookingLineKind,
    BookingRefused,
    NoticeCode,
    plan_booking,
    refusal_text,
)
from koppel_bookkeeping.allocation import apportion, round_half_up
from koppel_bookkeeping.rates import domestic_rates, is_plausible_rate
from koppel_contracts import (
    BookingOptions,
    Charge,
    Language,
    OrderDiscount,
    OrderLine,
    OrderTotals,
    VatAccountMapping,
    VatTreatment,
)
from koppel_testkit.factories import charge, line, make_order

D = Decimal


def order_line(excl: str, incl: str, rate: str = "21", description: str = "Artikel") -> OrderLine:
    return OrderLine(description=description, quantity=D(1), unit_price_excl_vat=D(excl),
                     unit_price_incl_vat=D(incl), vat_rate=D(rate), total_excl_vat=D(excl),
                     total_incl_vat=D(incl))  # fmt: skip


def with_totals(order, incl: str, vat: str | None = None):
    """The order with other stated totals, skipping validation (as a buggy producer could)."""
    stated_vat = D(vat) if vat is not None else order.totals.total_vat
    totals = OrderTotals(
        total_incl_vat=D(incl), total_vat=stated_vat, total_excl_vat=D(incl) - stated_vat
    )
    return order.model_copy(update={"totals": totals})


def refusal(order, mapping) -> str:
    with pytest.raises(BookingRefused) as caught:
        plan_booking(order, mapping)
    return caught.value.reason_code


# --- the stated total against its parts: a cent per amount + half a cent (rounding.py) ----------


def test_stated_total_a_cent_per_amount_from_its_parts_is_booked(mapping):
    order = make_order(lines=[order_line("8.26", "10.00")])
    plan = plan_booking(with_totals(order, "10.01"), mapping)
    assert (plan.total_incl_vat, plan.rounding_difference) == (D("10.01"), D("0.01"))


def test_stated_total_two_cents_from_one_amount_is_refused(mapping):
    order = make_order(lines=[order_line("8.26", "10.00")])
    assert refusal(with_totals(order, "10.02"), mapping) == "order_totals_mismatch"


def test_half_a_cent_more_is_allowed_for_rounding_the_stated_total(mapping):
    # Parts 10.005 (a shop that sends exact line totals), stated 10.02: 1.5 cents off.
    order = make_order(lines=[order_line("8.27", "10.005")])
    assert plan_booking(with_totals(order, "10.02"), mapping).rounding_difference == D("0.015")


def test_more_than_a_cent_and_a_half_from_one_amount_is_refused(mapping):
    order = make_order(lines=[order_line("8.27", "10.004")])
    assert refusal(with_totals(order, "10.02"), mapping) == "order_totals_mismatch"


def test_tolerance_grows_a_cent_per_amount_and_cycles_over_the_lines(mapping):
    # Three amounts in one booking line: 3 cents off is allowed, and that one line takes
    # all three (as revenue); 4 cents is refused.
    order = make_order(lines=[order_line("8.26", "10.00") for _ in range(3)])
    plan = plan_booking(with_totals(order, "30.03"), mapping)
    assert [(ln.amount_excl_vat, ln.vat_amount) for ln in plan.lines] == [(D("24.82"), D("5.21"))]
    assert plan.rate_totals[0].rounding_difference == D("0.03")
    assert refusal(with_totals(order, "30.04"), mapping) == "order_totals_mismatch"


def test_the_stated_totals_cents_never_empty_a_line(mapping):
    # Two cents less than the parts: the largest line gives one, the 0.01 line cannot give
    # its only cent (its rate would vanish from the booking), so the largest gives both.
    order = make_order(lines=[order_line("8.26", "10.00"), order_line("0.01", "0.01", "9")])
    plan = plan_booking(with_totals(order, "9.99"), mapping)
    assert [(ln.vat_rate, ln.amount_incl_vat) for ln in plan.lines] == [
        (D(21), D("9.98")),
        (D(9), D("0.01")),
    ]
    assert [r.rounding_difference for r in plan.rate_totals] == [D("-0.02"), D("0.00")]


def test_excl_vat_order_keeps_its_basis_within_the_tolerance_and_is_refused_outside(mapping):
    order = make_order(lines=[order_line("10.00", "12.10")], prices_include_vat=False)
    plan = plan_booking(with_totals(order, "12.11"), mapping)
    assert plan.amount_basis is AmountBasis.EXCL_VAT
    assert (plan.total_excl_vat, plan.total_vat, plan.rounding_difference) == (
        D("10.01"),
        D("2.10"),
        D("0.01"),
    )
    assert refusal(with_totals(order, "12.12"), mapping) == "order_totals_mismatch"


# --- the shop's own VAT per rate on the excl basis: a cent per booked line (rounding.py) --------


def test_excl_vat_shops_own_vat_a_cent_per_line_off_is_booked_as_its_vat(mapping):
    # §7 gives 21% of 10.00 = 2.10; the shop invoiced 2.11.
    plan = plan_booking(
        make_order(lines=[order_line("10.00", "12.11")], prices_include_vat=False), mapping
    )
    assert plan.amount_basis is AmountBasis.EXCL_VAT
    assert (plan.total_excl_vat, plan.total_vat, plan.vat_difference) == (
        D("10.00"),
        D("2.11"),
        D("0.00"),
    )


def test_excl_vat_shops_own_vat_two_cents_off_on_one_line_falls_back_to_incl(mapping):
    plan = plan_booking(
        make_order(lines=[order_line("10.00", "12.12")], prices_include_vat=False), mapping
    )
    assert plan.amount_basis is AmountBasis.INCL_VAT
    # 12.12 contains 2.10 at 21%; the shop's 2.12 is shown as the difference.
    assert (plan.total_excl_vat, plan.total_vat, plan.vat_difference) == (
        D("10.02"),
        D("2.10"),
        D("0.02"),
    )


def test_excl_vat_shops_own_vat_may_be_a_cent_off_per_booked_line_of_the_rate(mapping):
    goods = order_line("10.00", "12.11")
    shipping = Charge(description="PostNL", amount_excl_vat=D("10.00"),
                      amount_incl_vat=D("12.11"), vat_rate=D(21))  # fmt: skip
    plan = plan_booking(
        make_order(lines=[goods], shipping=shipping, prices_include_vat=False), mapping
    )
    assert plan.amount_basis is AmountBasis.EXCL_VAT
    assert [ln.vat_amount for ln in plan.lines] == [D("2.11"), D("2.11")]
    three_off = shipping.model_copy(update={"amount_incl_vat": D("12.12")})
    plan = plan_booking(
        make_order(lines=[goods], shipping=three_off, prices_include_vat=False), mapping
    )
    assert plan.amount_basis is AmountBasis.INCL_VAT


# --- the stated total VAT against its parts' VAT: the contract's rules together (rounding.py) ---


def test_stated_vat_three_cents_from_one_amounts_vat_is_booked(mapping):
    order = make_order(lines=[order_line("10.00", "12.10")])
    plan = plan_booking(with_totals(order, "12.10", vat="2.13"), mapping)
    assert (plan.total_vat, plan.vat_difference) == (D("2.10"), D("0.03"))


def test_stated_vat_four_cents_from_one_amounts_vat_is_refused(mapping):
    order = make_order(lines=[order_line("10.00", "12.10")])
    with pytest.raises(BookingRefused) as caught:
        plan_booking(with_totals(order, "12.10", vat="2.14"), mapping)
    error = caught.value
    assert error.reason_code == "order_vat_mismatch"
    assert (error.params["stated"], error.params["computed"]) == (D("2.14"), D("2.10"))
    assert refusal_text(error)[0] == (
        "Het btw-bedrag van bestelling WEB-1001 (€ 2,14) klopt niet met de btw van de regels,"
        " kortingen en kosten (€ 2,10)."
    )
    assert refusal_text(error, Language.EN)[0].startswith("The VAT of order WEB-1001 (€2.14)")


def test_stated_vat_tolerance_grows_two_cents_per_amount(mapping):
    order = make_order(lines=[order_line("10.00", "12.10")], shipping=charge("PostNL", "6.05"))
    assert plan_booking(with_totals(order, "18.15", vat="3.20"), mapping).total_vat == D("3.15")
    assert refusal(with_totals(order, "18.15", vat="3.21"), mapping) == "order_vat_mismatch"


# --- rounding rules (allocation.py) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        (Fraction(1, 2), 1),
        (Fraction(49, 100), 0),
        (Fraction(3, 2), 2),
        (Fraction(149, 100), 1),
        (Fraction(-1, 2), -1),
        (Fraction(-49, 100), 0),
    ],
)
def test_half_a_cent_rounds_away_from_zero(value, rounded):
    assert round_half_up(value) == rounded


def test_a_tie_in_a_rates_excl_amount_rounds_up(mapping):
    # 0.03 at 20% contains 0.025 excl: a tie, so excl 0.03 and VAT 0.00 (§7).
    fr = BookingOptions(
        vat_accounts=[VatAccountMapping(vat_rate=D(20), treatment=VatTreatment.OSS,
                                        ledger_account="8150", vat_code="OSS-SR")]
    )  # fmt: skip
    order = make_order(country="FR", lines=[order_line("0.03", "0.03", "20")])
    plan = plan_booking(with_totals(order, "0.03", vat="0.00"), fr)
    assert [(ln.amount_excl_vat, ln.vat_amount) for ln in plan.lines] == [(D("0.03"), D("0.00"))]


@pytest.mark.parametrize(
    ("values", "total", "parts"),
    [
        ([Fraction(1, 2), Fraction(1, 2)], 1, [1, 0]),  # equal remainders: the earlier
        ([Fraction(1, 2), Fraction(3, 2)], 2, [0, 2]),  # equal remainders: the larger value
        ([Fraction(3, 10), Fraction(7, 10)], 1, [0, 1]),  # the larger remainder
        ([Fraction(2), Fraction(1, 3)], 2, [2, 0]),  # whole values never move
    ],
)
def test_largest_remainder_tie_breaks(values, total, parts):
    assert apportion(values, total) == parts


# --- rates (rates.py) ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "plausible"),
    [("0", True), ("-0.01", False), ("99.99", True), ("100", False)],
)
def test_a_rate_is_a_percentage_from_0_up_to_100(rate, plausible):
    assert is_plausible_rate(D(rate)) is plausible


@pytest.mark.parametrize(
    ("day", "reduced", "general"),
    [
        (date(2012, 9, 30), D(6), D(19)),
        (date(2012, 10, 1), D(6), D(21)),
        (date(2018, 12, 31), D(6), D(21)),
        (date(2019, 1, 1), D(9), D(21)),
    ],
)
def test_dutch_rates_change_on_the_day_the_law_says(day, reduced, general):
    assert domestic_rates("NL", day) == {D(0), reduced, general}


# --- allocation limits (buckets.py) --------------------------------------------------------------


def _rated_discount(amount: str, rate: str) -> OrderDiscount:
    return OrderDiscount(description="Actie", amount_incl_vat=D(amount),
                         amount_excl_vat=D(amount), vat_rate=D(rate))  # fmt: skip


def test_a_discount_may_take_all_goods_of_its_rate_but_not_a_cent_more(mapping):
    lines = [line("Koffie", "1", "10.90", "9"), line("Mok", "1", "12.10", "21")]
    plan = plan_booking(
        make_order(lines=lines, discounts=[_rated_discount("12.10", "21")]), mapping
    )
    assert plan.total_incl_vat == D("10.90")
    order = make_order(lines=lines, discounts=[_rated_discount("12.11", "21")])
    assert refusal(order, mapping) == "discount_exceeds_goods"


def test_an_unrated_discount_may_take_all_goods_but_not_a_cent_more(mapping):
    lines = [line("Koffie", "1", "10.90", "9")]
    shipping = charge("PostNL", "4.95")

    def unrated(amount):
        return [OrderDiscount(description="Tegoed", amount_incl_vat=D(amount),
                              amount_excl_vat=D("10.00"))]  # fmt: skip

    plan = plan_booking(
        make_order(lines=lines, discounts=unrated("10.90"), shipping=shipping), mapping
    )
    assert plan.total_incl_vat == D("4.95")
    order = make_order(lines=lines, discounts=unrated("10.91"), shipping=shipping)
    with pytest.raises(BookingRefused) as caught:
        plan_booking(order, mapping)
    assert caught.value.reason_code == "discount_exceeds_goods"
    # Refused on the order's total goods (no rate), not on one rate's.
    assert (caught.value.params["rate"], caught.value.params["discount"]) == (None, D("10.91"))
    assert caught.value.params["goods"] == D("10.90")


def test_goods_of_a_rate_may_add_up_to_zero_but_not_below(mapping):
    shipping = charge("PostNL", "4.95")
    zero = [line("Koffie", "1", "10.90", "9"), line("Retour", "-1", "10.90", "9")]
    assert plan_booking(make_order(lines=zero, shipping=shipping), mapping).total_incl_vat == D(
        "4.95"
    )
    below = [line("Koffie", "1", "10.90", "9"), line("Retour", "-1", "10.91", "9")]
    assert refusal(make_order(lines=below, shipping=shipping), mapping) == "negative_goods_amount"


def test_a_single_cent_is_booked_and_nothing_at_all_is_refused(mapping):
    plan = plan_booking(make_order(lines=[line("Sticker", "1", "0.01", "21")]), mapping)
    assert [(ln.amount_excl_vat, ln.vat_amount) for ln in plan.lines] == [(D("0.01"), D("0.00"))]
    assert refusal(make_order(lines=[line("Sticker", "1", "0.00", "21")]), mapping) == (
        "empty_order"
    )


def test_notice_counts_only_goods_rates_that_carry_a_share_of_the_costs(mapping):
    # The 21% goods are fully discounted: §6 puts all shipping on the 9% goods.
    lines = [line("Koffie", "1", "10.90", "9"), line("Mok", "1", "12.10", "21")]
    discounts = [_rated_discount("12.10", "21")]
    at_9 = make_order(lines=lines, discounts=discounts, shipping=charge("PostNL", "4.95", "9"))
    assert plan_booking(at_9, mapping).notices == []
    at_21 = make_order(lines=lines, discounts=discounts, shipping=charge("PostNL", "4.95", "21"))
    [notice] = plan_booking(at_21, mapping).notices
    assert (notice.code, notice.goods_rates) == (NoticeCode.CHARGE_RATE_NOT_ON_GOODS, [D(9)])


# --- descriptions (plan.py) ----------------------------------------------------------------------


def test_descriptions_are_cut_at_120_characters_keeping_the_vat(mapping):
    def described(name: str) -> str:
        order = make_order(shipping=charge(name, "4.95", "9"))
        [shipping] = [
            ln for ln in plan_booking(order, mapping).lines if ln.kind is BookingLineKind.SHIPPING
        ]
        return shipping.description

    fits = "x" * (120 - len("Verzendkosten () 9% btw"))
    assert described(fits) == f"Verzendkosten ({fits}) 9% btw"
    cut = described(fits + "y")
    assert len(cut) == 120 and cut.endswith("… 9% btw")
