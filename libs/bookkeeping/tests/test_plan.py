"""plan_booking on hand-computed orders: one per treatment, rounding and allocation rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from koppel_bookkeeping import (
    AmountBasis,
    BookingLineKind,
    BookingRefused,
    plan_booking,
)
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
GOODS, DISCOUNT, SHIPPING, PAYMENT = (
    BookingLineKind.GOODS,
    BookingLineKind.DISCOUNT,
    BookingLineKind.SHIPPING,
    BookingLineKind.PAYMENT_COSTS,
)


def excl_line(description: str, excl: str, incl: str, rate: str) -> OrderLine:
    """A line as an excl-VAT (B2B) shop sends it: quantity 1, its own rounded incl."""
    return OrderLine(
        description=description,
        quantity=D(1),
        unit_price_excl_vat=D(excl),
        unit_price_incl_vat=D(incl),
        vat_rate=D(rate),
        total_excl_vat=D(excl),
        total_incl_vat=D(incl),
    )


def rows(plan):
    """(kind, rate, excl, vat, incl) per line, as strings: easy to compare by eye."""
    return [
        (ln.kind, str(ln.vat_rate), str(ln.amount_excl_vat), str(ln.vat_amount),
         str(ln.amount_incl_vat))
        for ln in plan.lines
    ]  # fmt: skip


def _mixed_order():
    # 2 x 24.95 @ 9% + 12.10 @ 21%, a 6.20 coupon without rate, 4.95 shipping and a 0.35
    # iDEAL fee, both charged at 21% by the shop.
    return make_order(
        discounts=[OrderDiscount(description="WELKOM10", amount_incl_vat=D("6.20"),
                                 amount_excl_vat=D("5.53"))],
        shipping=charge("PostNL", "4.95"),
        payment_costs=charge("iDEAL", "0.35"),
    )  # fmt: skip


def test_mixed_rates_books_the_charges_at_the_rate_the_shop_charged(mapping):
    order = _mixed_order()
    plan = plan_booking(order, mapping)

    # Coupon over the goods 12.10 : 49.90 -> 1.21 / 4.99. Shipping and iDEAL stay at 21%.
    # 21%: 12.10 - 1.21 + 4.95 + 0.35 = 16.19 -> excl round(13.3802) = 13.38, VAT 2.81;
    # 9%: 49.90 - 4.99 = 44.91 -> excl round(41.2018) = 41.20, VAT 3.71.
    assert rows(plan) == [
        (GOODS, "21", "10.00", "2.10", "12.10"),
        (GOODS, "9", "45.78", "4.12", "49.90"),
        (DISCOUNT, "21", "-1.00", "-0.21", "-1.21"),
        (DISCOUNT, "9", "-4.58", "-0.41", "-4.99"),
        (SHIPPING, "21", "4.09", "0.86", "4.95"),
        (PAYMENT, "21", "0.29", "0.06", "0.35"),
    ]
    per_rate = [
        (str(r.vat_rate), str(r.amount_excl_vat), str(r.vat_amount)) for r in plan.rate_totals
    ]
    assert per_rate == [("21", "13.38", "2.81"), ("9", "41.20", "3.71")]
    assert plan.total_incl_vat == D("61.10")
    # The shop's own VAT total (61.10 - 54.63) is 6.47: its coupon says 0.67 VAT where the
    # coupon's shares contain 0.62. Shown, not booked.
    assert (plan.total_vat, order.totals.total_vat, plan.vat_difference) == (
        D("6.52"),
        D("6.47"),
        D("-0.05"),
    )
    assert [(n.code, n.kind) for n in plan.notices] == [
        ("charge_rate_on_mixed_goods", SHIPPING),
        ("charge_rate_on_mixed_goods", PAYMENT),
    ]


def test_resplit_mixed_rates_with_order_discount_shipping_and_payment_costs(resplit_mapping):
    order = _mixed_order()
    plan = plan_booking(order, resplit_mapping)

    # Coupon over the goods 12.10 : 49.90 -> 1.21 / 4.99. Shipping over the net goods
    # 10.89 : 44.91 -> 0.97 / 3.98, payment costs -> 0.07 / 0.28 (largest remainders).
    # Per rate: 21% total 11.93 -> excl 9.86, VAT 2.07; 9% total 49.17 -> 45.11, 4.06.
    assert rows(plan) == [
        (GOODS, "21", "10.00", "2.10", "12.10"),
        (GOODS, "9", "45.78", "4.12", "49.90"),
        (DISCOUNT, "21", "-1.00", "-0.21", "-1.21"),
        (DISCOUNT, "9", "-4.58", "-0.41", "-4.99"),
        (SHIPPING, "21", "0.80", "0.17", "0.97"),
        (SHIPPING, "9", "3.65", "0.33", "3.98"),
        (PAYMENT, "21", "0.06", "0.01", "0.07"),
        (PAYMENT, "9", "0.26", "0.02", "0.28"),
    ]
    per_rate = [
        (str(r.vat_rate), str(r.amount_excl_vat), str(r.vat_amount)) for r in plan.rate_totals
    ]
    assert per_rate == [("21", "9.86", "2.07"), ("9", "45.11", "4.06")]
    assert plan.total_incl_vat == order.totals.total_incl_vat == D("61.10")
    assert (plan.total_excl_vat, plan.total_vat) == (D("54.97"), D("6.13"))
    assert plan.treatment is VatTreatment.DOMESTIC
    assert plan.amount_basis is AmountBasis.INCL_VAT
    assert plan.rounding_difference == 0
    assert plan.vat_note is None
    accounts = {(ln.vat_rate, ln.ledger_account, ln.vat_code) for ln in plan.lines}
    assert accounts == {(D(21), "8000", "VH"), (D(9), "8010", "VL")}
    assert [ln.description for ln in plan.lines][2::2] == [
        "Korting (WELKOM10) 21% btw",
        "Verzendkosten (PostNL) 21% btw",
        "Betaalkosten (iDEAL) 21% btw",
    ]
    assert plan.notices == []  # the merchant chose the split: nothing to point out


def test_worked_example_of_the_vat_notes_excl_vat_shop(mapping):
    # vat-nl-eu.md §6: goods 49.90 @21% and 13.50 @9%, shipping 4.95 excl.
    order = make_order(
        lines=[excl_line("Jas", "49.90", "60.38", "21"), excl_line("Boek", "13.50", "14.72", "9")],
        shipping=Charge(description="PostNL", amount_excl_vat=D("4.95"), amount_incl_vat=D("5.86")),
        prices_include_vat=False,
    )
    plan = plan_booking(order, mapping)
    assert plan.amount_basis is AmountBasis.EXCL_VAT
    assert [(str(r.amount_excl_vat), str(r.vat_amount)) for r in plan.rate_totals] == [
        ("53.80", "11.30"),
        ("14.55", "1.31"),
    ]
    assert [str(ln.amount_excl_vat) for ln in plan.lines if ln.kind is SHIPPING] == ["3.90", "1.05"]
    assert (plan.total_excl_vat, plan.total_vat, plan.total_incl_vat) == (
        D("68.35"),
        D("12.61"),
        D("80.96"),
    )


def test_excl_vat_shop_that_rounds_vat_per_line_is_booked_with_its_own_vat(mapping):
    # The shop rounded VAT per line: 3 x 0.35 -> 3 x 0.07 = 0.21 VAT, while 21% of 1.05
    # is 0.2205 -> 0.22. The customer was invoiced 0.21 at 21%: that is what is booked.
    lines = [excl_line(f"Schroef {i}", "0.35", "0.42", "21") for i in range(3)]
    order = make_order(lines=lines, prices_include_vat=False)
    assert order.totals.total_incl_vat == D("1.26")
    plan = plan_booking(order, mapping)
    assert plan.amount_basis is AmountBasis.EXCL_VAT
    assert rows(plan) == [(GOODS, "21", "1.05", "0.21", "1.26")]
    assert (plan.rounding_difference, plan.vat_difference) == (0, 0)


def test_excl_vat_amounts_that_cannot_reach_the_total_fall_back_to_incl(mapping):
    # Shop rounded the unit incl price: 100 x 0.05 excl, 100 x 0.06 incl (0.0605).
    order = make_order(
        lines=[
            OrderLine(description="Ring", quantity=D(100), unit_price_excl_vat=D("0.05"),
                      unit_price_incl_vat=D("0.06"), vat_rate=D(21), total_excl_vat=D("5.00"),
                      total_incl_vat=D("6.00"))
        ],
        prices_include_vat=False,
    )  # fmt: skip
    plan = plan_booking(order, mapping)
    assert plan.amount_basis is AmountBasis.INCL_VAT
    assert rows(plan) == [(GOODS, "21", "4.96", "1.04", "6.00")]


def test_incl_vat_shop_total_a_cent_off_goes_to_the_largest_lines_revenue(mapping):
    order = make_order(shipping=charge("PostNL", "4.95"))
    stated = order.totals.total_incl_vat + D("0.01")
    excl = order.totals.total_excl_vat
    totals = OrderTotals(total_incl_vat=stated, total_excl_vat=excl, total_vat=stated - excl)
    order = order.model_copy(update={"totals": totals})
    plan = plan_booking(order, mapping)
    assert plan.total_incl_vat == stated
    assert plan.rounding_difference == D("0.01")
    goods_9 = next(ln for ln in plan.lines if ln.kind is GOODS and ln.vat_rate == 9)
    # The largest line took the cent, as revenue: 49.90 at 9% contains 4.12 VAT, and that
    # stays what is booked as VAT.
    assert (goods_9.amount_excl_vat, goods_9.vat_amount, goods_9.amount_incl_vat) == (
        D("45.79"),
        D("4.12"),
        D("49.91"),
    )
    assert [(r.vat_rate, r.rounding_difference) for r in plan.rate_totals] == [
        (D(21), D("0.00")),
        (D(9), D("0.01")),
    ]


def test_discount_with_its_own_rate_reduces_only_that_rate(mapping):
    order = make_order(
        discounts=[OrderDiscount(description="Mok gratis", amount_incl_vat=D("12.10"),
                                 amount_excl_vat=D("10.00"), vat_rate=D(21))]
    )  # fmt: skip
    plan = plan_booking(order, mapping)
    assert [(ln.kind, ln.vat_rate, ln.amount_incl_vat) for ln in plan.lines] == [
        (GOODS, D(21), D("12.10")),
        (GOODS, D(9), D("49.90")),
        (DISCOUNT, D(21), D("-12.10")),
    ]
    assert plan.total_incl_vat == D("49.90")


def test_resplit_shipping_follows_the_goods_whatever_rate_the_shop_gave_it(resplit_mapping):
    # Only 9% goods; the shop put 21% on shipping. Re-split: shipping follows the goods (§6).
    order = make_order(lines=[line("Koffie", "1", "10.90", "9")], shipping=charge("PostNL", "6.05"))
    plan = plan_booking(order, resplit_mapping)
    assert rows(plan) == [
        (GOODS, "9", "10.00", "0.90", "10.90"),
        (SHIPPING, "9", "5.55", "0.50", "6.05"),
    ]
    assert plan.total_incl_vat == order.totals.total_incl_vat
    assert plan.notices == []


def test_shipping_at_a_rate_no_goods_have_is_booked_as_charged_with_a_notice(mapping):
    # The same order as charged: the customer's invoice says 1.05 VAT at 21% on shipping.
    order = make_order(lines=[line("Koffie", "1", "10.90", "9")], shipping=charge("PostNL", "6.05"))
    plan = plan_booking(order, mapping)
    assert rows(plan) == [
        (GOODS, "9", "10.00", "0.90", "10.90"),
        (SHIPPING, "21", "5.00", "1.05", "6.05"),
    ]
    assert plan.vat_difference == 0
    [notice] = plan.notices
    assert (notice.code, notice.vat_rate, notice.goods_rates) == (
        "charge_rate_not_on_goods",
        D(21),
        [D(9)],
    )
    assert [(s.vat_rate, s.amount, s.vat_amount) for s in notice.resplit] == [
        (D(9), D("6.05"), D("0.50"))
    ]


def test_costs_on_free_goods_take_the_highest_goods_rate(mapping):
    order = make_order(
        lines=[line("Proefzakje", "1", "0.00", "9"), line("Sticker", "1", "0.00", "21")],
        shipping=charge("Brievenbuspost", "2.50"),
    )
    plan = plan_booking(order, mapping)
    assert rows(plan) == [(SHIPPING, "21", "2.07", "0.43", "2.50")]


def test_zero_amount_lines_are_not_booked(mapping):
    order = make_order(
        lines=[line("Koffie", "1", "10.90", "9"), line("Gratis mok", "1", "0", "21")]
    )
    plan = plan_booking(order, mapping)
    assert [(ln.kind, ln.vat_rate) for ln in plan.lines] == [(GOODS, D(9))]


def test_oss_order_books_destination_rates_on_the_country_accounts(mapping):
    order = make_order(
        country="DE",
        lines=[line("Buch", "2", "10.70", "7"), line("Tasse", "1", "11.90", "19")],
        shipping=charge("DHL", "5.95", "19"),
    )
    plan = plan_booking(order, mapping)
    assert (plan.treatment, plan.country_code, plan.vat_country) == (VatTreatment.OSS, "DE", "DE")
    assert {(ln.vat_rate, ln.ledger_account) for ln in plan.lines} == {
        (D(19), "8100"),
        (D(7), "8101"),
    }
    assert plan.lines[0].description == "Artikelen 19% btw DE (OSS)"
    assert plan.vat_note == "Btw van Duitsland, aangegeven via de éénloketregeling (OSS)"
    assert plan.total_incl_vat == order.totals.total_incl_vat


def test_oss_mapping_without_country_is_a_fallback(mapping):
    fallback = BookingOptions(
        vat_accounts=[
            VatAccountMapping(vat_rate=D(20), treatment=VatTreatment.OSS, ledger_account="8150",
                              vat_code="OSS-SR"),
        ]
    )  # fmt: skip
    order = make_order(country="FR", lines=[line("Livre", "1", "12.00", "20")])
    plan = plan_booking(order, fallback)
    assert [(ln.ledger_account, ln.vat_code, ln.vat_amount) for ln in plan.lines] == [
        ("8150", "OSS-SR", D("2.00"))
    ]


def test_eu_consumer_without_oss_accounts_is_booked_with_dutch_vat(domestic_mapping):
    plan = plan_booking(make_order(country="BE"), domestic_mapping)
    assert (plan.treatment, plan.country_code, plan.vat_country) == (
        VatTreatment.DOMESTIC,
        "BE",
        "NL",
    )


def test_icp_order_is_zero_rated_with_the_legal_mention(mapping):
    order = make_order(
        country="BE",
        company_name="Brol BV",
        vat_number="BE 0123.456.789",
        lines=[line("Machine", "1", "1000.00", "0")],
        shipping=charge("Transport", "50.00", "0"),
        discounts=[OrderDiscount(description="B2B", amount_incl_vat=D("100"),
                                 amount_excl_vat=D("100"), vat_rate=D(21))],
    )  # fmt: skip
    plan = plan_booking(order, mapping)
    assert plan.treatment is VatTreatment.ICP
    assert rows(plan) == [
        (GOODS, "0", "1000.00", "0.00", "1000.00"),
        (DISCOUNT, "0", "-100.00", "0.00", "-100.00"),
        (SHIPPING, "0", "50.00", "0.00", "50.00"),
    ]
    assert {ln.ledger_account for ln in plan.lines} == {"8200"}
    assert plan.lines[0].description == "Artikelen 0% btw (intracommunautair)"
    assert plan.vat_note == (
        "Intracommunautaire levering, 0% btw — btw-nummer afnemer: BE0123456789"
    )


def test_export_order_is_zero_rated(mapping):
    order = make_order(country="US", lines=[line("Kaas", "1", "30.00", "0")])
    plan = plan_booking(order, mapping, language=Language.EN)
    assert plan.treatment is VatTreatment.EXPORT
    assert rows(plan) == [(GOODS, "0", "30.00", "0.00", "30.00")]
    assert plan.lines[0].ledger_account == "8300"
    assert plan.lines[0].description == "Goods 0% VAT (export)"
    assert plan.vat_note == "Export outside the EU, 0% VAT"


def test_rates_are_checked_against_the_order_date(mapping):
    from datetime import UTC, datetime

    old = BookingOptions(
        vat_accounts=[VatAccountMapping(vat_rate=D(6), ledger_account="8011", vat_code="L6")]
    )
    order = make_order(
        lines=[line("Boek", "1", "10.60", "6")], placed_at=datetime(2018, 6, 1, tzinfo=UTC)
    )
    assert plan_booking(order, old).lines[0].vat_amount == D("0.60")
    with pytest.raises(BookingRefused) as refused:
        plan_booking(order.model_copy(update={"placed_at": datetime(2019, 1, 2, tzinfo=UTC)}), old)
    assert refused.value.reason_code == "unknown_vat_rate"


def test_rates_spelled_differently_book_on_one_line(mapping):
    order = make_order(lines=[line("A", "1", "12.10", "21"), line("B", "1", "24.20", "21.00")])
    plan = plan_booking(order, mapping)
    assert rows(plan) == [(GOODS, "21", "30.00", "6.30", "36.30")]
