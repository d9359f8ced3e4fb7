"""Which VAT regime an order falls under: domestic, OSS, ICP or export.

Implements the decision table of vat-nl-eu.md §8 for goods sold by an EU seller.
One order is one row of the table: a single destination and a single customer
status, so the decision is made once per order and every line follows it.
"""

from __future__ import annotations

from dataclasses import dataclass

from koppel_contracts import CanonicalOrder, VatTreatment

from .countries import EU_MEMBER_STATES, in_eu_vat_area, vat_country, vat_number_member_state
from .refusals import BookingRefused, RefusalCode


@dataclass(frozen=True)
class TreatmentDecision:
    """The VAT regime of an order.

    country_code: the destination that decides (shipping address, else billing
    address), as a member state for VAT (Monaco -> FR). vat_country: whose VAT
    the booking carries: the destination for OSS, the seller's country otherwise.
    """

    treatment: VatTreatment
    country_code: str
    vat_country: str
    reason: str


def decide_treatment(
    order: CanonicalOrder,
    seller_country: str = "NL",
    *,
    destination_taxation: bool = True,
) -> TreatmentDecision:
    """Decide domestic / OSS / ICP / export for an order; raises BookingRefused for ICP errors.

    destination_taxation: the merchant is past the EUR 10 000 EU distance-sales
    threshold or opted in (vat-nl-eu.md §3). When False, EU consumers pay Dutch
    VAT (table row 3) and the order is booked as domestic.
    """
    if seller_country not in EU_MEMBER_STATES:
        # A programming error, not a merchant problem: the rules below are the EU's.
        raise ValueError(f"seller_country must be an EU member state, got {seller_country!r}")

    address = order.shipping_address or order.billing_address
    which = "shipping" if order.shipping_address is not None else "billing"
    destination = vat_country(address.country_code)
    # The shop's rate per goods line is what it charged; costs and discounts follow
    # the goods (§6), so they never decide the regime on their own.
    vat_charged = any(line.vat_rate != 0 for line in order.lines)
    vat_number = order.customer.vat_number

    def decided(treatment: VatTreatment, reason: str) -> TreatmentDecision:
        vat_in = destination if treatment is VatTreatment.OSS else seller_country
        where = f"{which} address in {destination}"
        return TreatmentDecision(treatment, destination, vat_in, f"{where}: {reason}")

    if destination == seller_country:
        return decided(VatTreatment.DOMESTIC, "customer in the seller's country")

    if not in_eu_vat_area(address):
        if not vat_charged:
            return decided(VatTreatment.EXPORT, "outside the EU VAT area, 0% export")
        # The shop invoiced VAT, so it did not zero-rate the export (e.g. no export
        # evidence); VAT on an invoice is owed, so it is booked as invoiced.
        return decided(VatTreatment.DOMESTIC, "outside the EU but VAT charged: booked as invoiced")

    if not vat_charged:
        # 0% to another member state is only right as an intra-Community supply,
        # which needs the customer's VAT number from another member state (§4).
        # Koppel never re-rates such an order by itself: the merchant decides.
        if not vat_number:
            raise BookingRefused(
                RefusalCode.ICP_WITHOUT_VAT_NUMBER,
                {"order_number": order.order_number, "country": destination},
            )
        issuer = vat_number_member_state(vat_number)
        if issuer is None or issuer == seller_country:
            raise BookingRefused(
                RefusalCode.ICP_INVALID_VAT_NUMBER,
                {
                    "order_number": order.order_number,
                    "country": destination,
                    "vat_number": vat_number,
                    "seller_country": seller_country,
                },
            )
        return decided(VatTreatment.ICP, f"EU business {vat_number}, 0% intra-Community supply")

    if vat_number:
        # OSS is for consumers only; a business that was charged VAT was charged
        # the seller's VAT (e.g. no transport out of the country).
        return decided(VatTreatment.DOMESTIC, "EU business charged VAT: seller's VAT as invoiced")
    if destination_taxation:
        return decided(VatTreatment.OSS, "EU consumer, destination VAT via OSS")
    return decided(VatTreatment.DOMESTIC, "EU consumer below the OSS threshold: seller's VAT")
