"""Order → UBL document per VAT situation, each validated with the official rules
(XSD, EN 16931, and NLCIUS where the document claims it): no fatal finding, and the
document's total and VAT per rate are the order's to the cent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from koppel_contracts import Charge, OrderDiscount
from koppel_ledger import Refusal
from koppel_ledger_asperion.context import context_for_order
from koppel_ledger_asperion.demo import demo_booking, demo_seller
from koppel_ledger_asperion.mapping import build_document
from koppel_testkit import charge, line, make_order
from koppel_ubl import (
    DocumentKind,
    Specification,
    VatCategory,
    read_totals,
    validate,
    write_document,
)

from .asperion_helpers import CONNECTION, demo_settings, invoice_of, plan_of

D = Decimal


def written(document) -> tuple[bytes, object]:
    xml = write_document(document)
    report = validate(xml)
    assert report.ok, "\n".join(map(str, report.problems))
    return xml, report


def vat_of(xml: bytes) -> dict[tuple[str, Decimal], Decimal]:
    return {(v.vat.category.value, v.vat.rate): v.tax_amount for v in read_totals(xml).vat}


def test_domestic_mixed_rates_with_shipping_and_a_coupon_match_the_order_to_the_cent() -> None:
    order = make_order(
        lines=[line("Koffiebonen 1kg", "2", "24.95", "9"), line("Mok", "3", "12.10", "21")],
        shipping=charge("Verzending", "6.95", "21"),
        discounts=[
            OrderDiscount(
                description="Kortingscode WELKOM",
                amount_incl_vat=D("5.00"),
                amount_excl_vat=D("4.35"),
            )
        ],
    )
    settings = demo_settings()
    xml, report = written(invoice_of(order, settings))
    back = read_totals(xml)
    plan = plan_of(order, settings)
    assert back.totals.tax_inclusive == order.totals.total_incl_vat
    assert back.totals.tax == plan.total_vat
    assert vat_of(xml) == {("S", rate): vat for rate, vat in plan.vat_per_rate().items()}
    assert back.totals.allowances > 0 and back.totals.charges > 0, "coupon and shipping"
    # A paid webshop order: everything prepaid, nothing left to pay.
    assert back.totals.prepaid == back.totals.tax_inclusive and back.totals.payable == 0
    assert back.order_reference == order.order_number
    # A Dutch consumer cannot be an NLCIUS buyer (BR-NL-10): plain EN 16931.
    assert report.checked == ("xsd", "en16931")


def test_shipping_without_a_rate_follows_the_goods_as_charges_per_rate() -> None:
    order = make_order(
        lines=[line("Koffiebonen", "1", "49.90", "21"), line("Thee", "1", "13.50", "9")],
        shipping=Charge(
            description="Verzending", amount_incl_vat=D("5.84"), amount_excl_vat=D("4.95")
        ),
    )
    xml, _ = written(invoice_of(order, demo_settings()))
    back = read_totals(xml)
    assert back.totals.tax_inclusive == order.totals.total_incl_vat
    assert {v.vat.rate for v in back.vat} == {D(21), D(9)}
    assert back.totals.charges > 0


def test_icp_is_category_k_with_the_buyers_vat_number_and_an_exemption_reason() -> None:
    order = make_order(
        country="DE",
        company_name="Kaffeehaus GmbH",
        vat_number="DE123456789",
        lines=[line("Espressomachine", "1", "800.00", "0")],
        shipping=charge("Versand", "25.00", "0"),
    )
    xml, report = written(invoice_of(order, demo_settings()))
    back = read_totals(xml)
    [vat] = back.vat
    assert (vat.vat.category, vat.tax_amount) == (VatCategory.INTRA_COMMUNITY, D("0.00"))
    assert "DE123456789" in (vat.exemption_reason or "")
    assert back.buyer.vat_number == "DE123456789"
    assert back.totals.tax_inclusive == order.totals.total_incl_vat == D("825.00")
    assert report.checked == ("xsd", "en16931", "nlcius"), "a buyer abroad: NLCIUS holds"


def test_export_is_category_g() -> None:
    order = make_order(country="US", lines=[line("Koffiebonen", "4", "20.00", "0")])
    xml, _ = written(invoice_of(order, demo_settings()))
    [vat] = read_totals(xml).vat
    assert vat.vat.category == VatCategory.EXPORT and vat.exemption_reason


def test_oss_is_the_destination_rate_with_the_destination_as_delivery_country() -> None:
    order = make_order(country="DE", lines=[line("Kaffeebohnen", "2", "17.85", "19")])
    document = invoice_of(order, demo_settings())
    xml, _ = written(document)
    assert vat_of(xml) == {("S", D(19)): D("5.70")}
    assert document.delivery is not None and document.delivery.address.country == "DE"
    assert any("OSS" in note for note in document.notes)
    assert read_totals(xml).totals.tax_inclusive == order.totals.total_incl_vat


def test_a_credit_note_mirrors_the_invoice_and_references_it() -> None:
    order = make_order(
        lines=[line("Koffiebonen", "2", "24.95", "9"), line("Mok", "1", "12.10", "21")],
        shipping=charge("Verzending", "4.95", "21"),
    )
    settings = demo_settings()
    context = context_for_order(order, settings, order_id=f"{CONNECTION}:1001")
    credit = build_document(
        plan_of(order, settings),
        context.credit_for("WEB-1001", date(2026, 11, 25)),
        number="WEB-1001-C",
        options=settings.ledger.asperion,
        language=settings.merchant.language,
    )
    xml, _ = written(credit)
    back = read_totals(xml)
    assert back.kind == DocumentKind.CREDIT_NOTE
    assert back.invoice_reference == "WEB-1001"
    assert back.totals.tax_inclusive == order.totals.total_incl_vat
    assert back.totals.prepaid == 0, "a credit note is paid back, not prepaid"


def test_english_merchant_texts_are_english() -> None:
    document = invoice_of(make_order(), demo_settings(language="en"))
    assert document.notes[0].startswith("Order ")
    assert document.payment_terms and document.payment_terms.startswith("Paid")


def test_an_unpaid_order_has_a_due_date_after_the_payment_term() -> None:
    order = make_order(paid=False)
    document = invoice_of(order, demo_settings(payment_term_days=30))
    xml, _ = written(document)
    assert document.due_date == date(2026, 12, 20)
    assert read_totals(xml).totals.payable == order.totals.total_incl_vat


def test_the_year_prefix_does_not_change_the_order_reference() -> None:
    from koppel_ledger_asperion.adapter import base_number

    assert base_number("10330", 2023, True) == "202310330"
    assert base_number("WEB-7", 2026, True) == "2026-WEB-7"
    assert base_number("10330", 2023, False) == "10330"


def test_a_seller_without_kvk_number_writes_plain_en16931_even_for_a_buyer_abroad() -> None:
    order = make_order(country="BE", lines=[line("Koffie", "1", "12.10", "21")])
    settings = demo_settings(seller=demo_seller(kvk_number=None))
    document = invoice_of(order, settings)
    assert document.specification is Specification.EN16931
    written(document)


@pytest.mark.parametrize(
    ("code", "reason_code"),
    [
        ("Z", "vat_code_rate_mismatch"),
        ("hoog", "unknown_vat_category"),
        ("K", "vat_category_treatment"),
    ],
)
def test_a_mapping_the_rules_cannot_take_is_refused_before_writing(code, reason_code) -> None:
    booking = demo_booking()
    vat = [
        m.model_copy(update={"vat_code": code}) if m.vat_rate == 9 else m
        for m in booking.vat_accounts
    ]
    settings = demo_settings(booking=booking.model_copy(update={"vat_accounts": vat}))
    if code == "K":  # K for 9 % is refused for its rate first; K at 0 % domestic instead
        vat = [
            m.model_copy(update={"vat_code": "K"}) if m.vat_rate == 0 else m
            for m in booking.vat_accounts
        ]
        settings = demo_settings(booking=booking.model_copy(update={"vat_accounts": vat}))
        order = make_order(lines=[line("Boek", "1", "10.00", "0")])
    else:
        order = make_order()
    with pytest.raises(Refusal) as refused:
        invoice_of(order, settings)
    assert refused.value.reason_code == reason_code


def test_an_order_without_a_complete_billing_address_is_refused_with_its_number() -> None:
    order = make_order()
    order = order.model_copy(
        update={"billing_address": order.billing_address.model_copy(update={"city": None})}
    )
    with pytest.raises(Refusal) as refused:
        invoice_of(order, demo_settings())
    assert refused.value.reason_code == "buyer_address_incomplete"
    assert refused.value.params["order_number"] == order.order_number
