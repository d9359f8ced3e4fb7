"""Which VAT rates a seller's own country knows on a given date.

Only the seller's domestic rates are checked here. Foreign (OSS) rates are never
hard-coded: they change per country and date, so the merchant's mapping, one
ledger account per (rate, country), is what says a destination rate is expected.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

# (valid from, rates valid from that date on). Dutch history: general rate 19 -> 21
# on 2012-10-01, reduced rate 6 -> 9 on 2019-01-01 (vat-nl-eu.md §1). Zero stays
# valid: it is a real Dutch rate (box 1e), e.g. for goods the law zero-rates.
_DOMESTIC_RATE_HISTORY: dict[str, tuple[tuple[date, frozenset[Decimal]], ...]] = {
    "NL": (
        (date(2001, 1, 1), frozenset({Decimal(0), Decimal(6), Decimal(19)})),
        (date(2012, 10, 1), frozenset({Decimal(0), Decimal(6), Decimal(21)})),
        (date(2019, 1, 1), frozenset({Decimal(0), Decimal(9), Decimal(21)})),
    ),
}


def is_plausible_rate(rate: Decimal) -> bool:
    """A percentage every computation can use: never negative, and below 100 %."""
    return Decimal(0) <= rate < Decimal(100)


def domestic_rates(country: str, on: date) -> frozenset[Decimal] | None:
    """The seller country's rates on a date; None when Koppel has no table for it."""
    history = _DOMESTIC_RATE_HISTORY.get(country)
    if history is None:
        return None
    valid: frozenset[Decimal] = frozenset()
    for valid_from, rates in history:
        if on >= valid_from:
            valid = rates
    return valid


def canonical_rate(rate: Decimal) -> Decimal:
    """One spelling per rate ("21", "5.5"), so "21.00" and "21" book on one line."""
    if rate == rate.to_integral_value():
        return rate.quantize(Decimal(1))
    return rate.normalize()
