"""Which rates may be booked, and on which of the merchant's ledger accounts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from koppel_contracts import BookingOptions, CanonicalOrder, VatAccountMapping, VatTreatment

from .buckets import Allocation
from .model import BookingLineKind
from .rates import domestic_rates, is_plausible_rate
from .refusals import BookingRefused, RefusalCode
from .treatment import TreatmentDecision


def check_plausible_rates(order: CanonicalOrder, *, as_charged: bool) -> None:
    """Rates the arithmetic can use at all; anything else is a shop data error.

    A charge's rate only counts when the charge is booked at it (as charged).
    """
    rates = [line.vat_rate for line in order.lines]
    rates += [d.vat_rate for d in order.discounts if d.vat_rate is not None]
    if as_charged:
        rates += [c.vat_rate for c in order.charges if c.vat_rate is not None]
    for rate in rates:
        if not is_plausible_rate(rate):
            raise BookingRefused(
                RefusalCode.UNKNOWN_VAT_RATE,
                {"order_number": order.order_number, "rate": rate},
            )


def rate_sources(alloc: Allocation) -> dict[Decimal, BookingLineKind]:
    """For a rate only a charge brings (no goods at it): that charge's kind, so a refusal
    can say the rate came from the shipping or payment costs."""
    sources: dict[Decimal, BookingLineKind] = {}
    for rated in alloc.rated_charges:
        if rated.rate not in alloc.goods_rates:
            sources.setdefault(rated.rate, rated.kind)
    return sources


def check_domestic_rates(
    order: CanonicalOrder,
    decision: TreatmentDecision,
    rates: Sequence[Decimal],
    sources: dict[Decimal, BookingLineKind],
) -> None:
    """The seller's own VAT: every booked rate must exist on the order date."""
    on: date = order.placed_at.date()
    valid = domestic_rates(decision.vat_country, on)
    if valid is None:
        return  # no table for this seller country: the mapping is the only check
    for rate in rates:
        if rate not in valid:
            params = {
                "order_number": order.order_number,
                "rate": rate,
                "vat_country": decision.vat_country,
                "destination": decision.country_code,
                "date": on,
                "valid_rates": sorted(valid),
            }
            if rate in sources:
                params["source"] = sources[rate].value
            raise BookingRefused(RefusalCode.UNKNOWN_VAT_RATE, params)


def account_for(
    order: CanonicalOrder,
    booking: BookingOptions,
    decision: TreatmentDecision,
    rate: Decimal,
    source: BookingLineKind | None = None,
) -> VatAccountMapping:
    """The merchant's account for (rate, treatment[, country]); the first match wins.

    OSS: an entry for the destination country first; an entry without a country is
    a fallback for every OSS country (OSS revenue accounts are per rate kind, not per
    country, in e.g. SnelStart). Other treatments have no country.
    """
    candidates = [
        m for m in booking.vat_accounts if m.treatment == decision.treatment and m.vat_rate == rate
    ]
    if decision.treatment is VatTreatment.OSS:
        exact_country = [m for m in candidates if m.country_code == decision.country_code]
        candidates = exact_country or [m for m in candidates if m.country_code is None]
    else:
        candidates.sort(key=lambda m: m.country_code is not None)  # stable: prefer no country
    if not candidates:
        params = {
            "order_number": order.order_number,
            "rate": rate,
            "treatment": decision.treatment.value,
            "country": decision.country_code if decision.treatment is VatTreatment.OSS else None,
        }
        if source is not None:
            params["source"] = source.value
        raise BookingRefused(RefusalCode.UNMAPPED_VAT_RATE, params)
    return candidates[0]


def line_account(kind: BookingLineKind, mapping: VatAccountMapping, booking: BookingOptions) -> str:
    """Shipping books on the merchant's shipping account when set; everything else on
    the account of its rate. The VAT code is always the rate's."""
    if kind is BookingLineKind.SHIPPING and booking.shipping_account:
        return booking.shipping_account
    return mapping.ledger_account
