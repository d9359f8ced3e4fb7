"""JSON in and out without a binary float anywhere.

Reading: every JSON number with a fraction becomes a `Decimal` (`parse_float=Decimal`), so an
amount a client sends is compared to the cent. Integers stay integers.

Writing: vendors agree that money is a JSON *number* but not on its digits, so a codec takes
the vendor's number style:

- `exact_digits` — the digits the Decimal holds (`5505.8000`): .NET `decimal` (SnelStart);
- `at_least_cents` — at least two decimals (`64.9` → `64.90`), more where the value has them
  (an exchange rate of `1.0845`): Octopus;
- `shortest` — how PHP's `json_encode` writes a float: integers without a point (`590`),
  others in the fewest digits that read back the same (`102.40` → `102.4`): CCV Shop, bol.

Floats (a setting such as a window of 60.0 seconds) are written as the Decimal of their
shortest repr in the same style, or by `float_text` where the vendor writes them otherwise.

`NaN` and `Infinity` are not JSON: refused both ways, unless `allow_nan` keeps a sandbox
that always let Python's json read and write them doing so.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .money import CENT

NumberStyle = Callable[[Decimal], str]
"""The text of one finite number."""


def exact_digits(value: Decimal) -> str:
    if value == 0:
        value = abs(value)  # never "-0.00"
    if value == value.to_integral_value() and _exponent(value) > 0:
        value = value.quantize(Decimal(1))  # 1E+2 -> 100
    return format(value, "f")


def at_least_cents(value: Decimal) -> str:
    if value == 0:
        value = abs(value)
    if _exponent(value) >= -2:
        return format(value.quantize(CENT), "f")
    return format(value, "f")


def shortest(value: Decimal) -> str:
    # A float's shortest repr is the decimal text for amounts with few digits, which is
    # what PHP (serialize_precision -1) writes too.
    if value == value.to_integral_value():
        return str(int(value))
    return repr(float(value))


def python_float(value: float) -> str:
    """A float as Python's json writes it (`60.0`, `1e-07`): the text of the shortest
    repr, which is what PHP's json_encode writes for a float too."""
    return json.dumps(value)


def _exponent(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return exponent if isinstance(exponent, int) else 0


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON number")


@dataclass(frozen=True)
class DecimalJson:
    """One vendor's JSON: `loads` for request bodies, `dumps` for answers."""

    style: NumberStyle = exact_digits
    float_text: Callable[[float], str] | None = None
    allow_nan: bool = False

    def loads(self, raw: bytes | str) -> Any:
        if self.allow_nan:
            return json.loads(raw, parse_float=Decimal)
        return json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)

    def number(self, value: Decimal) -> str:
        if value.is_finite():
            return self.style(value)
        if self.allow_nan:
            return json.dumps(float(value))  # NaN, Infinity, -Infinity as Python writes them
        raise ValueError("non-finite number")

    def dumps(self, value: Any) -> str:
        """Compact JSON (no spaces), UTF-8 text unescaped, keys in insertion order."""
        parts: list[str] = []
        self._write(value, parts)
        return "".join(parts)

    def _write(self, value: Any, out: list[str]) -> None:
        if value is None or isinstance(value, bool | str):
            out.append(json.dumps(value, ensure_ascii=False))
        elif isinstance(value, int):
            out.append(str(value))
        elif isinstance(value, Decimal):
            out.append(self.number(value))
        elif isinstance(value, float):
            if self.float_text is not None:
                out.append(self.float_text(value))
            else:
                out.append(self.number(Decimal(repr(value))))
        elif isinstance(value, dict):
            out.append("{")
            for i, (key, item) in enumerate(value.items()):
                if i:
                    out.append(",")
                out.append(json.dumps(str(key), ensure_ascii=False))
                out.append(":")
                self._write(item, out)
            out.append("}")
        elif isinstance(value, list | tuple):
            out.append("[")
            for i, item in enumerate(value):
                if i:
                    out.append(",")
                self._write(item, out)
            out.append("]")
        else:
            raise TypeError(f"cannot serialise {type(value).__name__} to JSON")
