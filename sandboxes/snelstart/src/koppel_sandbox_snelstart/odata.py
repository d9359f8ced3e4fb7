"""The OData subset of SnelStart's `(OData)` operations (notes §9, portal `/odata`):
`$filter` (parsed by `odata_syntax`), `$top` (1..500, default 500), `$skip`, `$select` and a
simple `$orderby`; answers are bare arrays without paging metadata.

Property names are UpperCamelCase in the documentation and case-sensitive there; the sandbox
also accepts other casings (some public clients send `email eq …`). An unknown property
answers ASP.NET's `{"Message": "…Could not find a property named 'X' on type 'T'."}`,
anything else malformed `ALG-0104`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from .errors import ApiError
from .odata_syntax import (
    Binary,
    Call,
    FilterError,
    Lambda,
    Literal,
    Not,
    Path,
    parse_datetime,
    parse_filter,
)

MAX_TOP = 500

# A property tree: name -> SCALAR, a nested tree (object), or a one-element list (collection).
SCALAR = "scalar"
Tree = Mapping[str, Any]


@dataclass(frozen=True)
class ODataType:
    name: str  # the .NET type name ASP.NET puts in its messages
    props: Tree


class UnknownProperty(Exception):
    def __init__(self, prop: str, type_name: str) -> None:
        super().__init__(prop)
        self.prop = prop
        self.type_name = type_name


# ---------------------------------------------------------------------------- name resolution
def resolve(name: str, props: Tree, type_name: str) -> str:
    """UpperCamelCase (documented) or any other casing → the canonical JSON name."""
    for key in props:
        if key[:1].upper() + key[1:] == name:
            return key
    for key in props:
        if key.lower() == name.lower():
            return key
    raise UnknownProperty(name, type_name)


def check(node: Any, otype: ODataType, scopes: dict[str, Any] | None = None) -> None:
    """Static pass: every property the filter names must exist on the resource's type."""
    scopes = scopes or {}
    if isinstance(node, Binary):
        check(node.left, otype, scopes)
        check(node.right, otype, scopes)
    elif isinstance(node, Not):
        check(node.operand, otype, scopes)
    elif isinstance(node, Call):
        for arg in node.args:
            check(arg, otype, scopes)
    elif isinstance(node, Path):
        _resolve_path(node, otype, scopes)
    elif isinstance(node, Lambda):
        element = _resolve_path(node.collection, otype, scopes)
        if not isinstance(element, list):
            raise FilterError("any/all on something that is not a collection")
        check(node.body, otype, {**scopes, node.var: element[0]})


def _resolve_path(path: Path, otype: ODataType, scopes: dict[str, Any]) -> Any:
    segments = list(path.segments)
    if segments[0] in scopes:
        tree: Any = scopes[segments.pop(0)]
    else:
        tree = otype.props
    for segment in segments:
        if not isinstance(tree, Mapping):
            raise FilterError(f"{segment!r} on a value without properties")
        tree = tree[resolve(segment, tree, otype.name)]
    return tree


# ---------------------------------------------------------------------------- evaluation
def evaluate(node: Any, item: Mapping[str, Any], scopes: dict[str, Any] | None = None) -> Any:
    scopes = scopes or {}
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Path):
        return _lookup(node, item, scopes)
    if isinstance(node, Not):
        return not _truthy(evaluate(node.operand, item, scopes))
    if isinstance(node, Lambda):
        values = _lookup(node.collection, item, scopes) or []
        results = (_truthy(evaluate(node.body, item, {**scopes, node.var: v})) for v in values)
        return any(results) if node.op == "any" else all(results)
    if isinstance(node, Call):
        return _call(node.name, [evaluate(arg, item, scopes) for arg in node.args])
    assert isinstance(node, Binary)
    if node.op == "and":
        return _truthy(evaluate(node.left, item, scopes)) and _truthy(
            evaluate(node.right, item, scopes)
        )
    if node.op == "or":
        return _truthy(evaluate(node.left, item, scopes)) or _truthy(
            evaluate(node.right, item, scopes)
        )
    return compare(node.op, evaluate(node.left, item, scopes), evaluate(node.right, item, scopes))


