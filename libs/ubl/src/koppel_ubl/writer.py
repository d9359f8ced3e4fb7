"""Write a `Document` as UBL 2.1 XML (Invoice or CreditNote), elements in schema order.

Only elements that EN 16931 maps are written: the CEN UBL rules flag every other UBL
element (UBL-CR-*), and NLCIUS warns on a few optional ones (reason codes, BR-NL-32/34/35),
which are therefore written only when the caller gives them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from lxml import etree

from .model import (
    PROFILE_ID,
    Address,
    Allowance,
    Buyer,
    Charge,
    Document,
    DocumentKind,
    Line,
    Seller,
    Vat,
)
from .namespaces import CREDIT_NOTE_NS, INVOICE_NS, NSMAP, qname
from .totals import CENT, Totals, VatBreakdown, compute_totals, vat_breakdown

KVK_SCHEME = "0106"  # ISO 6523 ICD: Dutch Chamber of Commerce number
GTIN_SCHEME = "0160"
INVOICE_TYPE = "380"
CREDIT_NOTE_TYPE = "381"
PAYMENT_MEANS_NEEDING_ACCOUNT = {"30", "58"}  # credit transfers (EN 16931 BR-61)


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, qname(tag), attrib=attrs or None)
    if text is not None:
        element.text = text
    return element


def _amount(parent: etree._Element, tag: str, value: Decimal, currency: str) -> None:
    _el(parent, tag, str(value.quantize(CENT)), currencyID=currency)


def _decimal(value: Decimal) -> str:
    """A price or quantity without exponent notation ('1E+1' would not be an xs:decimal)."""
    return format(value, "f")


def _date(value: date) -> str:
    return value.isoformat()


def _address(parent: etree._Element, tag: str, address: Address) -> None:
    node = _el(parent, tag)
    _el(node, "cbc:StreetName", address.street)
    if address.additional_street:
        _el(node, "cbc:AdditionalStreetName", address.additional_street)
    _el(node, "cbc:CityName", address.city)
    _el(node, "cbc:PostalZone", address.postal_code)
    _el(_el(node, "cac:Country"), "cbc:IdentificationCode", address.country)


def _tax_scheme(parent: etree._Element) -> None:
    _el(_el(parent, "cac:TaxScheme"), "cbc:ID", "VAT")


def _seller(root: etree._Element, seller: Seller) -> None:
    party = _el(_el(root, "cac:AccountingSupplierParty"), "cac:Party")
    if seller.kvk_number:
        _el(party, "cbc:EndpointID", seller.kvk_number, schemeID=KVK_SCHEME)
    _el(_el(party, "cac:PartyName"), "cbc:Name", seller.name)
    _address(party, "cac:PostalAddress", seller.address)
    if seller.vat_number:
        scheme = _el(party, "cac:PartyTaxScheme")
        _el(scheme, "cbc:CompanyID", seller.vat_number)
        _tax_scheme(scheme)
    legal = _el(party, "cac:PartyLegalEntity")
    _el(legal, "cbc:RegistrationName", seller.legal_name or seller.name)
    if seller.kvk_number:
        _el(legal, "cbc:CompanyID", seller.kvk_number, schemeID=KVK_SCHEME)
    if seller.email:
        _el(_el(party, "cac:Contact"), "cbc:ElectronicMail", seller.email)


def _buyer(root: etree._Element, buyer: Buyer) -> None:
    party = _el(_el(root, "cac:AccountingCustomerParty"), "cac:Party")
    if buyer.company:
        _el(_el(party, "cac:PartyName"), "cbc:Name", buyer.company)
    _address(party, "cac:PostalAddress", buyer.address)
    if buyer.vat_number:
        scheme = _el(party, "cac:PartyTaxScheme")
        _el(scheme, "cbc:CompanyID", buyer.vat_number)
        _tax_scheme(scheme)
    legal = _el(party, "cac:PartyLegalEntity")
    _el(legal, "cbc:RegistrationName", buyer.legal_name)
    if buyer.kvk_number:
        _el(legal, "cbc:CompanyID", buyer.kvk_number, schemeID=KVK_SCHEME)
    if buyer.company or buyer.email:
        contact = _el(party, "cac:Contact")
        if buyer.company:
            _el(contact, "cbc:Name", buyer.name)
        if buyer.email:
            _el(contact, "cbc:ElectronicMail", buyer.email)


def _tax_category(
    parent: etree._Element, tag: str, vat: Vat, breakdown: VatBreakdown | None = None
) -> None:
    node = _el(parent, tag)
    _el(node, "cbc:ID", vat.category.value)
    _el(node, "cbc:Percent", _decimal(vat.rate))
    if breakdown is not None and breakdown.exemption_reason_code:
        _el(node, "cbc:TaxExemptionReasonCode", breakdown.exemption_reason_code)
    if breakdown is not None and breakdown.exemption_reason:
        _el(node, "cbc:TaxExemptionReason", breakdown.exemption_reason)
    _tax_scheme(node)


def _allowance_charge(
    root: etree._Element, item: Allowance | Charge, is_charge: bool, currency: str
) -> None:
    node = _el(root, "cac:AllowanceCharge")
    _el(node, "cbc:ChargeIndicator", "true" if is_charge else "false")
    if item.reason_code:
        _el(node, "cbc:AllowanceChargeReasonCode", item.reason_code)
    _el(node, "cbc:AllowanceChargeReason", item.reason)
    _amount(node, "cbc:Amount", item.amount, currency)
    _tax_category(node, "cac:TaxCategory", item.vat)


def _payment(root: etree._Element, doc: Document, credit_note: bool) -> None:
    means = doc.payment_means
    if means is None:
        if credit_note and doc.due_date is not None:
            raise ValueError(
                "a UBL 2.1 CreditNote carries its due date in PaymentMeans/PaymentDueDate: "
                "give payment_means or leave due_date empty"
            )
    else:
        node = _el(root, "cac:PaymentMeans")
        _el(node, "cbc:PaymentMeansCode", means.code)
        if credit_note and doc.due_date is not None:
            _el(node, "cbc:PaymentDueDate", _date(doc.due_date))
        if means.payment_id:
            _el(node, "cbc:PaymentID", means.payment_id)
        iban = means.iban or doc.seller.iban
        if iban:
            _el(_el(node, "cac:PayeeFinancialAccount"), "cbc:ID", iban)
        elif means.code in PAYMENT_MEANS_NEEDING_ACCOUNT:
            raise ValueError(
                f"BR-61: payment means {means.code} (credit transfer) needs an IBAN; "
                "give payment_means.iban or seller.iban"
            )
    if doc.payment_terms:
        _el(_el(root, "cac:PaymentTerms"), "cbc:Note", doc.payment_terms)


def _tax_total(
    root: etree._Element, breakdown: tuple[VatBreakdown, ...], totals: Totals, currency: str
) -> None:
    node = _el(root, "cac:TaxTotal")
    _amount(node, "cbc:TaxAmount", totals.tax, currency)
    for item in breakdown:
        sub = _el(node, "cac:TaxSubtotal")
        _amount(sub, "cbc:TaxableAmount", item.taxable_amount, currency)
        _amount(sub, "cbc:TaxAmount", item.tax_amount, currency)
        _tax_category(sub, "cac:TaxCategory", item.vat, item)


def _monetary_total(root: etree._Element, doc: Document, totals: Totals) -> None:
    node = _el(root, "cac:LegalMonetaryTotal")
    currency = doc.currency
    _amount(node, "cbc:LineExtensionAmount", totals.line_extension, currency)
    _amount(node, "cbc:TaxExclusiveAmount", totals.tax_exclusive, currency)
    _amount(node, "cbc:TaxInclusiveAmount", totals.tax_inclusive, currency)
    if doc.allowances:
        _amount(node, "cbc:AllowanceTotalAmount", totals.allowances, currency)
    if doc.charges:
        _amount(node, "cbc:ChargeTotalAmount", totals.charges, currency)
    if totals.prepaid:
        _amount(node, "cbc:PrepaidAmount", totals.prepaid, currency)
    _amount(node, "cbc:PayableAmount", totals.payable, currency)


def _line(root: etree._Element, line: Line, credit_note: bool, currency: str) -> None:
    node = _el(root, "cac:CreditNoteLine" if credit_note else "cac:InvoiceLine")
    _el(node, "cbc:ID", line.id)
    quantity_tag = "cbc:CreditedQuantity" if credit_note else "cbc:InvoicedQuantity"
    _el(node, quantity_tag, _decimal(line.quantity), unitCode=line.unit_code)
    _amount(node, "cbc:LineExtensionAmount", line.net_amount, currency)
    item = _el(node, "cac:Item")
    if line.description:
        _el(item, "cbc:Description", line.description)
    _el(item, "cbc:Name", line.name)
    if line.seller_item_id:
        _el(_el(item, "cac:SellersItemIdentification"), "cbc:ID", line.seller_item_id)
    if line.ean:
        _el(_el(item, "cac:StandardItemIdentification"), "cbc:ID", line.ean, schemeID=GTIN_SCHEME)
    _tax_category(item, "cac:ClassifiedTaxCategory", line.vat)
    price = _el(node, "cac:Price")
    _el(price, "cbc:PriceAmount", _decimal(line.unit_price), currencyID=currency)


def _header(root: etree._Element, doc: Document, credit_note: bool) -> None:
    _el(root, "cbc:CustomizationID", doc.specification.value)
    _el(root, "cbc:ProfileID", PROFILE_ID)
    _el(root, "cbc:ID", doc.number)
    _el(root, "cbc:IssueDate", _date(doc.issue_date))
    if credit_note:
        _el(root, "cbc:CreditNoteTypeCode", CREDIT_NOTE_TYPE)
    else:
        if doc.due_date is not None:
            _el(root, "cbc:DueDate", _date(doc.due_date))
        _el(root, "cbc:InvoiceTypeCode", INVOICE_TYPE)
    for note in doc.notes:
        _el(root, "cbc:Note", note)
    _el(root, "cbc:DocumentCurrencyCode", doc.currency)
    if doc.buyer_reference:
        _el(root, "cbc:BuyerReference", doc.buyer_reference)
    if doc.order_reference:
        _el(_el(root, "cac:OrderReference"), "cbc:ID", doc.order_reference)
    if doc.invoice_reference:
        billing = _el(root, "cac:BillingReference")
        _el(_el(billing, "cac:InvoiceDocumentReference"), "cbc:ID", doc.invoice_reference)


def build(doc: Document) -> etree._Element:
    """The document as an lxml tree (raises ValueError for amounts the rules reject)."""
    breakdown = vat_breakdown(doc)
    totals = compute_totals(doc, breakdown)
    credit_note = doc.kind is DocumentKind.CREDIT_NOTE
    namespace, local = (CREDIT_NOTE_NS, "CreditNote") if credit_note else (INVOICE_NS, "Invoice")
    root = etree.Element(f"{{{namespace}}}{local}", nsmap={None: namespace, **NSMAP})
    _header(root, doc, credit_note)
    _seller(root, doc.seller)
    _buyer(root, doc.buyer)
    if doc.delivery is not None:
        delivery = _el(root, "cac:Delivery")
        if doc.delivery.date is not None:
            _el(delivery, "cbc:ActualDeliveryDate", _date(doc.delivery.date))
        if doc.delivery.address is not None:
            _address(_el(delivery, "cac:DeliveryLocation"), "cac:Address", doc.delivery.address)
    _payment(root, doc, credit_note)
    # Invoice: AllowanceCharge comes before TaxTotal; in CreditNote too (after the exchange
    # rates, which Koppel never writes), so one order serves both schemas.
    for allowance in doc.allowances:
        _allowance_charge(root, allowance, False, doc.currency)
    for charge in doc.charges:
        _allowance_charge(root, charge, True, doc.currency)
    _tax_total(root, breakdown, totals, doc.currency)
    _monetary_total(root, doc, totals)
    for line in doc.lines:
        _line(root, line, credit_note, doc.currency)
    return root


def write_document(doc: Document) -> bytes:
    """UTF-8 XML with declaration; Invoice or CreditNote according to `doc.kind`."""
    return etree.tostring(build(doc), xml_declaration=True, encoding="UTF-8", pretty_print=True)


def write_invoice(doc: Document) -> bytes:
    if doc.kind is not DocumentKind.INVOICE:
        raise ValueError(f"write_invoice got a {doc.kind.value} document")
    return write_document(doc)


def write_credit_note(doc: Document) -> bytes:
    if doc.kind is not DocumentKind.CREDIT_NOTE:
        raise ValueError(f"write_credit_note got a {doc.kind.value} document")
    return write_document(doc)
