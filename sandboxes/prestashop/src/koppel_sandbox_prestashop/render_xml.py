"""PrestaShop's XML output (WebserviceOutputXML + WebserviceOutputBuilder), built
with lxml: the `<prestashop xmlns:xlink=…>` envelope, every value in CDATA, an
empty element for an empty value, `xlink:href` on foreign keys (dropped for an
`id_*` of 0), `notFilterable="true"` on getter fields, multilang fields as
`<language id=…>` children, associations with `nodeType` and `virtualEntity`
(or `api` for a non-virtual one)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lxml import etree

from .query import Display
from .records import Record
from .resources import Association, Field, Resource
from .values import is_empty_id, text

XLINK = "http://www.w3.org/1999/xlink"
HREF = f"{{{XLINK}}}href"


def envelope() -> etree._Element:
    return etree.Element("prestashop", nsmap={"xlink": XLINK})


# PHP writes the declaration with double quotes; lxml would use single ones.
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def serialize(root: etree._Element) -> bytes:
    return DECLARATION + etree.tostring(root, encoding="UTF-8", pretty_print=True)


def _set_text(element: etree._Element, value: str) -> None:
    if value == "":
        element.text = ""  # `<x></x>`, as PrestaShop writes an empty value
    elif "]]>" in value:
        element.text = value  # cannot be CDATA; escaped text reads the same
    else:
        element.text = etree.CDATA(value)


def _field(
    parent: etree._Element,
    field: Field,
    value: Any,
    ws: str,
    languages: list[int],
    association: bool = False,
) -> None:
    element = etree.SubElement(parent, field.name)
    if field.kind == "i18n":
        values = value if isinstance(value, dict) else {}
        for lang in languages:
            child = etree.SubElement(element, "language", id=str(lang))
            child.set(HREF, f"{ws}languages/{lang}")
            _set_text(child, str(values.get(lang, "")))
        return
    rendered = text(field, value)
    # The builder drops the link of an empty `id_*` on the object, not inside
    # associations (the real sample links `customizations/0` in an order_row).
    if field.xlink and (association or not is_empty_id(field, value)):
        element.set(HREF, f"{ws}{field.xlink}/{rendered}")
    if field.getter:
        element.set("notFilterable", "true")
    _set_text(element, rendered)


def _association(
    parent: etree._Element,
    assoc: Association,
    items: list[dict[str, Any]],
    only: list[str] | None,
    ws: str,
) -> None:
    element = etree.SubElement(parent, assoc.name, nodeType=assoc.node)
    if assoc.virtual:
        element.set("virtualEntity", "true")
    else:
        element.set("api", assoc.name)
    for item in items:
        node = etree.SubElement(element, assoc.node)
        if assoc.linked:
            node.set(HREF, f"{ws}{assoc.name}/{item.get('id')}")
        for field in assoc.fields:
            if only is None or field.name in only:
                _field(node, field, item.get(field.name), ws, [], association=True)


def _entity(
    parent: etree._Element,
    resource: Resource,
    record: Record,
    display: Display,
    ws: str,
    languages: list[int],
    fields: Iterable[Field],
) -> None:
    node = etree.SubElement(parent, resource.node)
    for field in fields:
        if field.hidden or (
            display != "full" and isinstance(display, dict) and field.name not in display
        ):
            continue
        _field(node, field, record.get(field.name), ws, languages)
    chosen = [
        a
        for a in resource.associations
        if display == "full"
        or (isinstance(display, dict) and isinstance(display.get(a.name), list))
    ]
    if chosen:
        wrapper = etree.SubElement(node, "associations")
        associations = record.get("associations", {})
        for assoc in chosen:
            only = display.get(assoc.name) if isinstance(display, dict) else None
            _association(wrapper, assoc, associations.get(assoc.name, []), only, ws)


def minimal_list(resource: Resource, records: list[Record], ws: str) -> bytes:
    root = envelope()
    wrapper = etree.SubElement(root, resource.nodes)
    if not records:
        wrapper.text = ""  # `<orders></orders>`: PrestaShop still writes the list node
    for record in records:
        item = etree.SubElement(wrapper, resource.node, id=str(record["id"]))
        item.set(HREF, f"{ws}{resource.nodes}/{record['id']}")
    return serialize(root)


def entities(
    resource: Resource,
    records: list[Record],
    display: Display,
    *,
    as_list: bool,
    ws: str,
    languages: list[int],
    fields: list[Field],
) -> bytes:
    root = envelope()
    parent = etree.SubElement(root, resource.nodes) if as_list else root
    if as_list and not records:
        parent.text = ""
    for record in records:
        _entity(parent, resource, record, display, ws, languages, fields)
    return serialize(root)


def schema(resource: Resource, kind: str, languages: list[int], fields: list[Field]) -> bytes:
    """`schema=blank` (an empty object to fill for a POST) or `schema=synopsis`
    (the same with `required`/`readOnly` hints; the sandbox leaves out formats)."""
    root = envelope()
    node = etree.SubElement(root, resource.node)
    for field in fields:
        if (
            field.hidden
            or (kind == "blank" and field.read_only)
            or (kind == "synopsis" and field.name == "id")
        ):
            continue
        element = etree.SubElement(node, field.name)
        if kind == "synopsis" and field.required:
            element.set("required", "true")
        if kind == "synopsis" and field.read_only:
            element.set("readOnly", "true")
        if field.kind == "i18n":
            for lang in languages:
                etree.SubElement(element, "language", id=str(lang))
        else:
            element.text = ""
    if resource.associations:
        wrapper = etree.SubElement(node, "associations")
        for assoc in resource.associations:
            element = etree.SubElement(wrapper, assoc.name)
            if kind == "synopsis":
                element.set("nodeType", assoc.node)
            item = etree.SubElement(element, assoc.node)
            for field in assoc.fields:
                etree.SubElement(item, field.name).text = ""
    return serialize(root)


def root_listing(
    permissions: dict[str, set[str]],
    descriptions: dict[str, str],
    shop_name: str,
    ws: str,
    with_patch: bool,
) -> bytes:
    """`GET /api/`: the resources this key may use, with a flag per method."""
    root = envelope()
    api = etree.SubElement(root, "api", shop_name=shop_name)
    methods = ["get", "put", "post", *(["patch"] if with_patch else []), "delete", "head"]
    for name in sorted(descriptions):
        if name not in permissions:
            continue
        attrs = {m: "true" if m.upper() in permissions[name] else "false" for m in methods}
        element = etree.SubElement(api, name)
        element.set(HREF, f"{ws}{name}")
        for key, value in attrs.items():
            element.set(key, value)
        description = etree.SubElement(element, "description")
        description.set(HREF, f"{ws}{name}")
        for key, value in attrs.items():
            description.set(key, value)
        description.text = descriptions[name]
        for kind in ("blank", "synopsis"):
            schema_node = etree.SubElement(element, "schema", type=kind)
            schema_node.set(HREF, f"{ws}{name}?schema={kind}")
    return serialize(root)


def errors(items: list[tuple[int, str]]) -> bytes:
    root = envelope()
    wrapper = etree.SubElement(root, "errors")
    for code, message in items:
        error = etree.SubElement(wrapper, "error")
        _set_text(etree.SubElement(error, "code"), str(code))
        _set_text(etree.SubElement(error, "message"), message)
    return serialize(root)
