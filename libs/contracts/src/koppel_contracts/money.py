"""Money and rates as Decimal on the wire.

Amounts travel as JSON strings ("12.50") so no consumer ever parses them
through a binary float. A float handed to a model is refused outright:
by the time it is a float the cents may already be wrong.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

DECIMAL_PATTERN = r"^-?\d+(\.\d+)?$"
CENT = Decimal("0.01")

# The one place that says how far summed amounts may drift from a stated total:
# shops round every line (and every discount / cost) to cents on their own, so
# each amount that is added may contribute up to one cent of difference.
ROUNDING_TOLERANCE_PER_AMOUNT = CENT


def summing_tolerance(amount_count: int) -> Decimal:
    """Largest accepted difference between a stated total and the sum of its parts."""
    return ROUNDING_TOLERANCE_PER_AMOUNT * max(1, amount_count)


def _to_decimal(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected a decimal amount as a string, got a boolean")
    if isinstance(value, float):
        raise ValueError(
            'amounts must be decimal strings like "12.50", not floats (float amounts lose cents)'
        )
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a decimal amount") from None
        value = parsed
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("amount must be a finite number")
        return value
    raise ValueError(f"expected a decimal amount as a string, got {type(value).__name__}")


def _serialise(value: Decimal) -> str:
    # Fixed-point, never exponent notation: "1E+2" would be legal Decimal but
    # surprises every reader of the topic.
    return format(value, "f")


Money = Annotated[
    Decimal,
    BeforeValidator(_to_decimal),
    PlainSerializer(_serialise, return_type=str),
    WithJsonSchema({"type": "string", "pattern": DECIMAL_PATTERN}),
]
"""An amount of money (Decimal, serialised as a string)."""

Quantity = Money
"""Quantities are Decimal too: shops sell 0.5 kg."""

VatRate = Annotated[
    Decimal,
    BeforeValidator(_to_decimal),
    PlainSerializer(_serialise, return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": DECIMAL_PATTERN, "description": "percent, e.g. 21"}
    ),
]
"""A VAT rate in percent: Decimal("21"), Decimal("9"), Decimal("0")."""


def round_cents(amount: Decimal) -> Decimal:
    """Half-up to cents, the rounding Dutch bookkeeping expects."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)
