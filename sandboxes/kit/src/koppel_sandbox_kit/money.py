"""Cents, the way the sandboxed vendors round: half-up (halves away from zero), the rounding
Dutch VAT uses."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def round_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
