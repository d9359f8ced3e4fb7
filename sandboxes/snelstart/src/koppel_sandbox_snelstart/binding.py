"""Model binding the way ASP.NET Web API + Json.NET does it for SnelStart (notes §3, §10).

- Property names match **case-insensitively** (the official .NET client posts PascalCase);
  unknown properties are ignored.
- Money (`decimal`) is accepted as a JSON number or a decimal string and kept as `Decimal`.
- Enums match their member names case-insensitively (Json.NET `StringEnumConverter`).
- A value that cannot be converted is a *model-binding* error: HTTP 400
  `{"message": "The request is invalid.", "modelState": {"model.<path>": [...]}}`.

The result is a plain dict keyed by the canonical (camelCase) names, holding only the
properties the client sent; `None` for an explicit `null`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import ApiError


class Kind:
    label = "value"

    def convert(self, value: Any) -> Any:
        raise NotImplementedError


class _Str(Kind):
    label = "System.String"

    def convert(self, value: Any) -> Any:
        if isinstance(value, bool) or isinstance(value, dict | list):
            raise ValueError
        if isinstance(value, int | Decimal):
            return str(value)  # Json.NET turns primitive tokens into strings
        return value


class _Int(Kind):
    label = "System.Int32"

    def convert(self, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError
        number = Decimal(value.strip()) if isinstance(value, str) else value
        if not isinstance(number, int | Decimal) or number != int(number):
            raise ValueError
        if not -(2**31) <= int(number) < 2**31:
            raise ValueError
        return int(number)


class _Money(Kind):
    label = "System.Decimal"

    def convert(self, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, int | Decimal):
            return Decimal(value)
        if isinstance(value, str):
            try:
                parsed = Decimal(value.strip())
            except InvalidOperation:
                raise ValueError from None
            if not parsed.is_finite():
                raise ValueError
            return parsed
        raise ValueError


class _Bool(Kind):
    label = "System.Boolean"

    def convert(self, value: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ValueError


class _DateTime(Kind):
    label = "System.DateTime"

    def convert(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return moment.replace(tzinfo=None)


class _Guid(Kind):
    label = "System.Guid"

    def convert(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError
        return str(uuid.UUID(value.strip()))


STR, INT, MONEY, BOOL, DATETIME, GUID = _Str(), _Int(), _Money(), _Bool(), _DateTime(), _Guid()


@dataclass(frozen=True)
class Enum(Kind):
    name: str
    values: tuple[str, ...]

    @property
    def label(self) -> str:  # type: ignore[override]
        return self.name

    def convert(self, value: Any) -> Any:
        if isinstance(value, str):
            for member in self.values:
                if member.lower() == value.strip().lower():
                    return member
        raise ValueError


@dataclass(frozen=True)
class ListOf(Kind):
    item: Kind
    label = "System.Collections.Generic.List"

    def convert(self, value: Any) -> Any:
        raise AssertionError("lists are bound by bind()")


@dataclass(frozen=True)
class Model(Kind):
    name: str
    fields: Mapping[str, Kind] = field(default_factory=dict)

    @property
    def label(self) -> str:  # type: ignore[override]
        return self.name

    def convert(self, value: Any) -> Any:
        raise AssertionError("models are bound by bind()")


def ref(name: str) -> Model:
    """An identifier model `{id, uri}`; on input only `id` matters (notes §3)."""
    return Model(name, {"id": GUID, "uri": STR})


class Binder:
    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault(f"model{path}", []).append(message)

    def bind(self, kind: Kind, value: Any, path: str = "") -> Any:
        if value is None:
            return None
        if isinstance(kind, Model):
            if not isinstance(value, dict):
                self.fail(
                    path, f"Cannot deserialize the current JSON value into type '{kind.name}'."
                )
                return None
            result: dict[str, Any] = {}
            lowered = {key.lower(): key for key in value}
            for name, sub in kind.fields.items():
                key = lowered.get(name.lower())
                if key is not None:
                    result[name] = self.bind(sub, value[key], f"{path}.{name}")
            return result
        if isinstance(kind, ListOf):
            if not isinstance(value, list):
                self.fail(path, "Cannot deserialize the current JSON object into a list.")
                return None
            return [self.bind(kind.item, item, f"{path}[{i}]") for i, item in enumerate(value)]
        try:
            return kind.convert(value)
        except (ValueError, TypeError, ArithmeticError):
            shown = value if isinstance(value, str) else repr(value)
            self.fail(path, f"Error converting value \"{shown}\" to type '{kind.label}'.")
            return None


def bind_body(model: Model, body: Any) -> dict[str, Any]:
    """Bind a request body to `model`, or raise the model-binding 400 (or ALG-0106 when the
    request has no data at all)."""
    if body is None:
        raise ApiError.business(("ALG-0106", None))
    binder = Binder()
    bound = binder.bind(model, body)
    if binder.errors:
        raise ApiError.model_state(binder.errors)
    assert isinstance(bound, dict)
    return bound


def require(bound: Mapping[str, Any], model: Model, names: tuple[str, ...], prefix: str = ""):
    """Spec `required` properties without a business code of their own: ASP.NET's
    `[Required]` message in the model state."""
    missing = {
        f"model{prefix}.{name}": [f"The {name[:1].upper() + name[1:]} field is required."]
        for name in names
        if bound.get(name) is None
    }
    if missing:
        raise ApiError.model_state(missing)
