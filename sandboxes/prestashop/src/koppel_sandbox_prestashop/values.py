"""How one field value reads on the wire: the XML text (what MySQL hands PHP:
decimals at the column's scale, booleans as 0/1, datetimes without a zone) and
the JSON value (8.x types integer fields as numbers, 1.7 sends strings)."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from .resources import Field

DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
Typing = Literal["8", "1.7"]


def text(field: Field, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        scaled = value.quantize(Decimal(1).scaleb(-field.scale), rounding=ROUND_HALF_UP)
        return f"{scaled + 0:f}"  # + 0 drops a negative zero
    if isinstance(value, datetime):
        return value.strftime(DATE_FORMAT)
    return str(value)


def json_value(field: Field, value: Any, typing: Typing) -> Any:
    if value is None:
        return None
    integer_kind = field.kind in ("id", "int")
    if field.kind == "id":
        return int(value) if not isinstance(value, str) else value
    if typing == "8" and integer_kind and isinstance(value, int) and not isinstance(value, bool):
        return value
    return text(field, value)


def i18n_json(values: dict[int, str], languages: list[int]) -> Any:
    """One active/selected language: the plain string; several: [{id, value}]."""
    entries = [{"id": str(lang), "value": values.get(lang, "")} for lang in languages]
    return entries[0]["value"] if len(entries) == 1 else entries


def is_empty_id(field: Field, value: Any) -> bool:
    """PrestaShop drops the xlink of an `id_*` field whose value is 0 or null."""
    return field.name.startswith("id_") and value in (None, 0, "", "0")
