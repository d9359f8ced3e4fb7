"""The control API under /_control: what a test (or the demo) does to the shop
that a customer or the merchant would do in PrestaShop's checkout and back
office. JSON in and out, no key; not part of PrestaShop's API."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from koppel_sandbox_kit import ControlApi, ErrorStatus, RouteSpec, typed_text
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from . import aftersales, orders
from .catalogue import SOURCES
from .model import OrderState
from .records import Record
from .render_json import entity
from .resources import MODELLED
from .state import Config, InjectedError, NotFound, PrestaShopState

ERRORS = (
    ErrorStatus(NotFound, 404),
    ErrorStatus((ValueError, TypeError, KeyError), 400, typed_text),
)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


class ControlJson:
    """The control API's JSON: amounts as strings (as the 8.x JSON writes them), datetimes
    as the shop stores them, sets (a key's methods) sorted; bodies read with Decimals."""

    def dumps(self, value: Any) -> str:
        return json.dumps(value, default=_default)

    def loads(self, raw: bytes | str) -> Any:
        return json.loads(raw, parse_float=Decimal)


def view(
    state: PrestaShopState, resource: str, ids: set[int] | None = None, **match: Any
) -> list[Any]:
    """Records of a resource as the 8.x JSON renders them (all languages)."""
    spec = MODELLED[resource]
    languages = sorted(state.languages)

    def wanted(record: Record) -> bool:
        """Asked of heads (their fields only) and then of the records built."""
        return (ids is None or int(record["id"]) in ids) and all(
            record[k] == v for k, v in match.items() if k in record
        )

    found = [
        r
        for r in SOURCES[resource](state, wanted)
        if wanted(r) and all(r.get(k) == v for k, v in match.items())
    ]
    return [entity(spec, r, "full", languages, "8", list(spec.fields)) for r in found]


def order_view(state: PrestaShopState, order_id: int) -> dict[str, Any]:
    state.order(order_id)
    return {
        "order": view(state, "orders", {order_id})[0],
        "order_details": view(state, "order_details", id_order=order_id),
        "order_cart_rules": view(state, "order_cart_rules", id_order=order_id),
        "order_histories": view(state, "order_histories", id_order=order_id),
        "order_slip": view(state, "order_slip", id_order=order_id),
    }


def _order_state(state: PrestaShopState, spec: dict[str, Any], state_id: int) -> OrderState:
    names = spec.get("name", f"Status {state_id}")
    by_iso = {lang.iso_code: lang.id for lang in state.languages.values()}
    if isinstance(names, str):
        name = {lang: names for lang in state.languages}
    else:
        name = {
            by_iso.get(str(k), int(k) if str(k).isdigit() else 0): str(v) for k, v in names.items()
        }
    flags = {
        f.name: bool(spec[f.name])
        for f in dataclasses.fields(OrderState)
        if f.name in spec and f.type in ("bool", bool)
    }
    return OrderState(
        id=state_id,
        name=name,
        module_name=str(spec.get("module_name", "")),
        color=str(spec.get("color", "#34209E")),
        **flags,
    )


def control_routes(state: PrestaShopState) -> list[BaseRoute]:
    def learn_base_url(request: Request) -> None:
        state.base_url = str(request.base_url).rstrip("/")

    api = ControlApi(ControlJson(), errors=ERRORS, on_request=learn_base_url)

    def oid(request: Request) -> int:
        return int(request.path_params["order_id"])

    async def reset(_: Request) -> Response:
        state.reset()
        return Response(status_code=204)

    async def get_config(_: Request) -> Response:
        return api.json(dataclasses.asdict(state.config))

    async def set_config(request: Request) -> Response:
        changes = await api.json_body(request)
        state.config = Config(**{**dataclasses.asdict(state.config), **changes})
        return api.json(dataclasses.asdict(state.config))

    async def webservice(request: Request) -> Response:
        state.config.webservice_enabled = bool((await api.json_body(request)).get("enabled", True))
        return api.json({"enabled": state.config.webservice_enabled})

    def key_json(key: Any) -> dict[str, Any]:
        return {"key": key.key, "permissions": key.permissions, "active": key.active}

    async def create_key(request: Request) -> Response:
        data = await api.json_body(request)
        key = state.create_key(
            data.get("permissions", "read"),
            key=data.get("key"),
            active=bool(data.get("active", True)),
            description=str(data.get("description", "")),
        )
        return api.json(key_json(key), 201)

    async def change_key(request: Request) -> Response:
        key = state.key(request.path_params["key"])
        data = await api.json_body(request)
        if "active" in data:
            key.active = bool(data["active"])
        if "permissions" in data:
            fresh = state.create_key(data["permissions"], key=key.key, active=key.active)
            key.permissions = fresh.permissions
            state.keys[key.key] = key
        return api.json(key_json(key))

    async def delete_key(request: Request) -> Response:
        state.key(request.path_params["key"])
        del state.keys[request.path_params["key"]]
        return Response(status_code=204)

    async def list_states(_: Request) -> Response:
        return api.json(view(state, "order_states"))

    async def replace_states(request: Request) -> Response:
        specs = await api.json_body(request)
        state.order_states = {int(s["id"]): _order_state(state, s, int(s["id"])) for s in specs}
        return api.json(view(state, "order_states"))

    async def add_state(request: Request) -> Response:
        spec = await api.json_body(request)
        state_id = int(spec.get("id", max(state.order_states, default=0) + 1))
        state.order_states[state_id] = _order_state(state, spec, state_id)
        return api.json(view(state, "order_states", {state_id})[0], 201)

    async def change_state_flags(request: Request) -> Response:
        current = state.order_state(int(request.path_params["state_id"]))
        for name, value in (await api.json_body(request)).items():
            if name == "name":
                current.name = _order_state(state, {"name": value}, current.id).name
            elif hasattr(current, name) and name != "id":
                setattr(current, name, value)
        return api.json(view(state, "order_states", {current.id})[0])

    async def create_order(request: Request) -> Response:
        order = orders.create_order(state, await api.json_body(request))
        return api.json(order_view(state, order.id), 201)

    async def get_order(request: Request) -> Response:
        return api.json(order_view(state, oid(request)))

    async def edit(request: Request) -> Response:
        orders.edit_order(state, oid(request), await api.json_body(request))
        return api.json(order_view(state, oid(request)))

    async def change_state(request: Request) -> Response:
        data = await api.json_body(request)
        orders.set_state(state, oid(request), int(data["state"]), int(data.get("employee", 1)))
        return api.json(order_view(state, oid(request)))

    async def refund(request: Request) -> Response:
        slip = aftersales.refund(state, oid(request), await api.json_body(request))
        return api.json(view(state, "order_slip", {slip.id})[0], 201)

    async def cancel(request: Request) -> Response:
        orders.cancel(state, oid(request))
        return api.json(order_view(state, oid(request)))

    async def malform(request: Request) -> Response:
        aftersales.malform(state, oid(request), await api.json_body(request))
        return api.json(order_view(state, oid(request)))

    async def tracking(request: Request) -> Response:
        aftersales.set_tracking(
            state, oid(request), str((await api.json_body(request))["tracking_number"])
        )
        return api.json(order_view(state, oid(request)))

    async def set_clock(request: Request) -> Response:
        data = await api.json_body(request)
        if "advance_seconds" in data:
            state.advance_clock(float(data["advance_seconds"]))
        else:
            state.set_clock(datetime.strptime(str(data["now"]), "%Y-%m-%d %H:%M:%S"))
        return api.json({"now": state.now()})

    async def real_clock(_: Request) -> Response:
        state.set_clock(None)
        return api.json({"now": state.now()})

    async def host_limit(request: Request) -> Response:
        data = await api.json_body(request)
        state.set_host_limit(int(data["limit"]), float(data.get("window_seconds", 60)))
        return api.json(dataclasses.asdict(state.host_limit) if state.host_limit else None)

    async def no_host_limit(_: Request) -> Response:
        state.set_host_limit(None)
        return Response(status_code=204)

    async def add_error(request: Request) -> Response:
        state.errors.append(InjectedError(**(await api.json_body(request))))
        return api.json({"pending": len(state.errors)}, 201)

    async def clear_errors(_: Request) -> Response:
        state.errors.clear()
        return Response(status_code=204)

    async def counters(_: Request) -> Response:
        return api.json(state.counters.as_json())

    routes: list[RouteSpec] = [
        ("/reset", reset, "POST"),
        ("/config", get_config, "GET"),
        ("/config", set_config, "PATCH"),
        ("/webservice", webservice, "POST"),
        ("/keys", create_key, "POST"),
        ("/keys/{key}", change_key, "PATCH"),
        ("/keys/{key}", delete_key, "DELETE"),
        ("/order_states", list_states, "GET"),
        ("/order_states", replace_states, "PUT"),
        ("/order_states", add_state, "POST"),
        ("/order_states/{state_id:int}", change_state_flags, "PATCH"),
        ("/orders", create_order, "POST"),
        ("/orders/{order_id:int}", get_order, "GET"),
        ("/orders/{order_id:int}/edit", edit, "POST"),
        ("/orders/{order_id:int}/state", change_state, "POST"),
        ("/orders/{order_id:int}/refund", refund, "POST"),
        ("/orders/{order_id:int}/cancel", cancel, "POST"),
        ("/orders/{order_id:int}/malform", malform, "POST"),
        ("/orders/{order_id:int}/tracking", tracking, "POST"),
        ("/clock", set_clock, "POST"),
        ("/clock", real_clock, "DELETE"),
        ("/host_limit", host_limit, "PUT"),
        ("/host_limit", no_host_limit, "DELETE"),
        ("/errors", add_error, "POST"),
        ("/errors", clear_errors, "DELETE"),
        ("/counters", counters, "GET"),
    ]
    return api.routes(routes, state.faults)
