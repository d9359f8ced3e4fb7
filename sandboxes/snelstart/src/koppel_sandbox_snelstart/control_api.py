"""`/_control/...`: the sandbox's own test hooks (not part of SnelStart). Never subject to
keys, rate limits or faults. `SnelStartControl` (control.py) is the client."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from koppel_sandbox_kit import ControlApi, ControlRefusal, ErrorStatus, RouteSpec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from .bookings import open_balance, render_booking, render_factuur
from .demo import demo_identity_json
from .jsonio import SNELSTART_JSON
from .limits import RateLimits
from .orders import render_order
from .relaties import render_relatie
from .state import Administration, SnelStartState


def _bad_request(error: Exception) -> str:
    return f"bad request: {error}"


def _not_an_object() -> Exception:
    return ControlRefusal(400, "control body must be a JSON object")


API = ControlApi(
    SNELSTART_JSON,
    errors=[ErrorStatus((ValueError, TypeError, KeyError), 400, _bad_request)],
    not_an_object=_not_an_object,
)


def _decimal(value: Any, name: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ControlRefusal(400, f"{name} is not a number: {value!r}") from None


def _optional_int(data: dict[str, Any], name: str, current: int | None) -> int | None:
    if name not in data:
        return current
    return None if data[name] is None else int(data[name])


def control_routes(state: SnelStartState) -> list[BaseRoute]:
    def admin(request: Request) -> Administration:
        found = state.administrations.get(request.path_params["a"])
        if found is None:
            raise ControlRefusal(404, f"unknown administratie {request.path_params['a']!r}")
        return found

    def key(data: dict[str, Any]) -> str:
        value = str(data.get("koppelsleutel", ""))
        if value not in state.koppelsleutels:
            raise ControlRefusal(404, "unknown koppelsleutel")
        return value

    async def expire(_: Request) -> Response:
        state.expire_tokens()
        return Response(status_code=204)

    async def revoke(request: Request) -> Response:
        state.revoke_koppelsleutel(key(await API.body(request)))
        return Response(status_code=204)

    async def regenerate(request: Request) -> Response:
        return API.json(
            {"koppelsleutel": state.regenerate_koppelsleutel(key(await API.body(request)))}
        )

    async def scopes(request: Request) -> Response:
        data = await API.body(request)
        state.koppelsleutels[key(data)].scopes = tuple(str(s) for s in data["scopes"])
        return Response(status_code=204)

    async def limits(request: Request) -> Response:
        data = await API.body(request)
        target = data.get("administratie_id")
        if target is not None and target not in state.administrations:
            raise ControlRefusal(404, f"unknown administratie {target!r}")
        current = state.limit_overrides.get(target, state.limits) if target else state.limits
        new = RateLimits(
            _optional_int(data, "per_minute", current.per_minute),
            _optional_int(data, "per_hour", current.per_hour),
            _optional_int(data, "concurrent", current.concurrent),
        )
        state.set_limits(new, target)
        return API.json(vars(new))

    async def options(request: Request) -> Response:
        data = await API.body(request)
        if "latency_seconds" in data:
            state.latency_seconds = float(data["latency_seconds"])
        return API.json({"latency_seconds": state.latency_seconds})

    async def calls(request: Request) -> Response:
        return API.json(state.call_counts(request.query_params.get("administratie")))

    async def listing(request: Request) -> Response:
        a, kind = admin(request), request.path_params["kind"]
        if kind == "verkoopboekingen":
            return API.json([_booking_view(b) for b in a.boekingen.values()])
        if kind == "verkoopfacturen":
            return API.json([render_factuur(b) for b in a.boekingen.values()])
        if kind == "relaties":
            return API.json([render_relatie(r) for r in a.relaties.values()])
        if kind == "verkooporders":
            return API.json([render_order(o) for o in a.orders.values()])
        raise ControlRefusal(404, f"unknown list {kind!r}")

    async def payment(request: Request) -> Response:
        a, data = admin(request), await API.body(request)
        number = str(data.get("factuurnummer", ""))
        booking = next((b for b in a.boekingen.values() if b.data["factuurnummer"] == number), None)
        if booking is None:
            raise ControlRefusal(404, f"no verkoopfactuur {number!r}")
        amount = data.get("bedrag")
        booking.payments.append(
            open_balance(booking) if amount is None else _decimal(amount, "bedrag")
        )
        booking.factuur_modified = state.local_now()
        return API.json(render_factuur(booking))

    async def vat_return(request: Request) -> Response:
        a, data = admin(request), await API.body(request)
        booking = a.boekingen.get(str(data.get("verkoopboeking_id", "")))
        if booking is None:
            raise ControlRefusal(404, "unknown verkoopboeking")
        booking.vat_return_filed = bool(data.get("filed", True))
        return Response(status_code=204)

    async def tamper(request: Request) -> Response:
        a, data = admin(request), await API.body(request)
        a.tamper_next = _decimal(data.get("total_delta", "1.00"), "total_delta")
        return Response(status_code=204)

    async def foreign_vat(request: Request) -> Response:
        a, data = admin(request), await API.body(request)
        a.factureer_buitenlands_btw = bool(data.get("enabled", True))
        return API.json({"factureerBuitenlandsBtw": a.factureer_buitenlands_btw})

    async def block(request: Request) -> Response:
        a, data = admin(request), await API.body(request)
        until = data.get("tot_en_met")
        a.blocked_until = None if until is None else date.fromisoformat(str(until))
        a.blocked_by_accountant = bool(data.get("door_accountant", False))
        return Response(status_code=204)

    administratie = "/administraties/{a}"
    routes: list[RouteSpec] = [
        *API.seeded_routes(state, demo_identity_json),
        ("/tokens/expire", expire, "POST"),
        ("/koppelsleutels/revoke", revoke, "POST"),
        ("/koppelsleutels/regenerate", regenerate, "POST"),
        ("/koppelsleutels/scopes", scopes, "POST"),
        ("/limits", limits, "POST"),
        ("/options", options, "POST"),
        ("/calls", calls, "GET"),
        (f"{administratie}/betalingen", payment, "POST"),
        (f"{administratie}/btwaangifte", vat_return, "POST"),
        (f"{administratie}/buitenlandse-btw", foreign_vat, "POST"),
        (f"{administratie}/tamper", tamper, "POST"),
        (f"{administratie}/blokkeren", block, "POST"),
        (f"{administratie}/{{kind}}", listing, "GET"),
    ]
    return API.routes(routes, state.faults)


def _booking_view(booking) -> dict[str, Any]:
    """A booking as the API shows it, plus the sandbox's own facts under `_sandbox`."""
    view = render_booking(booking)
    view["_sandbox"] = {
        "verkoopfactuur": render_factuur(booking),
        "betalingen": list(booking.payments),
        "btwAangifte": booking.vat_return_filed,
    }
    return view