def _truthy(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    raise FilterError("the filter does not evaluate to a boolean")


def _lookup(path: Path, item: Mapping[str, Any], scopes: dict[str, Any]) -> Any:
    segments = list(path.segments)
    value: Any = scopes[segments.pop(0)] if segments[0] in scopes else item
    for segment in segments:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise FilterError(f"{segment!r} on a value without properties")
        key = next((k for k in value if k.lower() == segment.lower()), None)
        value = value.get(key) if key is not None else None
    return value


def compare(op: str, left: Any, right: Any) -> bool:
    if left is None or right is None:
        if op == "eq":
            return left is None and right is None
        if op == "ne":
            return not (left is None and right is None)
        return False  # ordering against null is never true (SQL semantics)
    left, right = _coerce(left, right)
    if op == "eq":
        return bool(left == right)
    if op == "ne":
        return bool(left != right)
    try:
        return {
            "gt": left > right,
            "ge": left >= right,
            "lt": left < right,
            "le": left <= right,
        }[op]
    except TypeError:
        raise FilterError(
            f"cannot order {type(left).__name__} and {type(right).__name__}"
        ) from None


def _coerce(left: Any, right: Any) -> tuple[Any, Any]:
    """Bring an item value (JSON: str, int, Decimal, bool) and a literal to one type."""
    if isinstance(left, datetime) or isinstance(right, datetime):
        return _as_datetime(left), _as_datetime(right)
    if isinstance(left, bool) or isinstance(right, bool):
        if not (isinstance(left, bool) and isinstance(right, bool)):
            raise FilterError("a boolean compared with something else")
        return left, right
    if isinstance(left, int | Decimal) or isinstance(right, int | Decimal):
        if not (isinstance(left, int | Decimal) and isinstance(right, int | Decimal)):
            raise FilterError("a number compared with something else")
        return Decimal(left), Decimal(right)
    if _looks_like_guid(left) and _looks_like_guid(right):
        return left.lower(), right.lower()
    return left, right


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is not None:
            return parsed
    raise FilterError(f"{value!r} is not a datetime")


def _looks_like_guid(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 36 and value.count("-") == 4


def _call(name: str, args: list[Any]) -> Any:
    if any(a is None for a in args):
        return None
    if name in ("year", "month", "day", "hour", "minute", "second"):
        return getattr(_as_datetime(args[0]), name)
    texts = [a for a in args if isinstance(a, str)]
    if len(texts) != len(args):
        raise FilterError(f"{name} expects text")
    if name == "substringof":
        return args[0] in args[1]
    if name == "startswith":
        return args[0].startswith(args[1])
    if name == "endswith":
        return args[0].endswith(args[1])
    if name == "indexof":
        return args[0].find(args[1])
    if name == "length":
        return len(args[0])
    return {"tolower": str.lower, "toupper": str.upper, "trim": str.strip}[name](args[0])


# ---------------------------------------------------------------------------- query options
def invalid_query(message: str) -> ApiError:
    return ApiError.framework(400, f"The query specified in the URI is not valid. {message}")


def unknown_property(exc: UnknownProperty) -> ApiError:
    return invalid_query(f"Could not find a property named '{exc.prop}' on type '{exc.type_name}'.")


def _int_option(params: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        value = -1
    if value < minimum:
        raise invalid_query(
            f"Invalid value '{raw}' for {name} query option found. "
            f"The {name} query option requires an integer value of at least {minimum}."
        )
    return value


def apply_query(
    items: Sequence[Mapping[str, Any]],
    params: Mapping[str, str],
    otype: ODataType,
    *,
    filterable: bool = True,
) -> list[Mapping[str, Any]]:
    """`$filter`, `$orderby`, `$skip`, `$top` (1..500, default 500) and `$select` on a list,
    as an `(OData)` operation does. `filterable=False` reads and ignores `$filter`, the way
    `/landen` and `/dagboeken` do (notes §9)."""
    top = _int_option(params, "$top", MAX_TOP, 1)
    if top > MAX_TOP:
        raise invalid_query(
            f"The limit of '{MAX_TOP}' for Top query has been exceeded. "
            f"The value from the incoming request is '{top}'."
        )
    skip = _int_option(params, "$skip", 0, 0)
    selected = list(items)
    raw_filter = params.get("$filter")
    if filterable and raw_filter is not None:
        selected = run_filter(selected, raw_filter, otype)
    if params.get("$orderby"):
        selected = _order(selected, params["$orderby"], otype)
    page = selected[skip : skip + top]
    if params.get("$select"):
        page = _select(page, params["$select"], otype)
    return page


def run_filter(
    items: Sequence[Mapping[str, Any]], text: str, otype: ODataType
) -> list[Mapping[str, Any]]:
    try:
        tree = parse_filter(text)
        check(tree, otype)
        return [item for item in items if _truthy(evaluate(tree, item))]
    except UnknownProperty as exc:
        raise unknown_property(exc) from None
    except FilterError as exc:
        raise ApiError.business(("ALG-0104", str(exc))) from None


def _order(items: list[Mapping[str, Any]], text: str, otype: ODataType) -> list[Mapping]:
    keys: list[tuple[Path, bool]] = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise invalid_query(f"Syntax error in $orderby '{text}'.")
        path = Path(tuple(words[0].split("/")))
        try:
            _resolve_path(path, otype, {})
        except UnknownProperty as exc:
            raise unknown_property(exc) from None
        except FilterError as exc:
            raise invalid_query(str(exc)) from None
        keys.append((path, len(words) == 2 and words[1] == "desc"))
    ordered = list(items)
    for path, descending in reversed(keys):  # stable sorts, least significant key first
        ordered.sort(key=_sort_key(path), reverse=descending)
    return ordered


def _sort_key(path: Path) -> Callable[[Mapping[str, Any]], tuple[int, Any]]:
    def key(item: Mapping[str, Any]) -> tuple[int, Any]:
        value = _lookup(path, item, {})
        if value is None:
            return (0, "")
        return (1, value if not isinstance(value, bool) else int(value))

    return key


def _select(items: list[Mapping[str, Any]], text: str, otype: ODataType) -> list[Mapping]:
    try:
        names = [resolve(n.strip(), otype.props, otype.name) for n in text.split(",") if n.strip()]
    except UnknownProperty as exc:
        raise unknown_property(exc) from None
    return [{name: item.get(name) for name in names} for item in items]
