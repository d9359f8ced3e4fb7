"""JSON in and out without a binary float anywhere.

SnelStart (.NET `decimal`) takes money as JSON numbers *or* decimal strings and
answers with numbers, echoing the scale it stored (`5505.8000` is possible,
notes §3). Inside the sandbox every JSON number with a fraction is a `Decimal`
(`json.loads(..., parse_float=Decimal)`); on the way out a `Decimal` is written
as a plain JSON number with exactly the digits it holds. Integers stay integers.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")


def round_cents(value: Decimal) -> Decimal:
    """Half-up to cents (halves away from zero), the rounding Dutch VAT uses."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON number")


def loads(raw: bytes | str) -> Any:
    return json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)


def format_decimal(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError("non-finite number")
    if value == 0:
        value = abs(value)  # never "-0.00"
    if value == value.to_integral_value() and value.as_tuple().exponent > 0:
        value = value.quantize(Decimal(1))  # 1E+2 -> 100
    return format(value, "f")


def dumps(value: Any) -> str:
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def _write(value: Any, out: list[str]) -> None:
    if value is None or isinstance(value, bool | str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, Decimal):
        out.append(format_decimal(value))
    elif isinstance(value, float):
        out.append(format_decimal(Decimal(repr(value))))
    elif isinstance(value, dict):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if i:
                out.append(",")
            out.append(json.dumps(str(key), ensure_ascii=False))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot serialise {type(value).__name__} to JSON")
