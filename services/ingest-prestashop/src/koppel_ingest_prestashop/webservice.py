"""What PrestaShop's webservice answers look like, read without I/O: the API root of a
shop URL, JSON with Decimal numbers, values typed the 1.7 way (all strings) or the 8.x way
(ints as numbers, booleans as "0"/"1", decimals as strings), multilang fields, error
documents, and the shop's zone-less datetimes (prestashop.md §1, §3–§5).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from koppel_ingest import OrderUnreadable

Json = Mapping[str, Any]

SHOP_DATETIME = "%Y-%m-%d %H:%M:%S"
UNSET_DATETIME = "0000-00-00 00:00:00"


class MappingError(OrderUnreadable):
    """The PrestaShop order cannot be read as a bookable order; the message says why."""


def api_root(shop_url: str) -> str:
    """The connection's `base_url` is the shop's URL (with its subfolder), or its /api."""
    root = shop_url.rstrip("/")
    return root if root.endswith("/api") else root + "/api"


def parse_json(content: bytes | str) -> Any:
    return json.loads(content, parse_float=Decimal)


def items(body: Any, plural: str) -> list[Json]:
    """The objects of a list answer: `{"orders": [...]}`, or `[]` for an empty list (the
    JSON renderer's quirk, §4), or a single `{"order": {...}}`."""
    if body == [] or body is None:
        return []
    if isinstance(body, Mapping):
        found = body.get(plural)
        if isinstance(found, list):
            return [item for item in found if isinstance(item, Mapping)]
        if len(body) == 1:
            (only,) = body.values()
            if isinstance(only, Mapping):
                return [only]
    raise ValueError(f"not a PrestaShop list of {plural}: {str(body)[:120]}")


def error_codes(body: Any) -> list[int]:
    """The codes of a JSON error document `{"errors": [{"code": 22, ...}]}` (else [])."""
    if not isinstance(body, Mapping) or not isinstance(body.get("errors"), list):
        return []
    codes = []
    for error in body["errors"]:
        if isinstance(error, Mapping):
            try:
                codes.append(int(error.get("code")))
            except (TypeError, ValueError):
                continue
    return codes


def error_text(body: Any) -> str:
    if not isinstance(body, Mapping) or not isinstance(body.get("errors"), list):
        return str(body)[:200] if body else "no explanation"
    return "; ".join(
        f"{e.get('code')} {e.get('message')}" for e in body["errors"] if isinstance(e, Mapping)
    )


# ---- values ---------------------------------------------------------------------------------


def integer(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise MappingError(f"{field} is {value!r}, expected a whole number")
    if isinstance(value, int):
        return value
    text = str(value).strip() if value is not None else ""
    if not text.lstrip("-").isdigit():
        raise MappingError(f"{field} is {value!r}, expected a whole number")
    return int(text)


def decimal(value: Any, field: str) -> Decimal:
    """An amount or rate: "20.230000" (or 20 as a number in 8.x) -> Decimal, never a float."""
    if isinstance(value, bool | float):
        raise MappingError(f"{field} is {value!r}, expected a decimal number")
    if value is None or value == "":
        raise MappingError(f"{field} is missing")
    try:
        parsed = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise MappingError(f"{field} is {value!r}, not a number") from None
    if not parsed.is_finite():
        raise MappingError(f"{field} is {value!r}, not a finite number")
    return parsed


def flag(value: Any) -> bool:
    """PrestaShop booleans: "1"/"0" (or 1/0, true/false in other renderings)."""
    return str(value).strip().lower() in ("1", "true")


def text(value: Any) -> str | None:
    if value is None:
        return None
    stripped = str(value).strip()
    return stripped or None


def translations(value: Any) -> dict[str, str]:
    """A multilang field: `[{"id": "1", "value": "…"}]`, or a plain string when the shop
    has one language (§4) — then under the key "" ."""
    if isinstance(value, list):
        return {
            str(item.get("id")): str(item.get("value") or "")
            for item in value
            if isinstance(item, Mapping)
        }
    return {"": str(value)} if value not in (None, "") else {}


# ---- the shop's clock -----------------------------------------------------------------------


def shop_moment(value: Any, zone: ZoneInfo, field: str) -> datetime:
    """A shop datetime ("2024-03-14 10:00:00", shop-local, no zone) as an aware moment."""
    given = text(value)
    if not given or given == UNSET_DATETIME:
        raise MappingError(f"{field} is not set")
    try:
        local = datetime.strptime(given, SHOP_DATETIME)
    except ValueError:
        raise MappingError(f"{field} is {given!r}, not a PrestaShop datetime") from None
    return local.replace(tzinfo=zone)


def shop_time(moment: datetime, zone: ZoneInfo) -> str:
    """An aware moment as the shop writes it (its own wall clock), to the second."""
    return moment.astimezone(zone).strftime(SHOP_DATETIME)


def shift(shop_datetime: str, seconds: float) -> str:
    """A shop datetime moved by `seconds` (wall-clock arithmetic, as the shop compares)."""
    moved = datetime.strptime(shop_datetime, SHOP_DATETIME) + timedelta(seconds=seconds)
    return moved.strftime(SHOP_DATETIME)
