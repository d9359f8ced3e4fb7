"""Document totals and the VAT breakdown, and the check of the caller's VAT against BR-CO-17.

The caller's VAT per (category, rate) is the shop's figure and is written as given: the
shop may have rounded per line, so it can differ by a cent or more from taxable × rate.
What EN 16931 accepts is decided here by the rule's own XPath, copied into Decimal
arithmetic (EN 16931 UBL schematron 1.3.15, identical in SI-UBL 2.0.3.12)::

    BR-CO-17 (context cac:TaxTotal/cac:TaxSubtotal), with p = the category's Percent:
      round(p) = 0  and round(TaxAmount) = 0
      or round(p) != 0 and abs(TaxAmount) - 1 < E and abs(TaxAmount) + 1 > E
         where E = round(abs(TaxableAmount) * (p div 100) * 10 * 10) div 100

XPath `round` takes halves up (towards +infinity), so E is taxable × rate rounded half-up
to cents. The tolerance is therefore **strictly less than one currency unit** (EUR 1.00)
on the absolute amounts: at 21 % on 100.00, any VAT from 20.01 to 21.99 passes and 20.00
or 22.00 fail. BR-S-09 (category S) is the same test. The rule compares absolute values,
so it does not notice a VAT amount whose sign differs from the taxable amount's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Context, Decimal, localcontext

from .model import CENT, Document, Vat, VatCategory, VatSubtotal

ZERO = Decimal("0.00")
ONE = Decimal(1)
# EN 16931 rule-id infix per category: BR-S-.., BR-Z-.., BR-E-.., BR-AE-.., BR-IC-.., BR-G-..
RULE_PREFIX = {
    VatCategory.STANDARD: "BR-S",
    VatCategory.ZERO_RATED: "BR-Z",
    VatCategory.EXEMPT: "BR-E",
    VatCategory.REVERSE_CHARGE: "BR-AE",
    VatCategory.INTRA_COMMUNITY: "BR-IC",
    VatCategory.EXPORT: "BR-G",
}
# Enough digits for any amount × rate; independent of the caller's decimal context.
_CONTEXT = Context(prec=60)


@dataclass(frozen=True)
class VatBreakdown:
    """One written `cac:TaxSubtotal` (BG-23)."""

    vat: Vat
    taxable_amount: Decimal
    tax_amount: Decimal
    exemption_reason: str | None = None
    exemption_reason_code: str | None = None


@dataclass(frozen=True)
class Totals:
    """`cac:LegalMonetaryTotal` plus the document's VAT total (BT-106..BT-115)."""

    line_extension: Decimal
    allowances: Decimal
    charges: Decimal
    tax_exclusive: Decimal
    tax: Decimal
    tax_inclusive: Decimal
    prepaid: Decimal
    payable: Decimal


def _xpath_round(value: Decimal) -> Decimal:
    """fn:round on xs:decimal: nearest integer, halves towards positive infinity."""
    return (value + Decimal("0.5")).to_integral_value(rounding=ROUND_FLOOR)


def br_co_17_expected(taxable: Decimal, rate: Decimal) -> Decimal:
    """E of BR-CO-17: abs(taxable) × rate / 100, rounded half-up to cents."""
    with localcontext(_CONTEXT):
        return _xpath_round(abs(taxable) * (rate / 100) * 100) / 100


def br_co_17_allows(taxable: Decimal, rate: Decimal, tax: Decimal) -> bool:
    """True when BR-CO-17 (and BR-S-09) of the official XSLT accept this VAT amount."""
    with localcontext(_CONTEXT):
        if _xpath_round(rate) == 0:
            return _xpath_round(tax) == 0
        expected = br_co_17_expected(taxable, rate)
        return abs(tax) - ONE < expected < abs(tax) + ONE


def taxable_amounts(doc: Document) -> dict[Vat, Decimal]:
    """Σ lines + charges − allowances per (category, rate), in order of first use."""
    taxable: dict[Vat, Decimal] = {}
    for line in doc.lines:
        taxable[line.vat] = taxable.get(line.vat, ZERO) + line.net_amount
    for charge in doc.charges:
        taxable[charge.vat] = taxable.get(charge.vat, ZERO) + charge.amount
    for allowance in doc.allowances:
        taxable[allowance.vat] = taxable.get(allowance.vat, ZERO) - allowance.amount
    return taxable


