"""JSON as bol writes it: amounts as plain JSON numbers (`12.99`), never strings; and
request bodies parsed without ever turning an amount into a binary float."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def _numbers(value: Any) -> Any:
    # A float's shortest repr is the decimal text for amounts with few digits,
    # so Decimal("12.99") goes out as 12.99.
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_numbers(v) for v in value]
    return value


def dumps(data: Any) -> str:
    return json.dumps(_numbers(data), ensure_ascii=False, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)
