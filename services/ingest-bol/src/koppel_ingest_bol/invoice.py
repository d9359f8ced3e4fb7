"""The invoice that answers a business buyer's invoice request: the order as published
(what the ledger booked) under the ledger's document number, as UBL 2.1 (pure).

- Seller: the merchant's company details — `shop.options.seller`, else
  `ledger.asperion.seller` (`seller_of`).
- Buyer: as bol asks the invoice to be addressed (the request's billing details: company,
  VAT and KvK number), else the order's customer and billing address.
- Lines: the order's lines with their net amounts and rates; the VAT per rate is the
  order's (the sum of its lines' VAT, as published and booked). Domestic and OSS orders
  only: an ICP or export order is booked at 0 % by the ledger, while bol charged the
  buyer VAT — such a request is left to the merchant (`Unanswerable`).
- NLCIUS where it can hold (the seller's KvK number; a Dutch buyer's KvK number, BR-NL-10),
  plain EN 16931 otherwise. Paid: bol collected the money (prepaid = total).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from koppel_bookkeeping import BookingRefused, decide_treatment, destination_taxation_of
from koppel_contracts import (
    BookingOptions,
    CanonicalOrder,
    ConnectionSettings,
    Language,
    SellerParty,
    VatTreatment,
)
from koppel_ubl import (
    Address,
    Buyer,
    Delivery,
    Document,
    DocumentKind,
    Line,
    PaymentMeans,
    Seller,
    Specification,
    Vat,
    VatCategory,
    VatSubtotal,
)

from .client import BolJson
from .vat import UNIT_PLACES, half_up

ZERO = Decimal("0.00")
ANSWERED = frozenset({VatTreatment.DOMESTIC, VatTreatment.OSS})
NOTES = {
    "nl": ("Bestelling {order} via bol.com", "Betaald via bol.com"),
    "en": ("Order {order} through bol.com", "Paid through bol.com"),
}


class Unanswerable(ValueError):
    """No invoice can be written for this request; the message says why."""


def seller_of(settings: ConnectionSettings) -> SellerParty | None:
    if settings.shop.options.seller is not None:
        return settings.shop.options.seller
    asperion = settings.ledger.asperion
    return asperion.seller if asperion is not None else None


def _street(party: BolJson) -> str | None:
    parts = [party.get("streetName"), party.get("houseNumber"), party.get("houseNumberExtension")]
    text = " ".join(str(p).strip() for p in parts if p is not None and str(p).strip())
    return text or None


def _address(street: str | None, city: str | None, postal: str | None, country: str) -> Address:
    if not (street and city and postal):
        raise Unanswerable("the buyer's address is incomplete")
    return Address(street, city, postal, country)


def buyer_of(order: CanonicalOrder, request: BolJson) -> Buyer:
    billing = request.get("billingDetails") or {}
    customer, address = order.customer, order.billing_address
    name = " ".join(str(billing[k]) for k in ("firstName", "surname") if billing.get(k))
    country = str(billing.get("countryCode") or address.country_code)
    if billing.get("streetName"):
        where = _address(_street(billing), billing.get("city"), billing.get("zipCode"), country)
    else:
        parts = (address.street, address.house_number, address.house_number_suffix)
        street = " ".join(p for p in parts if p)
        where = _address(street, address.city, address.postal_code, country)
    person = name or address.full_name or customer.company_name
    if not person:
        raise Unanswerable("the buyer has no name")
    return Buyer(
        name=person,
        address=where,
        company=billing.get("company") or customer.company_name,
        email=customer.email,
        vat_number=billing.get("vatNumber") or customer.vat_number,
        kvk_number=billing.get("kvkNumber"),
    )


def _delivery(order: CanonicalOrder) -> Delivery | None:
    where = order.shipping_address
    if where is None or not (where.street and where.city and where.postal_code):
        return None
    parts = (where.street, where.house_number, where.house_number_suffix)
    street = " ".join(p for p in parts if p)
    return Delivery(address=Address(street, where.city, where.postal_code, where.country_code))


def _vat(rate: Decimal) -> Vat:
    return Vat(VatCategory.STANDARD if rate else VatCategory.ZERO_RATED, rate)


def _specification(seller: SellerParty, buyer: Buyer) -> Specification:
    if seller.kvk_number and (buyer.address.country != "NL" or buyer.kvk_number):
        return Specification.NLCIUS
    return Specification.EN16931


def invoice_document(
    order: CanonicalOrder,
    request: BolJson,
    *,
    number: str,
    seller: SellerParty,
    booking: BookingOptions,
    issue_date: date,
    language: Language,
) -> Document:
    """The UBL invoice of a booked order (raises Unanswerable, or ValueError from the UBL
    model when the order cannot be written)."""
    try:
        decision = decide_treatment(
            order, seller.country_code, destination_taxation=destination_taxation_of(booking)
        )
    except BookingRefused as refused:
        raise Unanswerable(f"the VAT treatment cannot be decided: {refused}") from None
    if decision.treatment not in ANSWERED:
        raise Unanswerable(f"a {decision.treatment.value} order is not invoiced with bol's VAT")
    lines: list[Line] = []
    vat: dict[Vat, Decimal] = {}
    for n, line in enumerate(order.lines, start=1):
        rate = _vat(line.vat_rate)
        vat[rate] = vat.get(rate, ZERO) + line.total_incl_vat - line.total_excl_vat
        lines.append(
            Line(
                id=str(n),
                name=line.description,
                quantity=line.quantity,
                unit_price=half_up(line.total_excl_vat / line.quantity, UNIT_PLACES),
                net_amount=line.total_excl_vat,
                vat=rate,
                seller_item_id=line.offer_reference,
                ean=line.ean,
            )
        )
    buyer = buyer_of(order, request)
    order_note, paid = NOTES.get(language.value, NOTES["nl"])
    return Document(
        kind=DocumentKind.INVOICE,
        number=number,
        issue_date=issue_date,
        seller=Seller(
            name=seller.name,
            address=Address(seller.street, seller.city, seller.postal_code, seller.country_code),
            vat_number=seller.vat_number,
            kvk_number=seller.kvk_number,
            iban=seller.iban,
            email=seller.email,
        ),
        buyer=buyer,
        lines=tuple(lines),
        vat_subtotals=tuple(VatSubtotal(rate, amount) for rate, amount in vat.items()),
        order_reference=order.order_number,
        payment_terms=paid,
        payment_means=PaymentMeans("58", payment_id=number) if seller.iban else None,
        notes=(order_note.format(order=order.order_number),),
        delivery=_delivery(order),
        prepaid_amount=order.totals.total_incl_vat,
        specification=_specification(seller, buyer),
    )
