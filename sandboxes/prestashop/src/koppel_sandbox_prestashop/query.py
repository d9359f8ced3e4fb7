"""List parameters as `WebserviceRequest::manageFilters` and `SQLUtils` read them
(prestashop.md §3): `display`, `filter[field]`, `date=1`, `sort`, `limit`; then the
records a list chooses. How one filter compares is `conditions.py`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .conditions import Test, comparable, condition
from .errors import WebserviceError, did_you_mean
from .records import Record, Wanted
from .resources import Field, Resource
from .values import DATE_FORMAT

Display = str | dict[str, list[str] | None]


def php_params(items: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Query items as PHP's $_GET holds them: `filter[a]=x` nests, the last value wins."""
    params: dict[str, Any] = {}
    for key, value in items:
        match = re.match(r"^([^\[]+)((?:\[[^\]]*\])+)$", key)
        if not match:
            params[key] = value
            continue
        parts = re.findall(r"\[([^\]]*)\]", match.group(2))
        target = params.setdefault(match.group(1), {})
        if not isinstance(target, dict):
            target = params[match.group(1)] = {}
        for part in parts[:-1]:
            nested = target.setdefault(part, {})
            target = nested if isinstance(nested, dict) else target.setdefault(part, {})
        target[parts[-1]] = value
    return params


def php_int(value: str) -> int:
    match = re.match(r"^\s*([+-]?\d+)", value)
    return int(match.group(1)) if match else 0


def _display_fields(resource: Resource) -> str:
    return ", ".join(f.name for f in resource.fields)


