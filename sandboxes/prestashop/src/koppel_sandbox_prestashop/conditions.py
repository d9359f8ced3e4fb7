"""One `filter[field]=value` as `SQLUtils` turns it into SQL and MySQL compares it
(prestashop.md §3): numbers numerically, datetimes as datetimes (a bare date is midnight),
text case-insensitively; `[a|b]` alternatives, `[a,b]` an inclusive BETWEEN (only when both
ends are made of digits, dots, colons, dashes and spaces — else an exact match on "a,b"),
`>[v]` `<[v]` strict, `![a|b]` none of them, `%` a LIKE; an unknown operator before the
brackets (`>=[x]`) adds no condition at all.

A filter is read once per request (`condition`) and then asked of each record's value.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .resources import Field
from .values import DATE_FORMAT, text

Test = Callable[[Any], bool]
NUMERIC = ("id", "int", "bool", "decimal")
BRACKETS = re.compile(r"^(.*)\[(.*)\](.*)$", re.S)
RANGE = re.compile(r"^([\d.:\-\s]+),([\d.:\-\s]+)$")


def _number(value: str) -> Decimal:
    match = re.match(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", value)
    try:
        return Decimal(match.group(0).strip()) if match else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _moment(value: str) -> datetime | str:
    for fmt in (DATE_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(value.strip(), fmt)
        except ValueError:
            continue
    return value


def comparable(field: Field, value: Any) -> Any:
    """The record's value as MySQL would compare it, given the column type."""
    rendered = text(field, value)
    if field.kind in NUMERIC:
        return _number(rendered)
    if field.kind == "date":
        moment = _moment(rendered)
        return moment if isinstance(moment, datetime) else rendered
    return rendered.rstrip(" ").casefold()


def _operand(field: Field, raw: str) -> Any:
    if field.kind in NUMERIC:
        return _number(raw)
    if field.kind == "date":
        return _moment(raw)
    return raw.rstrip(" ").casefold()


def _compare(left: Any, right: Any, op: Callable[[Any, Any], bool]) -> bool:
    if type(left) is not type(right):
        left, right = str(left), str(right)
    return op(left, right)


def _like(pattern: str) -> re.Pattern[str]:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile(f"^{regex}$", re.I | re.S)


def _php_sorted(pair: tuple[str, str]) -> tuple[str, str]:
    a, b = pair
    numeric = all(re.match(r"^\s*[+-]?(\d+\.?\d*|\.\d+)\s*$", x) for x in pair)
    key: Callable[[str], Any] = (lambda x: Decimal(x.strip())) if numeric else (lambda x: x)
    return (a, b) if key(a) <= key(b) else (b, a)


def _comparing(
    field: Field,
    raws: list[str],
    op: Callable[[Any, Any], bool],
    combine: Callable[[Any], bool] = any,
) -> Test:
    """The value compared with each operand; `combine` (any, all) joins the answers."""
    operands = [_operand(field, raw) for raw in raws]

    def test(value: Any) -> bool:
        mine = comparable(field, value)
        return combine(_compare(mine, operand, op) for operand in operands)

    return test


def _between(field: Field, low_raw: str, high_raw: str) -> Test:
    low, high = _operand(field, low_raw), _operand(field, high_raw)

    def test(value: Any) -> bool:
        mine = comparable(field, value)
        return _compare(mine, low, operator.ge) and _compare(mine, high, operator.le)

    return test


def condition(field: Field, raw: str, languages: list[int]) -> Test:
    """`filter[field]=raw` as a test of one record value (SQLUtils semantics)."""
    if field.kind == "i18n":
        plain = condition(Field(field.name, "string"), raw, languages)

        def any_language(value: Any) -> bool:
            if not isinstance(value, dict):
                return False
            return any(plain(str(value.get(lang, ""))) for lang in languages)

        return any_language
    found = BRACKETS.match(raw)
    if not found:
        return _comparing(field, [raw], operator.eq)
    before, inner, after = found.groups()
    if before == "%" or after == "%":
        pattern = _like(before + inner + after)
        return lambda value: bool(pattern.match(text(field, value)))
    if before == "" and after == "":
        if "|" in inner[1:]:
            return _comparing(field, inner.split("|"), operator.eq)
        between = RANGE.match(inner)
        if between:
            return _between(field, *_php_sorted((between.group(1), between.group(2))))
        return _comparing(field, [inner], operator.eq)
    if before == ">":
        return _comparing(field, [inner], operator.gt)
    if before == "<":
        return _comparing(field, [inner], operator.lt)
    if before == "!":
        return _comparing(field, inner.split("|"), operator.ne, all)
    return lambda _: True  # an operator PrestaShop does not know adds no condition
