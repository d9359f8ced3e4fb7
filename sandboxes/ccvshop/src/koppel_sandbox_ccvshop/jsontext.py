"""JSON the way CCV Shop writes it: money as plain JSON numbers (`590`, `102.4`)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def _numbers(value: Any) -> Any:
    # A float's shortest repr is the decimal text for amounts with few digits,
    # so "102.40" goes out as 102.4, exactly as PHP's json_encode writes it.
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
    """Parse request bodies without ever turning an amount into a binary float."""
    return json.loads(text, parse_float=Decimal)
