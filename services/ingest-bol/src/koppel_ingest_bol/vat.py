"""VAT for an order that carries none (bol.md §4): every price bol gives includes VAT, and
no rate, VAT amount or net price exists anywhere in its orders. The rate of a product
comes from the connection's tables; the amounts are split from the price.

- The rate: the offer reference table (the seller's own reference), then the EAN table,
  then the connection's default rate — marked `table` or `default` on the line, so the
  booking can name the EANs a merchant still has to add.
- The split: VAT of a line = its price incl. VAT × rate / (100 + rate), rounded half-up to
  the cent *per line*; excl. = incl. − VAT, so every line adds up to what the buyer paid.
- Partial quantities (cancelled or returned units): the line's discounts are taken back
  in proportion to the units kept, half-up to the cent; all units kept = all discounts.

Pure functions over Decimal, with explicit rounding: no float, no dependence on the
caller's decimal context beyond its (default) precision.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

from koppel_contracts import ShopOptions, VatRateSource

CENT = Decimal("0.01")
UNIT_PLACES = Decimal("0.0001")  # net unit prices: a ledger's usual precision
HUNDRED = Decimal(100)


def half_up(amount: Decimal, places: Decimal = CENT) -> Decimal:
    return amount.quantize(places, rounding=ROUND_HALF_UP)


def ean_key(ean: str) -> str:
    """EANs compare without spaces and leading zeros: a GTIN-14 `08718526040111` is the
    EAN-13 `8718526040111`, whichever form the merchant typed."""
    return ean.replace(" ", "").lstrip("0")


def _lookup(table: Mapping[str, Decimal], key: str | None, normal: bool) -> Decimal | None:
    if not key or not key.strip():
        return None
    wanted = ean_key(key) if normal else key.strip()
    for candidate, rate in table.items():
        if (ean_key(candidate) if normal else candidate.strip()) == wanted:
            return rate
    return None


def rate_for(
    options: ShopOptions, *, offer_reference: str | None, ean: str | None
) -> tuple[Decimal, VatRateSource]:
    """The product's VAT rate and where it came from: offer reference, EAN, default."""
    by_reference = _lookup(options.vat_by_offer_reference, offer_reference, normal=False)
    if by_reference is not None:
        return by_reference, VatRateSource.TABLE
    by_ean = _lookup(options.vat_by_ean, ean, normal=True)
    if by_ean is not None:
        return by_ean, VatRateSource.TABLE
    return options.default_vat_rate, VatRateSource.DEFAULT


def vat_in(amount_incl: Decimal, rate: Decimal) -> Decimal:
    """The VAT inside an amount incl. VAT, half-up to the cent."""
    return half_up(amount_incl * rate / (HUNDRED + rate))


def net_unit_price(unit_incl: Decimal, rate: Decimal) -> Decimal:
    """A unit price excl. VAT, to four decimals (the line total is what is exact)."""
    return half_up(unit_incl * HUNDRED / (HUNDRED + rate), UNIT_PLACES)


def discount_kept(discount: Decimal, kept: int, quantity: int) -> Decimal:
    """The part of a line's discounts that belongs to the units kept, half-up to the
    cent: all of it when every unit is kept, none when none is."""
    if quantity <= 0 or kept <= 0:
        return Decimal("0.00")
    if kept >= quantity:
        return discount
    return half_up(discount * kept / quantity)
