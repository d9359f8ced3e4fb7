"""Shipping and payment costs: booked as charged (default) or re-split (§6), notices,
the shipping account and the OSS option."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from koppel_bookkeeping import (
    AmountBasis,
    BookingLineKind,
    BookingRefused,
    NoticeCode,
    plan_booking,
    refusal_text,
)
from koppel_contracts import (
    BookingOptions,
    Charge,
    ChargeVat,
    Language,
    OrderLine,
    OssVat,
    VatTreatment,
)
from koppel_testkit.factories import charge, line, make_order

D = Decimal
GOODS, SHIPPING, PAYMENT = (
    BookingLineKind.GOODS,
    BookingLineKind.SHIPPING,
    BookingLineKind.PAYMENT_COSTS,
)


def ccv_order(shipping: Charge | None = None, payment_costs: Charge | None = None):
    """The issue's CCV Shop order: 71.50 incl. 10.89 VAT (9.52 at 21%, 1.37 at 9%),
    shipping 4.95 charged at 21%."""
    return make_order(
        lines=[line("Regenjas", "1", "49.90", "21"), line("Koffiebonen", "1", "16.65", "9")],
        shipping=shipping or charge("PostNL", "4.95", "21"),
        payment_costs=payment_costs,
    )


def per_rate(plan):
    return [(str(r.vat_rate), str(r.amount_incl_vat), str(r.vat_amount)) for r in plan.rate_totals]


def test_ccv_order_books_the_vat_per_rate_the_customer_was_invoiced(mapping):
    order = ccv_order()
    assert (order.totals.total_incl_vat, order.totals.total_vat) == (D("71.50"), D("10.89"))
    plan = plan_booking(order, mapping)
    # 21%: 49.90 + 4.95 = 54.85 contains 9.52; 9%: 16.65 contains 1.37.
    assert per_rate(plan) == [("21", "54.85", "9.52"), ("9", "16.65", "1.37")]
    assert (plan.total_incl_vat, plan.total_vat) == (D("71.50"), D("10.89"))
    assert (plan.rounding_difference, plan.vat_difference) == (0, 0)
    shipping = [ln for ln in plan.lines if ln.kind is SHIPPING]
    assert [(ln.vat_rate, ln.amount_incl_vat, ln.vat_amount) for ln in shipping] == [
        (D(21), D("4.95"), D("0.86"))
    ]
    [notice] = plan.notices
    assert notice.code is NoticeCode.CHARGE_RATE_ON_MIXED_GOODS
    assert (notice.kind, notice.description, notice.vat_rate, notice.goods_rates) == (
        SHIPPING,
        "PostNL",
        D(21),
        [D(21), D(9)],
    )
    assert (notice.amount_excl_vat, notice.vat_amount, notice.amount_incl_vat) == (
        D("4.09"),
        D("0.86"),
        D("4.95"),
    )
    # §6 would split 4.95 over the goods 49.90 : 16.65 -> 3.71 / 1.24.
    assert [(s.vat_rate, s.amount, s.vat_amount) for s in notice.resplit] == [
        (D(21), D("3.71"), D("0.64")),
        (D(9), D("1.24"), D("0.10")),
    ]


def test_ccv_order_with_resplit_splits_the_shipping_over_the_goods_without_notice(
    resplit_mapping,
):
    plan = plan_booking(ccv_order(), resplit_mapping)
    # 21%: 49.90 + 3.71 = 53.61 contains 9.30; 9%: 16.65 + 1.24 = 17.89 contains 1.48.
    assert per_rate(plan) == [("21", "53.61", "9.30"), ("9", "17.89", "1.48")]
    assert (plan.total_incl_vat, plan.total_vat) == (D("71.50"), D("10.78"))
    assert plan.vat_difference == D("0.11")  # the invoice says 10.89: shown by the check
    assert plan.notices == []


def test_notice_tells_the_merchant_what_the_shop_did_what_the_rule_is_and_the_option(mapping):
    [notice] = plan_booking(ccv_order(), mapping).notices
    assert notice.text_nl == (
        "Bestelling WEB-1001: de webshop rekende 21% btw over de verzendkosten (€ 4,95 incl."
        " € 0,86 btw), terwijl de artikelen verschillende btw-tarieven hebben (21% en 9%)."
        " Volgens de btw-regels volgen verzendkosten de btw van de artikelen, naar verhouding"
        " van de artikelen per tarief: € 3,71 tegen 21% en € 1,24 tegen 9% (incl. btw)."
        " Koppel heeft geboekt wat de klant gefactureerd kreeg, zodat je btw-aangifte klopt"
        " met je facturen. Is de factuur uit je boekhouding de factuur die de klant krijgt,"
        " zet dan in de koppeling de optie charge_vat op resplit: Koppel verdeelt de"
        " verzendkosten dan over de tarieven van de artikelen."
    )
    assert notice.text(Language.EN) == notice.text_en
    assert notice.text_en.startswith(
        "Order WEB-1001: the shop charged 21% VAT on the shipping costs (€4.95 incl. €0.86"
        " VAT), while the goods in this order have different VAT rates (21% and 9%)."
    )
    assert "Koppel booked what the customer was invoiced" in notice.text_en
    assert "charge_vat to resplit" in notice.text_en


def test_charge_at_a_rate_none_of_the_goods_has_gets_its_own_notice_text(mapping):
    order = make_order(
        lines=[line("Koffie", "1", "10.90", "9")], payment_costs=charge("Achteraf", "1.21")
    )
    [notice] = plan_booking(order, mapping).notices
    assert (notice.code, notice.kind) == (NoticeCode.CHARGE_RATE_NOT_ON_GOODS, PAYMENT)
    assert "maar geen van de artikelen heeft dat tarief (artikelen: 9%)" in notice.text_nl
    assert "over de betaalkosten" in notice.text_nl
    assert "but none of the goods has that rate (goods: 9%)" in notice.text_en


def test_charge_without_rate_follows_the_goods_when_booking_as_charged(mapping):
    unrated = Charge(description="PostNL", amount_incl_vat=D("4.95"), amount_excl_vat=D("4.30"))
    order = ccv_order(shipping=unrated)
    plan = plan_booking(order, mapping)
    assert [(ln.vat_rate, ln.amount_incl_vat) for ln in plan.lines if ln.kind is SHIPPING] == [
        (D(21), D("3.71")),
        (D(9), D("1.24")),
    ]
    assert plan.notices == []


@pytest.mark.parametrize("shipping", [charge("PostNL", "6.95", "9"), charge("Gratis", "0", "21")])
def test_no_notice_where_the_shop_followed_the_goods_or_charged_nothing(mapping, shipping):
    order = make_order(lines=[line("Koffie", "2", "10.90", "9")], shipping=shipping)
    assert plan_booking(order, mapping).notices == []


def test_zero_rated_order_books_every_charge_at_zero_without_notice(mapping):
    order = make_order(
        country="US",
        lines=[line("Kaas", "1", "30.00", "0")],
        shipping=charge("DHL", "12.00", "0"),
    )
    plan = plan_booking(order, mapping)
    assert plan.treatment is VatTreatment.EXPORT
    assert {ln.vat_rate for ln in plan.lines} == {D(0)}
    assert plan.notices == []


def test_excl_vat_order_books_rated_shipping_with_the_shops_vat(mapping):
    order = make_order(
        lines=[
            OrderLine(description="Boek", quantity=D(1), unit_price_excl_vat=D("20.00"),
                      unit_price_incl_vat=D("21.80"), vat_rate=D(9), total_excl_vat=D("20.00"),
                      total_incl_vat=D("21.80")),
        ],
        shipping=Charge(description="PostNL", amount_excl_vat=D("5.00"),
                        amount_incl_vat=D("6.05"), vat_rate=D(21)),
        prices_include_vat=False,
    )  # fmt: skip
    plan = plan_booking(order, mapping)
    assert plan.amount_basis is AmountBasis.EXCL_VAT
    assert per_rate(plan) == [("21", "6.05", "1.05"), ("9", "21.80", "1.80")]
    assert plan.notices[0].code is NoticeCode.CHARGE_RATE_NOT_ON_GOODS
    assert "(excl. btw)" in plan.notices[0].text_nl


def test_shipping_account_takes_the_shipping_lines_with_their_rates_vat_code(mapping):
    booking = mapping.model_copy(update={"shipping_account": "8400"})
    order = ccv_order(payment_costs=charge("iDEAL", "0.35", "21"))
    plan = plan_booking(order, booking)
    accounts = [(ln.kind, ln.vat_rate, ln.ledger_account, ln.vat_code) for ln in plan.lines]
    assert accounts == [
        (GOODS, D(21), "8000", "VH"),
        (GOODS, D(9), "8010", "VL"),
        (SHIPPING, D(21), "8400", "VH"),
        (BookingLineKind.PAYMENT_COSTS, D(21), "8000", "VH"),
    ]
    # The VAT summary stays per rate on the rate's account.
    assert [(r.vat_rate, r.ledger_account) for r in plan.rate_totals] == [
        (D(21), "8000"),
        (D(9), "8010"),
    ]
    resplit = plan_booking(order, booking.model_copy(update={"charge_vat": ChargeVat.RESPLIT}))
    assert {ln.ledger_account for ln in resplit.lines if ln.kind is SHIPPING} == {"8400"}


def test_oss_option_decides_destination_vat_over_the_inference(mapping, domestic_mapping):
    order = make_order(country="DE", lines=[line("Buch", "1", "10.70", "7")])
    # Inference: OSS accounts present -> destination VAT; none -> the shop country's.
    assert plan_booking(order, mapping).treatment is VatTreatment.OSS
    shop_country = mapping.model_copy(update={"oss_vat": OssVat.SHOP_COUNTRY})
    with pytest.raises(BookingRefused) as refused:
        plan_booking(order, shop_country)  # Dutch VAT, and 7% is no Dutch rate
    assert refused.value.params["vat_country"] == "NL"
    destination = domestic_mapping.model_copy(update={"oss_vat": OssVat.DESTINATION})
    with pytest.raises(BookingRefused) as refused:
        plan_booking(order, destination)  # OSS, without an OSS account for 7% DE
    assert (refused.value.reason_code, refused.value.params["treatment"]) == (
        "unmapped_vat_rate",
        "oss",
    )
    # An explicit parameter still wins over the option.
    plan = plan_booking(order, shop_country, destination_taxation=True)
    assert plan.treatment is VatTreatment.OSS


def test_rate_only_the_shipping_brings_is_checked_and_named(mapping):
    order = make_order(
        lines=[line("Koffie", "1", "10.90", "9")],
        shipping=charge("PostNL", "5.95", "19"),
        placed_at=datetime(2026, 1, 5, tzinfo=UTC),
    )
    with pytest.raises(BookingRefused) as refused:
        plan_booking(order, mapping)
    error = refused.value
    assert (error.reason_code, error.params["rate"], error.params["source"]) == (
        "unknown_vat_rate",
        D(19),
        "shipping",
    )
    assert refusal_text(error)[1].startswith("Zet het juiste btw-tarief bij de verzendkosten")
    resplit = mapping.model_copy(update={"charge_vat": ChargeVat.RESPLIT})
    assert plan_booking(order, resplit).total_incl_vat == D("16.85")


def test_unmapped_rate_only_a_charge_brings_suggests_resplit(mapping):
    order = make_order(
        country="DE", lines=[line("Buch", "1", "10.70", "7")], shipping=charge("DHL", "5.95")
    )
    with pytest.raises(BookingRefused) as refused:
        plan_booking(order, mapping)
    assert refused.value.params["source"] == "shipping"
    nl_hint = refusal_text(refused.value)[1]
    assert "De webshop rekende 21% btw over de verzendkosten" in nl_hint
    assert "charge_vat op resplit" in nl_hint
    assert "set the option charge_vat to resplit" in refusal_text(refused.value, Language.EN)[1]


def test_charge_rate_that_is_no_percentage_is_refused_only_when_booked_at_it(mapping):
    order = make_order(
        shipping=Charge(description="X", amount_incl_vat=D("5"), amount_excl_vat=D("2"),
                        vat_rate=D(150))
    )  # fmt: skip
    with pytest.raises(BookingRefused) as refused:
        plan_booking(order, mapping)
    assert (refused.value.reason_code, refused.value.params["rate"]) == ("unknown_vat_rate", 150)
    resplit = plan_booking(order, mapping.model_copy(update={"charge_vat": ChargeVat.RESPLIT}))
    assert {ln.vat_rate for ln in resplit.lines} == {D(21), D(9)}


def test_booking_options_without_charge_vat_default_to_as_charged():
    assert BookingOptions().charge_vat is ChargeVat.AS_CHARGED
