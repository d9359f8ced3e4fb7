"""Splitting and checking amounts, Decimal only. Pure.

PrestaShop stores a price excl. VAT and rounds the incl. and excl. amounts on their own
(per item, per line or on the total: `round_type`, §7), so an amount at rate r is
"charged at r" when its incl. and excl. sides are both within their rounding of one
exact price: |excl x (100 + r)/100 - incl| <= half a unit on each side.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_FLOOR, Decimal

from koppel_contracts import round_cents

from .webservice import MappingError

ZERO = Decimal(0)
CENT = Decimal("0.01")
MICRO = Decimal("0.000001")
HALF_CENT = Decimal("0.005")
HUNDRED = Decimal(100)


def tidy(value: Decimal) -> Decimal:
    """PrestaShop's fixed scale off: "20.230000" -> 20.23, "22.889908" stays, 5 -> 5.00."""
    if value == round_cents(value):
        return round_cents(value)
    return value.normalize()


def percent(rate: Decimal) -> Decimal:
    """A VAT rate without PrestaShop's scale: "21.000" -> 21, "5.500" -> 5.5."""
    return rate.quantize(Decimal(1)) if rate == rate.to_integral_value() else rate.normalize()


def _unit(values: Iterable[Decimal]) -> Decimal:
    """Cents when every value is whole cents, else PrestaShop's 6 decimals."""
    return CENT if all(v == round_cents(v) for v in values) else MICRO


def allocate(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """`total` split over `weights` in proportion, in whole units (cents, or micro-units
    for amounts that have more decimals), summing to `total` exactly: each share is the
    exact proportion rounded down, and the units left go to the largest remainders
    (the first weight on a tie). A weight of 0 gets nothing."""
    if any(w < 0 for w in weights):
        raise MappingError(f"cannot split {total} over negative weights {list(weights)}")
    weight_sum = sum(weights, ZERO)
    if weight_sum == 0:
        if total == 0:
            return [ZERO for _ in weights]
        raise MappingError(f"cannot split {total} over parts that total 0")
    unit = _unit([total])
    sign = -1 if total < 0 else 1
    units = int((abs(total) / unit).to_integral_value())
    exact = [Decimal(units) * w / weight_sum for w in weights]
    shares = [int(e.to_integral_value(rounding=ROUND_FLOOR)) for e in exact]
    leftover = units - sum(shares)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in by_remainder[:leftover]:
        shares[i] += 1
    return [sign * share * unit for share in shares]


def rounding_room(rate: Decimal, units: int = 1) -> Decimal:
    """How far excl x (1 + rate) may be from incl when both were rounded to the cent from
    one exact price, `units` times (per-item rounding multiplies by the quantity)."""
    return HALF_CENT * (2 + abs(rate) / HUNDRED) * max(1, units)


def charged_at(excl: Decimal, incl: Decimal, rate: Decimal, units: int = 1) -> bool:
    return abs(excl * (HUNDRED + rate) / HUNDRED - incl) <= rounding_room(rate, units)


def rate_of(excl: Decimal, incl: Decimal, candidates: Iterable[Decimal], what: str) -> Decimal:
    """The one rate among `candidates` an amount was charged at (gift wrapping: the order
    gives its amounts but not its rate). MappingError when none or several fit."""
    if excl == 0 and incl == 0:
        return ZERO
    fitting = sorted({r for r in candidates if charged_at(excl, incl, r)})
    if len(fitting) == 1:
        return fitting[0]
    if not fitting:
        known = ", ".join(f"{r.normalize():f}%" for r in sorted(set(candidates)))
        raise MappingError(
            f"{what}: {excl} excl. and {incl} incl. VAT fit none of the shop's rates ({known})"
        )
    options = ", ".join(f"{r.normalize():f}%" for r in fitting)
    raise MappingError(f"{what}: {excl} excl. and {incl} incl. VAT fit several rates ({options})")


def rate_label(rate: Decimal) -> str:
    return f"{rate.normalize():f}% btw"
