"""The `/v2` operations: one handler per method + path, with the scopes the OpenAPI file
lists for it (`ENDPOINTS`). Authentication, rate limits and counting happen around these in
`app.py`; a handler sees an authenticated administration."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from . import views
from .bookings import render_booking, render_factuur, validate_booking
from .errors import ApiError, Problems, not_found
from .jsonio import dumps, loads
from .models import (
    ARTIKEL_TYPE,
    GROOTBOEK_TYPE,
    LAND_TYPE,
    NS,
    RELATIE_TYPE,
    VATRATE_DEFINITION_TYPE,
    VATRATES_TYPE,
    VERKOOPFACTUUR_TYPE,
    VERKOOPORDER_TYPE,
)
from .odata import ODataType, apply_query
from .orders import create_order, render_order
from .refdata import LAND_BY_ID
from .relaties import render_relatie, write_relatie
from .state import Administration, Booking, SnelStartState, Token

T = TypeVar("T")
JSON_TYPES = ("application/json", "text/json")


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None):
    return Response(dumps(payload), status, headers, media_type="application/json")


@dataclass
class Call:
    request: Request
    state: SnelStartState
    admin: Administration
    token: Token

    async def body(self) -> Any:
        raw = await self.request.body()
        if not raw.strip():
            return None
        media = self.request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in JSON_TYPES:
            raise ApiError.framework(
                415,
                f"The request entity's media type '{media}' is not supported for this resource.",
            )
        try:
            return loads(raw)
        except ValueError as exc:
            raise ApiError.model_state({"model": [f"Invalid JSON: {exc}"]}) from None

    def path_id(self) -> str:
        """The `{id}` of the path; a non-GUID does not match the route (ASP.NET 404)."""
        raw = self.request.path_params["id"]
        try:
            return str(uuid.UUID(raw))
        except ValueError:
            raise ApiError.framework(
                404, f"No HTTP resource was found that matches the request URI '{raw}'."
            ) from None

    def found(self, table: Mapping[str, T], type_name: str) -> T:
        """The record the path's `{id}` names; the API's 404 for `type_name` when none."""
        found = table.get(self.path_id())
        if found is None:
            raise not_found(type_name, self.path_id())
        return found

    def odata(self, items: list[dict[str, Any]], otype: ODataType) -> Response:
        return json_response(apply_query(items, self.request.query_params, otype))

    def now(self):
        return self.state.local_now()


Handler = Callable[[Call], Awaitable[Response]]


# ---------------------------------------------------------------------------- settings
async def company_info(call: Call) -> Response:
    return json_response(views.render_company(call.admin))


async def btwtarieven(call: Call) -> Response:
    return json_response(views.btwtarieven())


async def landen(call: Call) -> Response:
    # ignores $filter, $top and $skip and always answers the whole list (notes §9)
    return json_response(views.landen())


async def land(call: Call) -> Response:
    found = call.found(LAND_BY_ID, LAND_TYPE.name)
    return json_response(views.render_land(found))


async def vatrates(call: Call) -> Response:
    return call.odata(views.vatrates(), VATRATES_TYPE)


async def vat_rate_definitions(call: Call) -> Response:
    return call.odata(views.vat_rate_definitions(), VATRATE_DEFINITION_TYPE)


# ---------------------------------------------------------------------------- grootboeken
async def grootboeken(call: Call) -> Response:
    items = [views.render_grootboek(g) for g in call.admin.grootboeken.values()]
    return call.odata(items, GROOTBOEK_TYPE)


async def grootboek(call: Call) -> Response:
    found = call.found(call.admin.grootboeken, GROOTBOEK_TYPE.name)
    return json_response(views.render_grootboek(found))


# ---------------------------------------------------------------------------- relaties
def _relatie(call: Call) -> dict[str, Any]:
    return call.found(call.admin.relaties, RELATIE_TYPE.name)


async def relaties(call: Call) -> Response:
    items = [render_relatie(r) for r in call.admin.relaties.values()]
    return call.odata(items, RELATIE_TYPE)


async def relatie_get(call: Call) -> Response:
    return json_response(render_relatie(_relatie(call)))


async def relatie_post(call: Call) -> Response:
    record = write_relatie(call.admin, await call.body(), call.now())
    call.admin.relaties[record["id"]] = record
    return json_response(render_relatie(record), 201)


async def relatie_put(call: Call) -> Response:
    existing = _relatie(call)
    record = write_relatie(call.admin, await call.body(), call.now(), existing)
    call.admin.relaties[record["id"]] = record
    return json_response(render_relatie(record))


async def relatie_verkoopboekingen(call: Call) -> Response:
    rid = call.path_id()
    return json_response(
        [render_booking(b) for b in call.admin.boekingen.values() if b.data["klant"] == rid]
    )


# ---------------------------------------------------------------------------- verkoopboekingen
def _booking(call: Call) -> Booking:
    return call.found(call.admin.boekingen, f"{NS}.VerkoopBoekingen.VerkoopBoekingModel")


def _refuse_if_filed(booking: Booking) -> None:
    if booking.vat_return_filed:
        raise ApiError.business(("BOE-0046", booking.id))


async def booking_post(call: Call) -> Response:
    now = call.now()
    data = validate_booking(call.admin, await call.body(), now)
    if call.admin.tamper_next is not None:
        delta, call.admin.tamper_next = call.admin.tamper_next, None
        data["factuurbedrag"] = Decimal(data["factuurbedrag"]) + delta
        if data.get("boekingsregels"):
            first = data["boekingsregels"][0]
            first["bedrag"] = Decimal(first["bedrag"]) + delta
    booking = Booking(str(uuid.uuid4()), data, now, str(uuid.uuid4()), now)
    call.admin.boekingen[booking.id] = booking
    return json_response(render_booking(booking), 201)


async def booking_get(call: Call) -> Response:
    return json_response(render_booking(_booking(call)))


async def booking_put(call: Call) -> Response:
    booking = _booking(call)
    _refuse_if_filed(booking)
    booking.data = validate_booking(call.admin, await call.body(), call.now(), booking)
    booking.modified = call.now()
    return json_response(render_booking(booking))


async def booking_delete(call: Call) -> Response:
    booking = _booking(call)
    problems = Problems()
    if booking.vat_return_filed:
        problems.add("BOE-0046", booking.id)
    if booking.payments:
        problems.add("BOE-0083", booking.id)
    problems.raise_if_any()
    del call.admin.boekingen[booking.id]  # its verkoopfactuur goes with it
    return json_response({})


# ---------------------------------------------------------------------------- verkoopfacturen
async def facturen(call: Call) -> Response:
    items = [render_factuur(b) for b in call.admin.boekingen.values()]
    return call.odata(items, VERKOOPFACTUUR_TYPE)


async def factuur(call: Call) -> Response:
    booking = call.admin.booking_by_factuur(call.path_id())
    if booking is None:
        raise not_found(VERKOOPFACTUUR_TYPE.name, call.path_id())
    return json_response(render_factuur(booking))


# ---------------------------------------------------------------------------- verkooporders
def _order(call: Call) -> dict[str, Any]:
    return call.found(call.admin.orders, VERKOOPORDER_TYPE.name)


async def orders(call: Call) -> Response:
    return call.odata([render_order(o) for o in call.admin.orders.values()], VERKOOPORDER_TYPE)


async def order_post(call: Call) -> Response:
    order = create_order(call.admin, await call.body(), call.now())
    call.admin.orders[order["id"]] = order
    return json_response(render_order(order), 201)


async def order_get(call: Call) -> Response:
    return json_response(render_order(_order(call)))


async def order_delete(call: Call) -> Response:
    del call.admin.orders[_order(call)["id"]]
    return json_response({}, 201)  # the OpenAPI file documents 201 for this DELETE


# ---------------------------------------------------------------------------- artikelen
async def artikelen(call: Call) -> Response:
    items = [views.render_artikel(a) for a in call.admin.artikelen.values()]
    return call.odata(items, ARTIKEL_TYPE)


async def artikel(call: Call) -> Response:
    found = call.found(call.admin.artikelen, ARTIKEL_TYPE.name)
    return json_response(views.render_artikel(found))


async def omzetgroepen(call: Call) -> Response:
    return json_response([views.render_omzetgroep(g) for g in call.admin.omzetgroepen.values()])


async def omzetgroep(call: Call) -> Response:
    found = call.found(call.admin.omzetgroepen, f"{NS}.Artikelen.ArtikelOmzetGroepModel")
    return json_response(views.render_omzetgroep(found))


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # relative to /v2, as in the OpenAPI file
    handler: Handler
    scopes: tuple[str, ...]

    @property
    def operation(self) -> str:
        return f"{self.method} {self.path}"


def _e(method: str, path: str, handler: Handler, *scopes: str) -> Endpoint:
    return Endpoint(method, path, handler, scopes)


ENDPOINTS: tuple[Endpoint, ...] = (
    _e("GET", "/companyInfo", company_info, "settings:read"),
    _e("GET", "/btwtarieven", btwtarieven, "settings:read"),
    _e("GET", "/landen", landen, "settings:read"),
    _e("GET", "/landen/{id}", land, "settings:read"),
    _e("GET", "/vatrates", vatrates, "settings:read"),
    _e("GET", "/vatratedefinitions", vat_rate_definitions, "settings:read"),
    _e("GET", "/grootboeken", grootboeken, "boekhouden:read"),
    _e("GET", "/grootboeken/{id}", grootboek, "boekhouden:read"),
    _e("GET", "/relaties", relaties, "relaties:read"),
    _e("POST", "/relaties", relatie_post, "relaties:write"),
    _e("GET", "/relaties/{id}", relatie_get, "relaties:read"),
    _e("PUT", "/relaties/{id}", relatie_put, "relaties:write"),
    _e(
        "GET",
        "/relaties/{id}/verkoopboekingen",
        relatie_verkoopboekingen,
        "relaties:read",
        "boekhouden:read",
    ),
    _e("POST", "/verkoopboekingen", booking_post, "boekhouden:write"),
    _e("GET", "/verkoopboekingen/{id}", booking_get, "boekhouden:read"),
    _e("PUT", "/verkoopboekingen/{id}", booking_put, "boekhouden:write"),
    _e("DELETE", "/verkoopboekingen/{id}", booking_delete, "boekhouden:write"),
    _e("GET", "/verkoopfacturen", facturen, "orders:read"),
    _e("GET", "/verkoopfacturen/{id}", factuur, "orders:read"),
    _e("GET", "/verkooporders", orders, "orders:read"),
    _e("POST", "/verkooporders", order_post, "orders:write"),
    _e("GET", "/verkooporders/{id}", order_get, "orders:read"),
    _e("DELETE", "/verkooporders/{id}", order_delete, "orders:write"),
    _e("GET", "/artikelen", artikelen, "artikelen:read"),
    _e("GET", "/artikelen/{id}", artikel, "artikelen:read"),
    _e("GET", "/artikelomzetgroepen", omzetgroepen, "artikelen:read"),
    _e("GET", "/artikelomzetgroepen/{id}", omzetgroep, "artikelen:read"),
)
