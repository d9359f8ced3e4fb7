"""decide_treatment: the decision table of vat-nl-eu.md §8, one row per test."""

from __future__ import annotations

import pytest
from koppel_bookkeeping import BookingRefused, decide_treatment
from koppel_contracts import Address, VatTreatment
from koppel_testkit.factories import line, make_order


def _zero_rated_lines():
    return [line("Machine", "1", "1000.00", "0")]


def test_customer_in_the_netherlands_is_domestic():
    decision = decide_treatment(make_order(country="NL"))
    assert decision.treatment is VatTreatment.DOMESTIC
    assert (decision.country_code, decision.vat_country) == ("NL", "NL")


def test_eu_consumer_pays_destination_vat_through_oss():
    order = make_order(country="DE", lines=[line("Buch", "1", "10.70", "7")])
    decision = decide_treatment(order)
    assert decision.treatment is VatTreatment.OSS
    assert (decision.country_code, decision.vat_country) == ("DE", "DE")


def test_eu_consumer_below_the_oss_threshold_pays_dutch_vat():
    order = make_order(country="DE")
    decision = decide_treatment(order, destination_taxation=False)
    assert decision.treatment is VatTreatment.DOMESTIC
    assert (decision.country_code, decision.vat_country) == ("DE", "NL")


def test_shipping_address_decides_over_billing_address():
    order = make_order(
        country="NL",
        shipping_address=Address(full_name="Jan", city="Berlin", country_code="DE"),
    )
    assert decide_treatment(order).country_code == "DE"
    assert "shipping address" in decide_treatment(order).reason


def test_billing_address_decides_without_shipping_address():
    decision = decide_treatment(make_order(country="BE"))
    assert decision.country_code == "BE"
    assert "billing address" in decision.reason


def test_eu_business_with_vat_number_and_no_vat_is_icp():
    order = make_order(
        country="BE", company_name="Brol BV", vat_number="BE0123456789", lines=_zero_rated_lines()
    )
    decision = decide_treatment(order)
    assert decision.treatment is VatTreatment.ICP
    assert (decision.country_code, decision.vat_country) == ("BE", "NL")


def test_greek_vat_numbers_use_el():
    order = make_order(country="GR", vat_number="EL123456789", lines=_zero_rated_lines())
    assert decide_treatment(order).treatment is VatTreatment.ICP


def test_zero_vat_to_eu_without_vat_number_is_refused():
    order = make_order(country="BE", company_name="Brol BV", lines=_zero_rated_lines())
    with pytest.raises(BookingRefused) as refused:
        decide_treatment(order)
    assert refused.value.reason_code == "icp_without_vat_number"
    assert refused.value.params == {"order_number": "WEB-1001", "country": "BE"}


@pytest.mark.parametrize("vat_number", ["NL123456789B01", "US123456", "XX999"])
def test_icp_needs_a_vat_number_from_another_member_state(vat_number):
    order = make_order(country="BE", vat_number=vat_number, lines=_zero_rated_lines())
    with pytest.raises(BookingRefused) as refused:
        decide_treatment(order)
    assert refused.value.reason_code == "icp_invalid_vat_number"
    assert refused.value.params["vat_number"] == vat_number


def test_eu_business_charged_vat_is_booked_with_dutch_vat():
    order = make_order(country="DE", company_name="GmbH", vat_number="DE123456789")
    decision = decide_treatment(order)
    assert decision.treatment is VatTreatment.DOMESTIC
    assert decision.vat_country == "NL"


def test_outside_the_eu_without_vat_is_export():
    order = make_order(country="US", lines=_zero_rated_lines())
    assert decide_treatment(order).treatment is VatTreatment.EXPORT


def test_outside_the_eu_with_vat_charged_is_booked_as_invoiced():
    decision = decide_treatment(make_order(country="CH"))
    assert decision.treatment is VatTreatment.DOMESTIC
    assert decision.vat_country == "NL"


@pytest.mark.parametrize(
    ("country", "postal_code"),
    [("ES", "35001"), ("ES", "E-38001"), ("FR", "97400"), ("FI", "AX-22100"), ("DE", "27498")],
)
def test_territories_outside_the_eu_vat_area_are_export(country, postal_code):
    order = make_order(
        lines=_zero_rated_lines(),
        shipping_address=Address(postal_code=postal_code, country_code=country),
    )
    assert decide_treatment(order).treatment is VatTreatment.EXPORT


def test_mainland_spain_is_in_the_eu():
    order = make_order(shipping_address=Address(postal_code="28001", country_code="ES"))
    assert decide_treatment(order).treatment is VatTreatment.OSS


def test_monaco_is_france_for_vat():
    order = make_order(country="MC")
    decision = decide_treatment(order)
    assert (decision.treatment, decision.country_code) == (VatTreatment.OSS, "FR")


def test_seller_outside_the_eu_is_a_programming_error():
    with pytest.raises(ValueError, match="seller_country"):
        decide_treatment(make_order(), seller_country="US")
