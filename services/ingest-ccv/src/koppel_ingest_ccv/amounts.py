"""Reading CCV's amounts and texts, and splitting amounts over VAT rates. Pure, Decimal only.

JSON is parsed with `parse_float=Decimal` (see `client.parse_json`), so a float reaching
these functions is a programming error upstream, not something to round.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from koppel_contracts import round_cents
from koppel_ingest import OrderUnreadable

ZERO = Decimal(0)
UNIT_PRICE_PLACES = Decimal("0.0001")


class MappingError(OrderUnreadable):
    """The CCV order cannot be read as a bookable order; the message says why."""


def amount(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        raise MappingError(f"{field} is {value!r}, expected a decimal number")
    if value is None or value == "":
        raise MappingError(f"{field} is missing")
    try:
        parsed = Decimal(value) if isinstance(value, int | Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise MappingError(f"{field} is {value!r}, not a number") from None
    if not parsed.is_finite():
        raise MappingError(f"{field} is {value!r}, not a finite number")
    return parsed


def money(value: Any, field: str) -> Decimal:
    parsed = amount(value, field)
    # 49.9 and 49.90 are one amount; cents keep the published text (and hash) stable.
    return round_cents(parsed) if parsed == round_cents(parsed) else parsed


def optional_money(order: Mapping[str, Any], field: str) -> Decimal:
    value = order.get(field)
    return ZERO if value is None or value == "" else money(value, field)


def split_vat(value: Decimal, rate: Decimal, includes_vat: bool) -> tuple[Decimal, Decimal]:
    """(excl, incl) of an amount stated in the given basis; the derived side to the cent."""
    if includes_vat:
        return round_cents(value * 100 / (100 + rate)), value
    return value, round_cents(value * (100 + rate) / 100)


def allocate(value: Decimal, weights: Mapping[Decimal, Decimal]) -> dict[Decimal, Decimal]:
    """Split `value` over the keys in proportion to `weights`, to the cent, summing exactly."""
    total = sum(weights.values(), ZERO)
    if total == 0:
        raise MappingError(f"cannot spread {value} over goods that total 0")
    shares = {k: round_cents(value * weight / total) for k, weight in weights.items()}
    # The rounding leftover goes to the largest weight, so the parts add up exactly.
    largest = max(weights, key=lambda k: weights[k])
    shares[largest] += value - sum(shares.values(), ZERO)
    return {k: share for k, share in shares.items() if share != 0}


def unit_price(total: Decimal, quantity: Decimal) -> Decimal:
    unit = (total / quantity).quantize(UNIT_PRICE_PLACES, rounding=ROUND_HALF_UP)
    # At least cents, no trailing zeros beyond: "24.95" and "68.125", not "24.9500".
    return round_cents(unit) if unit == round_cents(unit) else unit.normalize()


def rate_label(rate: Decimal) -> str:
    return f"{rate.normalize():f}% btw"


def text(value: Any) -> str | None:
    if value is None:
        return None
    stripped = str(value).strip()
    return stripped or None


def moment(value: Any, field: str) -> datetime:
    given = text(value)
    if not given:
        raise MappingError(f"{field} is missing")
    try:
        parsed = datetime.fromisoformat(given)
    except ValueError:
        raise MappingError(f"{field} is {given!r}, not an ISO-8601 timestamp") from None
    if parsed.tzinfo is None:
        raise MappingError(f"{field} is {given!r}, without a time zone")
    return parsed
