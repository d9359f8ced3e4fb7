"""Exact shares and whole cents.

Everything before the last step is exact: amounts become Fractions (a Decimal
converts to a Fraction without loss), shares are exact ratios, and only the final
step turns them into whole cents. No float, and no dependence on the caller's
decimal context (precision, rounding), so the same order always gives the same
cents.

Whole cents are plain ints in this module; `cents_to_decimal` is the way out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, Overflow
from fractions import Fraction

HUNDRED = Fraction(100)


def exact(amount: Decimal) -> Fraction:
    return Fraction(amount)


def to_cents_exact(amount: Fraction) -> Fraction:
    """Euros -> (fractional) cents."""
    return amount * HUNDRED


def round_half_up(value: Fraction) -> int:
    """Nearest integer, ties away from zero: Decimal's ROUND_HALF_UP, on exact values."""
    magnitude = math.floor(abs(value) + Fraction(1, 2))
    return magnitude if value >= 0 else -magnitude


def cents_to_decimal(cents: int) -> Decimal:
    """Whole cents as an exact Decimal with two places, built from digits, not arithmetic:
    Decimal arithmetic would round to the caller's context precision."""
    digits = tuple(int(d) for d in str(abs(cents)))
    return Decimal((1 if cents < 0 else 0, digits, -2))


# The context every Decimal operation of this package runs in, so a caller's context
# (a low precision, another rounding mode) can never change a result.
DECIMAL_CONTEXT = Context(prec=60, rounding=ROUND_HALF_UP, traps=[InvalidOperation, Overflow])


def proportional(amount: Fraction, weights: Sequence[Fraction]) -> list[Fraction]:
    """Exact shares of `amount` in proportion to non-negative weights (sum must be > 0)."""
    total = sum(weights, Fraction(0))
    if total <= 0 or any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative with a positive sum")
    return [amount * w / total for w in weights]


def apportion(values: Sequence[Fraction], total: int) -> list[int]:
    """Whole numbers that add up to `total`, each the floor or the ceiling of its value.

    Largest-remainder (Hamilton) method: start from every value's floor, then give
    the missing units to the values with the largest fractional parts. Ties go to
    the larger value, then to the earlier one, so the result is deterministic.

    Why this method: each result stays within one unit of its exact value (floor or
    ceiling), so a positive value never becomes negative and a zero stays zero,
    while the sum is exactly the requested total. Feasible whenever `total` lies
    between the sum of the floors and the sum of the ceilings, which holds for any
    rounding of the exact sum; anything else is a bug and raises.
    """
    floors = [math.floor(v) for v in values]
    missing = total - sum(floors)
    order = sorted(
        (i for i, v in enumerate(values) if v != floors[i]),
        key=lambda i: (-(values[i] - floors[i]), -abs(values[i]), i),
    )
    if not 0 <= missing <= len(order):
        raise ValueError(f"cannot apportion {total} over {list(values)}")
    result = list(floors)
    for i in order[:missing]:
        result[i] += 1
    return result
