"""Building blocks for resource descriptions: fields, associations, resources."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["id", "int", "bool", "decimal", "date", "string", "i18n"]


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    scale: int = 6
    xlink: str | None = None
    getter: bool = False  # a webservice getter: rendered notFilterable="true", refused in filters
    hidden: bool = False  # in the definition but never rendered nor filterable (`hidden_fields`)
    required: bool = False
    read_only: bool = False  # setter false: left out of the blank schema
    since8: bool = False  # absent from 1.7 output


@dataclass(frozen=True)
class Association:
    name: str
    node: str
    fields: tuple[Field, ...]
    virtual: bool = True
    read_only: bool = True
    # A flat association whose name is itself a resource gets an xlink per item.
    linked: bool = False


@dataclass(frozen=True)
class Resource:
    name: str
    node: str
    nodes: str
    fields: tuple[Field, ...]
    associations: tuple[Association, ...] = ()
    writable: frozenset[str] = field(default_factory=frozenset)

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def association(self, name: str) -> Association | None:
        return next((a for a in self.associations if a.name == name), None)


def i(name: str, xlink: str | None = None, **kw: bool) -> Field:
    return Field(name, "int", xlink=xlink, **kw)


def b(name: str, **kw: bool) -> Field:
    return Field(name, "bool", **kw)


def d(name: str, scale: int = 6, **kw: bool) -> Field:
    return Field(name, "decimal", scale=scale, **kw)


def t(name: str, **kw: bool) -> Field:
    return Field(name, "date", **kw)


def s(name: str, **kw: bool) -> Field:
    return Field(name, "string", **kw)


def lang(name: str, **kw: bool) -> Field:
    return Field(name, "i18n", **kw)


ID = Field("id", "id")
