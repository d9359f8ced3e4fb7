"""PrestaShop's JSON output (WebserviceOutputJSON), with its quirks:

- an ids-only list is `{"orders":[{"id":1},…]}`; a list with `display` puts full
  objects in the same plural array;
- a single object is `{"order":{…}}` — unless the request had a `display`
  parameter, then it goes into the plural array too (`{"orders":[{…}]}`);
- an empty list (no match, offset past the end) is `[]`: the renderer only adds
  the plural key when it adds an item, and `json_encode([])` is `[]`;
- an association is only present when it has items, and `associations` only
  when one does;
- multilang fields are `[{"id":"1","value":…},…]`, or a plain string when only
  one language is active or selected;
- the `/api/` root is just the list of resource names the key may use;
- PHP's `json_encode` escapes "/" as "\\/" (no JSON_UNESCAPED_SLASHES).
"""

from __future__ import annotations

import json
from typing import Any

from .query import Display
from .records import Record
from .resources import Field, Resource
from .values import Typing, i18n_json, json_value


def dumps(content: Any) -> bytes:
    return (
        json.dumps(content, ensure_ascii=False, separators=(",", ":")).replace("/", "\\/").encode()
    )


def entity(
    resource: Resource,
    record: Record,
    display: Display,
    languages: list[int],
    typing: Typing,
    fields: list[Field],
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in fields:
        if field.hidden or (isinstance(display, dict) and field.name not in display):
            continue
        value = record.get(field.name)
        if field.kind == "i18n":
            out[field.name] = i18n_json(value if isinstance(value, dict) else {}, languages)
        else:
            out[field.name] = json_value(field, value, typing)
    associations: dict[str, list[dict[str, Any]]] = {}
    for assoc in resource.associations:
        only = display.get(assoc.name) if isinstance(display, dict) else None
        if display != "full" and not isinstance(only, list):
            continue
        items = []
        for item in record.get("associations", {}).get(assoc.name, []):
            row = {
                f.name: json_value(f, item.get(f.name), typing)
                for f in assoc.fields
                if only is None or f.name in only
            }
            if row:
                items.append(row)
        if items:
            associations[assoc.name] = items
    if associations:
        out["associations"] = associations
    return out


def minimal_list(resource: Resource, records: list[Record]) -> bytes:
    if not records:
        return dumps([])
    return dumps({resource.nodes: [{"id": int(r["id"])} for r in records]})


def entities(
    resource: Resource,
    records: list[Record],
    display: Display,
    *,
    single_without_display: bool,
    languages: list[int],
    typing: Typing,
    fields: list[Field],
) -> bytes:
    rendered = [entity(resource, r, display, languages, typing, fields) for r in records]
    if not rendered:
        return dumps([])
    if single_without_display:
        return dumps({resource.node: rendered[0]})
    return dumps({resource.nodes: rendered})


def schema(resource: Resource, languages: list[int], fields: list[Field], kind: str) -> bytes:
    out: dict[str, Any] = {}
    for field in fields:
        if (
            field.hidden
            or (kind == "blank" and field.read_only)
            or (kind == "synopsis" and field.name == "id")
        ):
            continue
        out[field.name] = i18n_json({}, languages) if field.kind == "i18n" else ""
    if resource.associations:
        out["associations"] = {
            a.name: [{f.name: "" for f in a.fields}] for a in resource.associations
        }
    return dumps({resource.node: out})


def root_listing(permissions: dict[str, set[str]], descriptions: dict[str, str]) -> bytes:
    return dumps([name for name in sorted(descriptions) if name in permissions])


def errors(items: list[tuple[int, str]]) -> bytes:
    return dumps({"errors": [{"code": code, "message": message} for code, message in items]})
