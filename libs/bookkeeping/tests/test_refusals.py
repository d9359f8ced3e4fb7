"""Every refusal: raised by plan_booking with its params, and told in Dutch and English."""

from __future__ import annotations

import pickle
from decimal import Decimal

import pytest
from koppel_bookkeeping import BookingRefused, RefusalCode, plan_booking, refusal_text
from koppel_bookkeeping.refusals import refusal_failure
from koppel_contracts import (
    BookingOptions,
    FailureKind,
    Language,
    OrderDiscount,
    OrderLine,
    OrderTotals,
)
from koppel_testkit.factories import line, make_order

D = Decimal


def refused(order, mapping, **kwargs) -> BookingRefused:
    with pytest.raises(BookingRefused) as caught:
        plan_booking(order, mapping, **kwargs)
    return caught.value


def texts(error: BookingRefused) -> tuple[tuple[str, str], tuple[str, str]]:
    return refusal_text(error), refusal_text(error, Language.EN)


def test_icp_without_vat_number(mapping):
    order = make_order(country="BE", company_name="Brol BV", lines=[line("Pomp", "1", "500", "0")])
    error = refused(order, mapping)
    assert error.reason_code == "icp_without_vat_number"
    (nl_reason, nl_hint), (en_reason, en_hint) = texts(error)
    assert nl_reason == (
        "Bestelling WEB-1001 gaat zonder btw (0%) naar België, maar de klant heeft geen"
        " btw-nummer. Een intracommunautaire levering tegen 0% mag alleen aan een bedrijf"
        " met een geldig btw-nummer."
    )
    assert nl_hint.startswith(
        "Voeg het btw-nummer van de klant toe in de webshop en boek de bestelling opnieuw."
    )
    assert en_reason.startswith("Order WEB-1001 ships to Belgium without VAT (0%)")
    assert en_hint.startswith("Add the customer's VAT number in the webshop")


def test_icp_with_a_dutch_vat_number(mapping):
    order = make_order(
        country="DE", vat_number="NL123456789B01", lines=[line("Pomp", "1", "500", "0")]
    )
    error = refused(order, mapping)
    assert error.reason_code == "icp_invalid_vat_number"
    (nl_reason, nl_hint), (en_reason, _) = texts(error)
    assert "NL123456789B01 is geen btw-nummer uit een ander EU-land dan Nederland" in nl_reason
    assert "VIES" in nl_hint
    assert "not a VAT number from an EU country other than the Netherlands" in en_reason


def test_unmapped_rate_names_rate_and_treatment(mapping):
    order = make_order(country="FR", lines=[line("Livre", "1", "10.55", "5.5")])
    error = refused(order, mapping)
    assert error.reason_code == "unmapped_vat_rate"
    assert error.params == {
        "order_number": "WEB-1001",
        "rate": D("5.5"),
        "treatment": "oss",
        "country": "FR",
    }
    (nl_reason, nl_hint), (en_reason, en_hint) = texts(error)
    assert nl_reason == (
        "Voor 5,5% btw (OSS Frankrijk) is geen grootboekrekening ingesteld;"
        " bestelling WEB-1001 heeft die nodig."
    )
    assert nl_hint == (
        "Stel in de koppeling een grootboekrekening en btw-code in voor 5,5% btw"
        " (OSS Frankrijk) en boek de bestelling opnieuw."
    )
    assert en_reason.startswith("No ledger account is set up for 5.5% VAT (OSS France)")
    assert "5.5% VAT (OSS France)" in en_hint


def test_unmapped_domestic_rate():
    error = refused(make_order(), BookingOptions())
    assert error.reason_code == "unmapped_vat_rate"
    assert error.params["treatment"] == "domestic" and error.params["country"] is None
    assert "21% btw (binnenland)" in refusal_text(error)[0]


def test_rate_that_does_not_exist_domestically(mapping):
    order = make_order(lines=[line("Tasse", "1", "11.90", "19")])
    error = refused(order, mapping)
    assert error.reason_code == "unknown_vat_rate"
    assert error.params["valid_rates"] == [D(0), D(9), D(21)]
    (nl_reason, nl_hint), (en_reason, _) = texts(error)
    assert nl_reason == (
        "Bestelling WEB-1001 heeft een btw-tarief van 19%, maar dat tarief bestaat niet in"
        " Nederland op 20-11-2026 (geldig: 0%, 9%, 21%)."
    )
    assert nl_hint.startswith("Zet het juiste btw-tarief bij de artikelen in de webshop")
    assert "OSS" not in nl_hint
    assert en_reason.endswith("has no such rate on 2026-11-20 (valid: 0%, 9%, 21%).")


def test_foreign_rate_without_oss_accounts_suggests_oss(domestic_mapping):
    order = make_order(country="DE", lines=[line("Tasse", "1", "11.90", "19")])
    error = refused(order, domestic_mapping)
    assert error.reason_code == "unknown_vat_rate"
    nl_hint = refusal_text(error)[1]
    assert "grootboekrekeningen voor OSS Duitsland toe" in nl_hint
    assert "ledger accounts for OSS Germany" in refusal_text(error, Language.EN)[1]


