"""Read a UBL 2.1 Invoice or CreditNote back: the figures a ledger's read-back check compares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from lxml import etree

from .model import DocumentKind, Vat, VatCategory
from .namespaces import CREDIT_NOTE_NS, INVOICE_NS, path
from .totals import ZERO, Totals, VatBreakdown

_ROOTS = {
    f"{{{INVOICE_NS}}}Invoice": DocumentKind.INVOICE,
    f"{{{CREDIT_NOTE_NS}}}CreditNote": DocumentKind.CREDIT_NOTE,
}


def safe_parser() -> etree.XMLParser:
    """No entity expansion, no DTD or network fetches: files come from outside Koppel."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=False
    )


def parse(xml: bytes) -> etree._Element:
    try:
        return etree.fromstring(xml, parser=safe_parser())
    except etree.XMLSyntaxError as error:
        raise ValueError(f"not well-formed XML: {error}") from None


@dataclass(frozen=True)
class BuyerSummary:
    legal_name: str | None  # BT-44, PartyLegalEntity/RegistrationName
    trading_name: str | None  # PartyName/Name (the company, when the writer set one)
    contact_name: str | None
    email: str | None
    vat_number: str | None
    kvk_number: str | None
    country: str | None


@dataclass(frozen=True)
class ReadBack:
    kind: DocumentKind
    number: str
    issue_date: date
    currency: str
    order_reference: str | None
    buyer_reference: str | None
    invoice_reference: str | None
    totals: Totals
    vat: tuple[VatBreakdown, ...]
    buyer: BuyerSummary


def _text(node: etree._Element, prefixed: str) -> str | None:
    found = node.find(path(prefixed))
    if found is None or found.text is None:
        return None
    return found.text.strip()


def _required(node: etree._Element, prefixed: str) -> str:
    value = _text(node, prefixed)
    if value is None:
        raise ValueError(f"missing {prefixed}")
    return value


def _amount(node: etree._Element, prefixed: str, *, default: Decimal | None = None) -> Decimal:
    value = _text(node, prefixed)
    if value is None:
        if default is None:
            raise ValueError(f"missing {prefixed}")
        return default
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{prefixed} is not a number: {value!r}") from None


def _buyer(root: etree._Element) -> BuyerSummary:
    party = root.find(path("cac:AccountingCustomerParty/cac:Party"))
    if party is None:
        raise ValueError("missing cac:AccountingCustomerParty/cac:Party")
    vat_number = None
    for scheme in party.iterfind(path("cac:PartyTaxScheme")):
        if (_text(scheme, "cac:TaxScheme/cbc:ID") or "").upper() == "VAT":
            vat_number = _text(scheme, "cbc:CompanyID")
    return BuyerSummary(
        legal_name=_text(party, "cac:PartyLegalEntity/cbc:RegistrationName"),
        trading_name=_text(party, "cac:PartyName/cbc:Name"),
        contact_name=_text(party, "cac:Contact/cbc:Name"),
        email=_text(party, "cac:Contact/cbc:ElectronicMail"),
        vat_number=vat_number,
        kvk_number=_text(party, "cac:PartyLegalEntity/cbc:CompanyID"),
        country=_text(party, "cac:PostalAddress/cac:Country/cbc:IdentificationCode"),
    )


def _vat(root: etree._Element) -> tuple[Decimal, tuple[VatBreakdown, ...]]:
    tax_total = root.find(path("cac:TaxTotal"))
    if tax_total is None:
        raise ValueError("missing cac:TaxTotal")
    breakdown = []
    for sub in tax_total.iterfind(path("cac:TaxSubtotal")):
        category = _required(sub, "cac:TaxCategory/cbc:ID")
        try:
            vat = Vat(VatCategory(category), _amount(sub, "cac:TaxCategory/cbc:Percent"))
        except ValueError as error:
            raise ValueError(f"unsupported VAT category {category!r}: {error}") from None
        breakdown.append(
            VatBreakdown(
                vat=vat,
                taxable_amount=_amount(sub, "cbc:TaxableAmount"),
                tax_amount=_amount(sub, "cbc:TaxAmount"),
                exemption_reason=_text(sub, "cac:TaxCategory/cbc:TaxExemptionReason"),
                exemption_reason_code=_text(sub, "cac:TaxCategory/cbc:TaxExemptionReasonCode"),
            )
        )
    return _amount(tax_total, "cbc:TaxAmount"), tuple(breakdown)


def read_totals(xml: bytes) -> ReadBack:
    """Kind, number, references, totals, VAT per (category, rate) and buyer of a document."""
    root = parse(xml)
    kind = _ROOTS.get(root.tag)
    if kind is None:
        raise ValueError(f"not a UBL 2.1 Invoice or CreditNote: root element {root.tag}")
    tax, breakdown = _vat(root)
    monetary = root.find(path("cac:LegalMonetaryTotal"))
    if monetary is None:
        raise ValueError("missing cac:LegalMonetaryTotal")
    totals = Totals(
        line_extension=_amount(monetary, "cbc:LineExtensionAmount"),
        allowances=_amount(monetary, "cbc:AllowanceTotalAmount", default=ZERO),
        charges=_amount(monetary, "cbc:ChargeTotalAmount", default=ZERO),
        tax_exclusive=_amount(monetary, "cbc:TaxExclusiveAmount"),
        tax=tax,
        tax_inclusive=_amount(monetary, "cbc:TaxInclusiveAmount"),
        prepaid=_amount(monetary, "cbc:PrepaidAmount", default=ZERO),
        payable=_amount(monetary, "cbc:PayableAmount"),
    )
    try:
        issue_date = date.fromisoformat(_required(root, "cbc:IssueDate"))
    except ValueError as error:
        raise ValueError(f"cbc:IssueDate: {error}") from None
    return ReadBack(
        kind=kind,
        number=_required(root, "cbc:ID"),
        issue_date=issue_date,
        currency=_required(root, "cbc:DocumentCurrencyCode"),
        order_reference=_text(root, "cac:OrderReference/cbc:ID"),
        buyer_reference=_text(root, "cbc:BuyerReference"),
        invoice_reference=_text(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"),
        totals=totals,
        vat=breakdown,
        buyer=_buyer(root),
    )
