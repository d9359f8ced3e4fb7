"""The actions behind a checked request: reading lists and objects (GET/HEAD) and
the one write the sandbox models, `POST /api/order_histories` (change an order's
state, prestashop.md §6). Other writes answer 405 code 101 — a sandbox limit,
not PrestaShop's behaviour for resources like orders."""

from __future__ import annotations

from typing import Any

from lxml import etree
from starlette.requests import Request

from . import orders as shop_orders
from . import render_json, render_xml
from .catalogue import SOURCES
from .errors import WebserviceError
from .query import may_match, parse_display, parse_list, php_int, select
from .records import Record, Wanted, with_id
from .resources import MODELLED, Field, Resource
from .state import NotFound, PrestaShopState


def _fields(state: PrestaShopState, resource: Resource) -> list[Field]:
    legacy = state.config.api_style == "1.7"
    return [f for f in resource.fields if not (legacy and f.since8)]


def _records(state: PrestaShopState, resource: str, wanted: Wanted) -> list[Record]:
    source = SOURCES.get(resource)
    return source(state, wanted) if source else []


def get_action(
    state: PrestaShopState,
    name: str,
    segments: list[str],
    params: dict[str, Any],
    fmt: str,
    languages: list[int],
    ws: str,
) -> tuple[int, bytes | None]:
    resource = MODELLED.get(name)
    if resource is None:
        # A PrestaShop resource the sandbox does not model: nothing in it.
        return (200, render_json.dumps([])) if fmt == "json" else (200, _empty_xml(name))
    fields = _fields(state, resource)
    typing = state.config.api_style
    if len(segments) > 1 and segments[1] != "":
        display = parse_display(resource, params.get("display"), "full")
        wanted = php_int(segments[1])
        found = [r for r in _records(state, name, with_id(wanted)) if int(r["id"]) == wanted]
        if not found:
            return 404, None  # PrestaShop disables the output: empty body
        if fmt == "json":
            body = render_json.entities(
                resource,
                found,
                display,
                single_without_display="display" not in params,
                languages=languages,
                typing=typing,
                fields=fields,
            )
        else:
            body = render_xml.entities(
                resource, found, display, as_list=False, ws=ws, languages=languages, fields=fields
            )
        return 200, body
    if "schema" in params:
        kind = params["schema"]
        if kind not in ("blank", "synopsis"):
            raise WebserviceError.one(
                400,
                28,
                "Please select a schema of type 'synopsis' to get the whole schema "
                "informations (which fields are required, which kind of content...) or "
                "'blank' to get an empty schema to fill before using POST request",
            )
        if fmt == "json":
            return 200, render_json.schema(resource, languages, fields, kind)
        return 200, render_xml.schema(resource, kind, languages, fields)
    query, display = parse_list(resource, params)
    chosen = select(_records(state, name, may_match(query, languages)), query, languages)
    if display == "minimum":
        if fmt == "json":
            return 200, render_json.minimal_list(resource, chosen)
        return 200, render_xml.minimal_list(resource, chosen, ws)
    if fmt == "json":
        body = render_json.entities(
            resource,
            chosen,
            display,
            single_without_display=False,
            languages=languages,
            typing=typing,
            fields=fields,
        )
    else:
        body = render_xml.entities(
            resource, chosen, display, as_list=True, ws=ws, languages=languages, fields=fields
        )
    return 200, body


def _empty_xml(name: str) -> bytes:
    root = render_xml.envelope()
    etree.SubElement(root, name).text = ""
    return render_xml.serialize(root)


async def post_action(
    state: PrestaShopState,
    request: Request,
    name: str,
    method: str,
    segments: list[str],
    fmt: str,
    languages: list[int],
    ws: str,
) -> tuple[int, bytes | None]:
    resource = MODELLED.get(name)
    if resource is None or method not in resource.writable:
        raise WebserviceError.one(
            405, 101, f"Method {method} is not allowed for the resource {name}"
        )
    raw = (await request.body()).decode("utf-8", "replace")
    if raw.startswith("xml="):
        raw = raw[4:]
    try:
        document = etree.fromstring(raw.encode())
    except etree.XMLSyntaxError as error:
        raise WebserviceError.one(
            500, 127, f"XML error : {error}\nXML length : {len(raw)}\nOriginal XML : {raw}"
        ) from None
    entity = next(iter(document), None)
    if entity is None:
        raise WebserviceError.one(400, 41, 'parameter "id_order_state" required')
    values = {child.tag: (child.text or "").strip() for child in entity}
    if values.get("id"):
        raise WebserviceError.one(400, 91, "id is forbidden when adding a new resource")
    for required in ("id_order", "id_order_state"):
        if not values.get(required):
            raise WebserviceError.one(400, 41, f'parameter "{required}" required')
    try:
        history = shop_orders.set_state(
            state,
            php_int(values["id_order"]),
            php_int(values["id_order_state"]),
            employee=php_int(values.get("id_employee", "0")),
        )
    except NotFound:
        raise WebserviceError.one(
            400, 85, 'Validation error: "Property OrderHistory->id_order is not valid"'
        ) from None
    created = [r for r in _records(state, name, with_id(history.id)) if r["id"] == history.id]
    fields = _fields(state, resource)
    if fmt == "json":
        body = render_json.entities(
            resource,
            created,
            "full",
            single_without_display=True,
            languages=languages,
            typing=state.config.api_style,
            fields=fields,
        )
    else:
        body = render_xml.entities(
            resource, created, "full", as_list=False, ws=ws, languages=languages, fields=fields
        )
    return 201, body
