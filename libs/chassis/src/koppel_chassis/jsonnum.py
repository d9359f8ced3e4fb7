"""JSON with Decimal amounts as JSON numbers — never through a float.

Ledgers want money as JSON numbers (`"amount": 64.93`). `json.dumps` cannot
write a Decimal as a number, and converting to float first is exactly how cents
get lost, so this writes the text itself. Reading parses numbers as Decimal.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def dumps(value: Any) -> str:
    if value is None or isinstance(value, bool | str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite amount: {value}")
        text = format(value, "f")
        return "0" if text in ("-0", "-0.0", "-0.00") else text
    if isinstance(value, float):
        raise TypeError("floats are not written to a ledger; use Decimal")
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k), ensure_ascii=False)}:{dumps(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dumps_bytes(value: Any) -> bytes:
    return dumps(value).encode()


def loads(data: bytes | str) -> Any:
    """Parse JSON with every non-integer number as Decimal (integers stay int)."""
    if not data:
        return None
    return json.loads(data, parse_float=Decimal)


def as_decimal(value: Any) -> Decimal:
    """An amount read back from Octopus (int, Decimal or numeric string) as Decimal."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not an amount: {value!r}")
    if isinstance(value, int | str):
        return Decimal(str(value))
    raise ValueError(f"not an amount: {value!r}")
