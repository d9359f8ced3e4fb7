"""Hand-made documents per VAT situation against the official XSD, EN 16931 and NLCIUS rules,
and documents broken on purpose that must fail with the right rule id."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from koppel_ubl import (
    Document,
    Specification,
    Validator,
    read_totals,
    write_credit_note,
    write_document,
    write_invoice,
)
from koppel_ubl.namespaces import path, qname
from lxml import etree

SCENARIOS = ("base_invoice", "icp_invoice", "export_invoice", "oss_invoice", "credit_note")


def _edit(xml: bytes, prefixed_path: str, text: str) -> bytes:
    root = etree.fromstring(xml)
    node = root.find(path(prefixed_path))
    assert node is not None, prefixed_path
    node.text = text
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_vat_situation_passes_xsd_en16931_and_nlcius_without_any_finding(
    scenario: str, samples, validator: Validator
) -> None:
    doc: Document = getattr(samples, scenario)()
    report = validator.validate(write_document(doc))
    assert report.checked == ("xsd", "en16931", "nlcius")
    assert report.problems == (), "\n".join(map(str, report.problems))
    assert report.ok


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_read_back_gives_the_numbers_and_parties_that_were_written(scenario: str, samples) -> None:
    doc: Document = getattr(samples, scenario)()
    back = read_totals(write_document(doc))
    assert (back.kind, back.number, back.order_reference) == (
        doc.kind,
        doc.number,
        doc.order_reference,
    )
    assert back.invoice_reference == doc.invoice_reference
    assert [(v.vat, v.tax_amount) for v in back.vat] == [
        (s.vat, s.tax_amount) for s in doc.vat_subtotals
    ]
    assert back.totals.tax == sum(s.tax_amount for s in doc.vat_subtotals)
    assert back.buyer.vat_number == doc.buyer.vat_number
    assert back.buyer.legal_name == (doc.buyer.company or doc.buyer.name)
    assert back.buyer.email == doc.buyer.email


def test_domestic_invoice_totals_follow_from_lines_charges_and_allowance(samples) -> None:
    back = read_totals(write_invoice(samples.base_invoice()))
    totals = back.totals
    # 49.90 + 13.50 lines; 3.90 + 1.05 shipping; 5.00 coupon; VAT 10.25 + 1.31
    assert totals.line_extension == Decimal("63.40")
    assert (totals.charges, totals.allowances) == (Decimal("4.95"), Decimal("5.00"))
    assert totals.tax_exclusive == Decimal("63.35")
    assert totals.tax == Decimal("11.56")
    assert totals.tax_inclusive == totals.payable == Decimal("74.91")
    assert [v.taxable_amount for v in back.vat] == [Decimal("48.80"), Decimal("14.55")]


def test_paid_webshop_order_has_nothing_left_to_pay(samples) -> None:
    totals = read_totals(write_invoice(samples.icp_invoice())).totals
    assert totals.prepaid == totals.tax_inclusive == Decimal("166.75")
    assert totals.payable == Decimal("0.00")


def test_credit_note_references_the_invoice_it_corrects(samples) -> None:
    xml = write_credit_note(samples.credit_note())
    root = etree.fromstring(xml)
    assert etree.QName(root).localname == "CreditNote"
    ref = root.findtext(path("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"))
    assert ref == "2026-000123"
    assert root.find(path("cac:CreditNoteLine/cbc:CreditedQuantity")) is not None


def test_broken_tax_inclusive_total_fails_br_co_15(samples, validator: Validator) -> None:
    xml = write_invoice(samples.base_invoice())
    broken = _edit(xml, "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount", "74.92")
    report = validator.validate(broken)
    assert not report.ok
    assert "BR-CO-15" in report.fatal_ids


def test_broken_line_total_fails_br_co_10(samples, validator: Validator) -> None:
    xml = write_invoice(samples.base_invoice())
    broken = _edit(xml, "cac:LegalMonetaryTotal/cbc:LineExtensionAmount", "63.41")
    assert "BR-CO-10" in validator.validate(broken).fatal_ids


def test_icp_without_buyer_vat_number_fails_br_ic_02(samples, validator: Validator) -> None:
    doc = samples.icp_invoice()
    doc = replace(doc, buyer=replace(doc.buyer, vat_number=None))
    report = validator.validate(write_invoice(doc))
    assert "BR-IC-02" in report.fatal_ids


def test_seller_without_kvk_number_fails_nlcius_br_nl_1(samples, validator: Validator) -> None:
    doc = samples.base_invoice(seller=replace(samples.seller, kvk_number=None))
    report = validator.validate(write_invoice(doc))
    assert report.fatal_ids == ("BR-NL-1",)
    assert {p.source for p in report.problems} == {"nlcius"}


def test_seller_without_vat_number_fails_br_s_02(samples, validator: Validator) -> None:
    doc = samples.base_invoice(seller=replace(samples.seller, vat_number=None))
    report = validator.validate(write_invoice(doc))
    assert "BR-S-02" in report.fatal_ids


def test_nlcius_rejects_a_dutch_consumer_without_kvk_number_br_nl_10(
    samples, validator: Validator
) -> None:
    doc = samples.base_invoice(buyer=samples.nl_consumer)
    report = validator.validate(write_invoice(doc))
    assert report.fatal_ids == ("BR-NL-10",)


def test_plain_en16931_document_for_a_dutch_consumer_passes_and_skips_nlcius(
    samples, validator: Validator
) -> None:
    doc = samples.base_invoice(buyer=samples.nl_consumer, specification=Specification.EN16931)
    report = validator.validate(write_invoice(doc))
    assert report.checked == ("xsd", "en16931")
    assert report.problems == (), "\n".join(map(str, report.problems))


def test_nlcius_rules_flag_a_document_that_does_not_claim_nlcius(
    samples, validator: Validator
) -> None:
    doc = samples.base_invoice(specification=Specification.EN16931)
    report = validator.validate(write_invoice(doc), nlcius=True)
    assert "SI-V20-INV-R000" in report.fatal_ids


def test_schema_catches_elements_out_of_order(samples, validator: Validator) -> None:
    root = etree.fromstring(write_invoice(samples.base_invoice()))
    due = root.find(path("cbc:DueDate"))
    root.remove(due)
    root.find(path("cbc:InvoiceTypeCode")).addnext(due)  # DueDate belongs before it
    problems = validator.validate_xsd(etree.tostring(root))
    assert [p.rule_id for p in problems] == ["XSD"]
    assert "DueDate" in problems[0].text


def test_schema_catches_unknown_elements_deep_in_a_party(samples, validator: Validator) -> None:
    root = etree.fromstring(write_invoice(samples.base_invoice()))
    party = root.find(path("cac:AccountingSupplierParty/cac:Party"))
    etree.SubElement(party, qname("cbc:Bogus"))
    assert validator.validate_xsd(etree.tostring(root))[0].rule_id == "XSD"


def test_not_well_formed_xml_is_one_fatal_xml_problem(validator: Validator) -> None:
    report = validator.validate(b"<Invoice>&</Invoice>")
    assert report.fatal_ids == ("XML",)
    assert not report.ok


def test_nlcius_warnings_do_not_make_a_document_fail(samples, validator: Validator) -> None:
    doc = samples.base_invoice()
    # NLCIUS advises against reason codes. BR-NL-34 (charges) shares its context with
    # BR-NL-32 in SI-UBL 2.0.3.12, and Schematron fires only the first matching rule,
    # so every coded allowance *or charge* is reported as BR-NL-32.
    coded_allowance = replace(doc.allowances[0], reason_code="95")
    coded_charges = tuple(replace(charge, reason_code="FC") for charge in doc.charges)
    doc = replace(doc, allowances=(coded_allowance,), charges=coded_charges)
    report = validator.validate(write_invoice(doc))
    assert report.ok
    assert report.fatal_ids == ()
    assert [(p.rule_id, p.flag) for p in report.problems] == [("BR-NL-32", "warning")] * 3
