"""The writer: XML shape, input checks, and BR-CO-17 as the official XSLT applies it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from koppel_ubl import (
    PROFILE_ID,
    Line,
    PaymentMeans,
    Specification,
    Validator,
    Vat,
    VatCategory,
    VatSubtotal,
    br_co_17_allows,
    read_totals,
    write_credit_note,
    write_document,
    write_invoice,
)
from koppel_ubl import totals as totals_module
from koppel_ubl.namespaces import CAC, CBC, INVOICE_NS, path
from lxml import etree

D = Decimal


def _with_vat(doc, *subtotals: VatSubtotal):
    return replace(doc, vat_subtotals=subtotals)


def test_invoice_declares_ubl_namespaces_nlcius_customization_and_profile(samples) -> None:
    xml = write_invoice(samples.base_invoice())
    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = etree.fromstring(xml)
    assert root.tag == f"{{{INVOICE_NS}}}Invoice"
    assert root.nsmap == {None: INVOICE_NS, "cac": CAC, "cbc": CBC}
    assert root.findtext(path("cbc:CustomizationID")) == Specification.NLCIUS.value
    assert root.findtext(path("cbc:ProfileID")) == PROFILE_ID
    assert root.findtext(path("cbc:InvoiceTypeCode")) == "380"


def test_special_characters_are_escaped_by_the_xml_library(samples) -> None:
    buyer = replace(samples.nl_business, company='Smit & Zonen "De Ster" <B.V.>')
    xml = write_invoice(samples.base_invoice(buyer=buyer))
    assert b"Smit &amp; Zonen" in xml
    assert read_totals(xml).buyer.legal_name == 'Smit & Zonen "De Ster" <B.V.>'


def test_one_rate_written_as_21_or_21_00_is_one_vat_subtotal(samples) -> None:
    s21_00 = Vat(VatCategory.STANDARD, D("21.00"))
    doc = samples.base_invoice()
    lines = (*doc.lines, Line("3", "Inkt", D(1), D("5.00"), D("5.00"), s21_00))
    doc = replace(doc, lines=lines)
    doc = _with_vat(doc, VatSubtotal(s21_00, D("11.30")), doc.vat_subtotals[1])
    back = read_totals(write_invoice(doc))
    assert [(str(v.vat), v.taxable_amount) for v in back.vat] == [
        ("S 21%", D("53.80")),
        ("S 9%", D("14.55")),
    ]


def test_kind_mismatch_between_record_and_writer_is_refused(samples) -> None:
    with pytest.raises(ValueError, match="write_invoice got a credit_note"):
        write_invoice(samples.credit_note())
    with pytest.raises(ValueError, match="write_credit_note got a invoice"):
        write_credit_note(samples.base_invoice())


def test_float_money_is_refused_at_construction(samples) -> None:
    with pytest.raises(TypeError, match="must be a Decimal"):
        Line("9", "x", D(1), 1.5, D("1.50"), samples.S21)  # type: ignore[arg-type]


def test_amount_with_three_decimals_is_refused_not_rounded(samples) -> None:
    with pytest.raises(ValueError, match=r"1\.005 has more than two decimals"):
        Line("9", "x", D(1), D("1.005"), D("1.005"), samples.S21)


def test_missing_vat_subtotal_for_a_used_rate_is_refused(samples) -> None:
    doc = _with_vat(samples.base_invoice(), VatSubtotal(samples.S21, D("10.25")))
    with pytest.raises(ValueError, match=r"no VAT subtotal given for S 9%"):
        write_invoice(doc)


def test_vat_subtotal_without_any_part_is_refused(samples) -> None:
    doc = samples.base_invoice()
    extra = VatSubtotal(Vat(VatCategory.STANDARD, D("19")), D("0.00"))
    with pytest.raises(ValueError, match=r"S 19% has no line"):
        write_invoice(_with_vat(doc, *doc.vat_subtotals, extra))


def test_two_subtotals_for_one_rate_are_refused(samples) -> None:
    doc = samples.base_invoice()
    twice = VatSubtotal(Vat(VatCategory.STANDARD, D("21.0")), D("10.25"))
    with pytest.raises(ValueError, match="two VAT subtotals for S 21%"):
        write_invoice(_with_vat(doc, *doc.vat_subtotals, twice))


def test_vat_on_an_intra_community_supply_is_refused_br_ic_09(samples) -> None:
    doc = _with_vat(samples.icp_invoice(), VatSubtotal(samples.K0, D("0.01")))
    with pytest.raises(ValueError, match=r"BR-IC-09.*K 0%.*0\.01"):
        write_invoice(doc)


def test_a_rate_on_an_intra_community_supply_is_refused(samples) -> None:
    k21 = Vat(VatCategory.INTRA_COMMUNITY, D("21"))
    doc = samples.icp_invoice()
    doc = replace(
        doc,
        lines=(replace(doc.lines[0], vat=k21),),
        charges=(replace(doc.charges[0], vat=k21),),
        vat_subtotals=(VatSubtotal(k21, D("0.00")),),
    )
    with pytest.raises(ValueError, match="BR-IC-05/06/07"):
        write_invoice(doc)


def test_credit_note_needs_the_invoice_it_corrects(samples) -> None:
    with pytest.raises(ValueError, match="invoice_reference"):
        replace(samples.credit_note(), invoice_reference=None)


def test_credit_note_due_date_goes_into_payment_means_and_validates(
    samples, validator: Validator
) -> None:
    xml = write_credit_note(replace(samples.credit_note(), due_date=date(2026, 12, 11)))
    root = etree.fromstring(xml)
    assert root.findtext(path("cac:PaymentMeans/cbc:PaymentDueDate")) == "2026-12-11"
    assert validator.validate(xml).problems == ()


def test_credit_note_due_date_without_payment_means_is_refused(samples) -> None:
    doc = replace(samples.credit_note(), due_date=date(2026, 12, 11), payment_means=None)
    with pytest.raises(ValueError, match="PaymentDueDate"):
        write_credit_note(doc)


def test_credit_transfer_without_any_iban_is_refused_br_61(samples) -> None:
    doc = samples.base_invoice(seller=replace(samples.seller, iban=None))
    with pytest.raises(ValueError, match="BR-61"):
        write_invoice(doc)
    with_iban = replace(doc, payment_means=PaymentMeans("58", iban="NL02RABO0123456789"))
    root = etree.fromstring(write_invoice(with_iban))
    iban = root.findtext(path("cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID"))
    assert iban == "NL02RABO0123456789"


# --- BR-CO-17: the shop's VAT per rate against taxable × rate ---------------------------
# base_invoice: 21 % on a taxable 48.80 -> 10.248 -> 10.25 rounded to cents.


@pytest.mark.parametrize("vat", ["9.26", "10.24", "10.26", "11.24"])
def test_vat_less_than_one_euro_off_is_written_as_given_and_passes(
    vat: str, samples, validator: Validator
) -> None:
    doc = samples.base_invoice()
    doc = _with_vat(doc, VatSubtotal(samples.S21, D(vat)), doc.vat_subtotals[1])
    xml = write_invoice(doc)
    assert read_totals(xml).vat[0].tax_amount == D(vat)
    assert validator.validate(xml).problems == ()


@pytest.mark.parametrize("vat", ["9.25", "11.25", "0.00"])
def test_vat_one_euro_or_more_off_is_refused_naming_rule_rate_and_amounts(
    vat: str, samples
) -> None:
    doc = samples.base_invoice()
    doc = _with_vat(doc, VatSubtotal(samples.S21, D(vat)), doc.vat_subtotals[1])
    with pytest.raises(ValueError) as refused:
        write_invoice(doc)
    message = str(refused.value)
    for part in ("BR-CO-17", "S 21%", f"VAT amount {vat}", "48.80", "10.25", "9.26 to 11.24"):
        assert part in message


# (taxable, rate, vat): around the 1.00 limit, the half-up rounding (0.50 × 9 % = 0.045),
# and a VAT amount with the wrong sign, which the rule cannot see (it compares abs values).
CASES = [
    ("48.80", "21", "9.26", True),
    ("48.80", "21", "9.25", False),
    ("48.80", "21", "11.24", True),
    ("48.80", "21", "11.25", False),
    ("0.50", "9", "1.04", True),  # 1.04 - 0.05 = 0.99; banker's rounding (0.04) would refuse
    ("0.50", "9", "1.05", False),
    ("-10.00", "21", "2.10", True),
    ("-10.00", "21", "-3.09", True),
    ("-10.00", "21", "-3.10", False),
]


@pytest.mark.parametrize(("taxable", "rate", "vat", "accepted"), CASES)
def test_writer_tolerance_agrees_with_the_official_br_co_17(
    taxable: str, rate: str, vat: str, accepted: bool, samples, validator: Validator, monkeypatch
) -> None:
    # Let the writer emit whatever the caller gives, then ask the official XSLT.
    monkeypatch.setattr(totals_module, "_check_amount", lambda *_args: None)
    rated = Vat(VatCategory.STANDARD, D(rate))
    quantity = D(-1) if D(taxable) < 0 else D(1)
    line = Line("1", "Artikel", quantity, abs(D(taxable)), D(taxable), rated)
    doc = replace(
        samples.base_invoice(),
        lines=(line,),
        charges=(),
        allowances=(),
        vat_subtotals=(VatSubtotal(rated, D(vat)),),
    )
    report = validator.validate(write_document(doc))
    assert br_co_17_allows(D(taxable), D(rate), D(vat)) is accepted
    assert ("BR-CO-17" in report.fatal_ids) is not accepted
    assert ("BR-S-09" in report.fatal_ids) is not accepted