@pytest.mark.parametrize("rate", ["-9", "100", "121"])
def test_rate_that_is_no_percentage(mapping, rate):
    bad = OrderLine(description="X", quantity=D(1), unit_price_excl_vat=D(10),
                    unit_price_incl_vat=D(10), vat_rate=D(rate), total_excl_vat=D(10),
                    total_incl_vat=D(10))  # fmt: skip
    error = refused(make_order(lines=[bad]), mapping)
    assert error.reason_code == "unknown_vat_rate"
    assert "geen geldig btw-tarief" in refusal_text(error)[0]


def test_discount_larger_than_the_goods_of_its_rate(mapping):
    order = make_order(
        lines=[line("Koffie", "1", "10.90", "9"), line("Mok", "1", "12.10", "21")],
        discounts=[OrderDiscount(description="Cadeaubon", amount_incl_vat=D("15"),
                                 amount_excl_vat=D("12.40"), vat_rate=D(21))],
    )  # fmt: skip
    error = refused(order, mapping)
    assert error.reason_code == "discount_exceeds_goods"
    assert error.params["rate"] == D(21)
    (nl_reason, nl_hint), (en_reason, _) = texts(error)
    assert nl_reason == (
        "In bestelling WEB-1001 is de korting met 21% btw (€ 15,00) groter dan de artikelen"
        " met 21% btw (€ 12,10)."
    )
    assert "cadeaubon" in nl_hint
    assert "discount at 21% VAT (€15.00) is larger than the goods at 21% VAT (€12.10)" in en_reason


def test_discount_larger_than_all_goods(mapping):
    order = make_order(
        lines=[line("Koffie", "1", "10.90", "9")],
        discounts=[OrderDiscount(description="Tegoed", amount_incl_vat=D("12"),
                                 amount_excl_vat=D("11.01"))],
    )  # fmt: skip
    error = refused(order, mapping)
    assert error.reason_code == "discount_exceeds_goods"
    assert error.params["rate"] is None
    assert "de korting (€ 12,00) groter dan de artikelen (€ 10,90)" in refusal_text(error)[0]


def test_discount_with_a_rate_the_order_has_no_goods_at(mapping):
    order = make_order(
        lines=[line("Koffie", "1", "10.90", "9")],
        discounts=[OrderDiscount(description="Actie", amount_incl_vat=D("1.21"),
                                 amount_excl_vat=D("1.00"), vat_rate=D(21))],
    )  # fmt: skip
    assert refused(order, mapping).params["goods"] == D("0.00")


def test_negative_goods(mapping):
    order = make_order(
        lines=[line("Koffie", "1", "10.90", "9"), line("Retour", "-2", "10.90", "9")]
    )
    error = refused(order, mapping)
    assert error.reason_code == "negative_goods_amount"
    assert error.params["amount"] == D("-10.90")
    (nl_reason, nl_hint), (en_reason, _) = texts(error)
    assert (
        nl_reason
        == "De artikelen met 9% btw in bestelling WEB-1001 zijn samen negatief (-€ 10,90)."
    )
    assert "creditnota" in nl_hint
    assert "(-€10.90)" in en_reason


def test_empty_order(mapping):
    error = refused(make_order(lines=[line("Gratis staal", "1", "0.00", "21")]), mapping)
    assert error.reason_code == "empty_order"
    (nl_reason, _), (en_reason, _) = texts(error)
    assert nl_reason.startswith("Bestelling WEB-1001 heeft niets om te boeken")
    assert en_reason.startswith("Order WEB-1001 has nothing to book")


def test_totals_that_do_not_add_up(mapping):
    # model_copy skips validation: what a buggy producer could still put on the topic.
    order = make_order()
    broken = order.model_copy(
        update={"totals": OrderTotals(total_incl_vat=D("100.00"), total_excl_vat=D("90.00"),
                                      total_vat=D("10.00"))}
    )  # fmt: skip
    error = refused(broken, mapping)
    assert error.reason_code == "order_totals_mismatch"
    assert (error.params["stated"], error.params["computed"]) == (D("100.00"), D("62.00"))
    assert (
        "(€ 100,00) klopt niet met de regels, kortingen en kosten (€ 62,00)"
        in (refusal_text(error)[0])
    )


def test_every_code_has_distinct_dutch_and_english_texts_naming_the_order():
    for code in RefusalCode:
        error = BookingRefused(code, {"order_number": "SHOP-7", "rate": D(21)})
        (nl_reason, nl_hint), (en_reason, en_hint) = texts(error)
        assert "SHOP-7" in nl_reason and "SHOP-7" in en_reason, code
        assert nl_hint and en_hint and nl_reason != en_reason, code


def test_unknown_code_still_reads_well():
    reason, suggestion = refusal_text(BookingRefused("ledger_said_no", {"order_number": "9"}))
    assert reason == "Bestelling 9 kan niet automatisch geboekt worden (ledger_said_no)."
    assert suggestion


def test_refusal_becomes_a_permanent_failure_and_survives_pickling():
    error = BookingRefused(RefusalCode.EMPTY_ORDER, {"order_number": "WEB-1"})
    failure = refusal_failure(error, Language.EN)
    assert failure.kind is FailureKind.PERMANENT and failure.reason_code == "empty_order"
    assert failure.reason.startswith("Order WEB-1")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.reason_code, copy.params) == ("empty_order", {"order_number": "WEB-1"})
    assert str(copy) == "empty_order (order_number=WEB-1)"