def _split_top_level(body: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in body:
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += char
        depth += (char == "[") - (char == "]")
    if current:
        parts.append(current)
    return parts


def parse_display(resource: Resource, raw: Any, default: str) -> Display:
    if raw is None:
        return default
    if raw in ("full", "minimum"):
        return str(raw)
    match = re.match(r"^\[(.*)\]$", raw, re.S) if isinstance(raw, str) else None
    if not match:
        raise WebserviceError.one(
            400,
            36,
            "The 'display' syntax is wrong. You can set 'full' or '[field_1,field_2,field_3,...]'. "
            f"These are available: {_display_fields(resource)}",
        )
    chosen: dict[str, list[str] | None] = {}
    for part in _split_top_level(match.group(1)):
        name = part.split("[", 1)[0].strip()
        chosen.setdefault(name, None)
        if "[" in part:
            subs = part[part.index("[") + 1 : -1].split(",")
            current = chosen[name]
            chosen[name] = (current or []) + subs
    for name, subs in chosen.items():
        if subs is None:
            bad = resource.field(name) is None
        else:
            assoc = resource.association(name)
            bad = assoc is None or any(
                sub != "id" and all(f.name != sub for f in assoc.fields) for sub in subs
            )
        if bad:
            details = "" if subs is None else " (details : " + _var_export(subs) + ")"
            raise WebserviceError.one(
                400,
                35,
                f'Unable to display this field "{name}{details}". However, these are available: '
                f"{_display_fields(resource)}",
            )
    return chosen


def _var_export(values: list[str]) -> str:
    inner = "".join(f"  {i} => '{v}',\n" for i, v in enumerate(values))
    return f"array (\n{inner})"


@dataclass(frozen=True)
class ListQuery:
    filters: list[tuple[Field, str]]
    sort: list[tuple[Field, bool]]  # (field, descending)
    offset: int
    count: int | None


def filterable(resource: Resource, dates: bool) -> tuple[list[str], list[str]]:
    plain = [f.name for f in resource.fields if not f.hidden and f.kind != "i18n"]
    i18n = [f.name for f in resource.fields if not f.hidden and f.kind == "i18n"]
    if not dates:
        plain = [name for name in plain if name not in ("date_add", "date_upd")]
    return plain, i18n


def parse_list(resource: Resource, params: dict[str, Any]) -> tuple[ListQuery, Display]:
    """Filters, then `display`, then sort, then limit — the order PrestaShop checks them in."""
    dates = params.get("date") not in (None, "", "0")
    plain, i18n = filterable(resource, dates)
    filters: list[tuple[Field, str]] = []
    raw_filters = params.get("filter")
    for name, value in raw_filters.items() if isinstance(raw_filters, dict) else []:
        if name in ("sort", "limit"):
            continue
        field = resource.field(name)
        if name not in plain:
            if value != "" and name in i18n and field and isinstance(value, str):
                filters.append((field, value))
            elif isinstance(value, dict):
                raise WebserviceError.one(
                    400, 31, "There is no existing linked table for this resource"
                )
            else:
                raise did_you_mean(400, "This filter does not exist", name, plain, 32)
        elif value == "":
            raise WebserviceError.one(400, 33, f'The filter "{name}" is malformed.')
        elif field and field.getter:
            raise WebserviceError.one(
                400,
                34,
                f'The field "{name}" is dynamic. '
                "It is not possible to filter GET query with this field.",
            )
        elif field and isinstance(value, str):
            filters.append((field, value))
        else:
            raise WebserviceError.one(
                400, 31, "There is no existing linked table for this resource"
            )
    display = parse_display(resource, params.get("display"), "minimum")
    sort = _sort(resource, params.get("sort"), plain, i18n)
    return ListQuery(filters, sort, *_limit(params.get("limit"))), display


def _sort(
    resource: Resource, raw: Any, plain: list[str], i18n: list[str]
) -> list[tuple[Field, bool]]:
    if raw is None or not isinstance(raw, str):
        return []
    match = re.match(r"^\[(.*)\]$", raw, re.S)
    items = match.group(1).split(",") if match else [raw]
    order = []
    for item in items:
        name, _, direction = item.rpartition("_")
        if "_" not in item or direction.upper() not in ("ASC", "DESC"):
            raise WebserviceError.one(
                400,
                37,
                'The "sort" value has to be formed as this example: "field_ASC" or '
                "'[field_1_DESC,field_2_ASC,field_3_ASC,...]' "
                '("field" has to be an available field)',
            )
        field = resource.field(name)
        if field is None or (name not in plain and name not in i18n):
            raise WebserviceError.one(
                400,
                38,
                "Unable to filter by this field. However, these are available: "
                + ", ".join(plain)
                + ", for i18n fields:"
                + ", ".join(i18n),
            )
        order.append((field, direction.upper() == "DESC"))
    return order


def _limit(raw: Any) -> tuple[int, int | None]:
    if raw is None or not isinstance(raw, str):
        return 0, None
    parts = raw.split(",")
    if len(parts) > 2:
        raise WebserviceError.one(
            400, 39, 'The "limit" value has to be formed as this example: "5,25" or "10"'
        )
    if len(parts) == 1:
        return 0, max(0, php_int(parts[0]))
    return max(0, php_int(parts[0])), max(0, php_int(parts[1]))


# --- evaluation --------------------------------------------------------------


def _conditions(query: ListQuery, languages: list[int]) -> list[tuple[str, Test]]:
    return [(field.name, condition(field, raw, languages)) for field, raw in query.filters]


def may_match(query: ListQuery, languages: list[int]) -> Wanted:
    """The query's filters on the fields a record's head has: a source builds no record
    these rule out (`select` still applies every filter)."""
    tests = _conditions(query, languages)

    def wanted(head: Record) -> bool:
        return all(test(head[name]) for name, test in tests if name in head)

    return wanted


def select(records: list[Record], query: ListQuery, languages: list[int]) -> list[Record]:
    tests = _conditions(query, languages)
    chosen = [r for r in records if all(test(r.get(name)) for name, test in tests)]
    chosen.sort(key=lambda r: int(r["id"]))
    for field, descending in reversed(query.sort):
        chosen.sort(
            key=lambda r, f=field: _sort_key(f, r.get(f.name), languages), reverse=descending
        )
    end = None if query.count is None else query.offset + query.count
    return chosen[query.offset : end]


def _sort_key(field: Field, value: Any, languages: list[int]) -> Any:
    if field.kind == "i18n":
        return str(value.get(languages[0], "")).casefold() if isinstance(value, dict) else ""
    key = comparable(field, value)
    return key.strftime(DATE_FORMAT) if isinstance(key, datetime) else key