def _check_rates(used: Iterable[Vat]) -> None:
    for vat in used:
        prefix = RULE_PREFIX[vat.category]
        if vat.category.requires_zero_rate and vat.rate != 0:
            raise ValueError(
                f"{prefix}-05/06/07: VAT category {vat.category.value} must have rate 0, got {vat}"
            )
        if not vat.category.requires_zero_rate and vat.rate <= 0:
            raise ValueError(f"{prefix}-05/06/07: VAT category S needs a rate above 0, got {vat}")


def _check_amount(vat: Vat, taxable: Decimal, subtotal: VatSubtotal) -> None:
    tax = subtotal.tax_amount
    prefix = RULE_PREFIX[vat.category]
    if vat.category.requires_zero_rate:
        if tax != 0:
            raise ValueError(
                f"{prefix}-09: the VAT amount for {vat} must be 0.00, the caller gave {tax}"
            )
        return
    if not br_co_17_allows(taxable, vat.rate, tax):
        expected = br_co_17_expected(taxable, vat.rate)
        low, high = max(expected - ONE + CENT, ZERO), expected + ONE - CENT
        raise ValueError(
            f"BR-CO-17/{prefix}-09: the VAT amount {tax} for {vat} on a taxable amount of "
            f"{taxable} is not accepted: taxable × rate rounded to cents is {expected}, and "
            f"EN 16931 allows an absolute VAT amount less than 1.00 away from it "
            f"({low} to {high})"
        )


def vat_breakdown(doc: Document) -> tuple[VatBreakdown, ...]:
    """The TaxSubtotals to write: the caller's VAT, the computed taxable amounts.

    Raises ValueError naming the EN 16931 rule when the caller's VAT breakdown does not
    match the document's parts or its amounts fall outside what the rules accept.
    """
    taxable = taxable_amounts(doc)
    _check_rates(taxable)
    given: dict[Vat, VatSubtotal] = {}
    for subtotal in doc.vat_subtotals:
        if subtotal.vat in given:
            raise ValueError(f"BR-CO-18: two VAT subtotals for {subtotal.vat}")
        given[subtotal.vat] = subtotal
    missing = [str(vat) for vat in taxable if vat not in given]
    if missing:
        raise ValueError(
            f"BR-CO-18/BR-*-08: no VAT subtotal given for {', '.join(missing)}, which lines, "
            "allowances or charges use"
        )
    unused = [str(vat) for vat in given if vat not in taxable]
    if unused:
        raise ValueError(
            f"BR-*-08: VAT subtotal for {', '.join(unused)} has no line, allowance or charge"
        )
    result: list[VatBreakdown] = []
    for vat, subtotal in given.items():
        _check_amount(vat, taxable[vat], subtotal)
        result.append(
            VatBreakdown(
                vat=vat,
                taxable_amount=taxable[vat],
                tax_amount=subtotal.tax_amount,
                exemption_reason=subtotal.exemption_reason,
                exemption_reason_code=subtotal.exemption_reason_code,
            )
        )
    return tuple(result)


def compute_totals(doc: Document, breakdown: Iterable[VatBreakdown]) -> Totals:
    """BR-CO-10..16 from the parts; every input has whole cents, so the sums are exact."""
    line_extension = sum((line.net_amount for line in doc.lines), ZERO)
    allowances = sum((allowance.amount for allowance in doc.allowances), ZERO)
    charges = sum((charge.amount for charge in doc.charges), ZERO)
    tax_exclusive = line_extension - allowances + charges
    tax = sum((item.tax_amount for item in breakdown), ZERO)
    tax_inclusive = tax_exclusive + tax
    return Totals(
        line_extension=line_extension,
        allowances=allowances,
        charges=charges,
        tax_exclusive=tax_exclusive,
        tax=tax,
        tax_inclusive=tax_inclusive,
        prepaid=doc.prepaid_amount,
        payable=tax_inclusive - doc.prepaid_amount,
    )
