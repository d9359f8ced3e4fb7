"""`/_control/...`: the sandbox's own test hooks (not part of SnelStart). Never subject to
keys, rate limits or faults. `SnelStartControl` (control.py) is the client."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from koppel_sandbox_kit import fault_routes
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .bookings import open_balance, render_booking, render_factuur
from .demo import demo_identity_json
from .jsonio import dumps, loads
from .limits import RateLimits
from .orders import render_order
from .relaties import render_relatie
from .state import Administration, SnelStartState

PREFIX = "/_control"


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _json(payload: Any, status: int = 200) -> Response:
    return Response(dumps(payload), status, media_type="application/json")


def _decimal(value: Any, name: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ControlError(400, f"{name} is not a number: {value!r}") from None


def _optional_int(data: dict[str, Any], name: str, current: int | None) -> int | None:
    if name not in data:
        return current
    return None if data[name] is None else int(data[name])


def control_routes(state: SnelStartState) -> list[BaseRoute]:
    async def body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        data = loads(raw) if raw.strip() else {}
        if not isinstance(data, dict):
            raise ControlError(400, "control body must be a JSON object")
        return data

    def admin(request: Request) -> Administration:
        found = state.administrations.get(request.path_params["a"])
        if found is None:
            raise ControlError(404, f"unknown administratie {request.path_params['a']!r}")
        return found

    def key(data: dict[str, Any]) -> str:
        value = str(data.get("koppelsleutel", ""))
        if value not in state.koppelsleutels:
            raise ControlError(404, "unknown koppelsleutel")
        return value

    def guarded(fn: Callable[[Request], Awaitable[Response]]):
        async def endpoint(request: Request) -> Response:
            try:
                return await fn(request)
            except ControlError as exc:
                return _json({"error": exc.message}, exc.status)
            except (ValueError, TypeError, KeyError) as exc:
                return _json({"error": f"bad request: {exc}"}, 400)

        return endpoint

    async def identity(_: Request) -> Response:
        return _json(demo_identity_json())

    async def reset(_: Request) -> Response:
        state.reset()
        return Response(status_code=204)

    async def clock(request: Request) -> Response:
        state.advance_clock(float((await body(request)).get("advance_seconds", 0)))
        return _json({"now": state.now().isoformat()})

    async def expire(_: Request) -> Response:
        state.expire_tokens()
        return Response(status_code=204)

    async def revoke(request: Request) -> Response:
        state.revoke_koppelsleutel(key(await body(request)))
        return Response(status_code=204)

    async def regenerate(request: Request) -> Response:
        return _json({"koppelsleutel": state.regenerate_koppelsleutel(key(await body(request)))})

    async def scopes(request: Request) -> Response:
        data = await body(request)
        state.koppelsleutels[key(data)].scopes = tuple(str(s) for s in data["scopes"])
        return Response(status_code=204)

    async def limits(request: Request) -> Response:
        data = await body(request)
        target = data.get("administratie_id")
        if target is not None and target not in state.administrations:
            raise ControlError(404, f"unknown administratie {target!r}")
        current = state.limit_overrides.get(target, state.limits) if target else state.limits
        new = RateLimits(
            _optional_int(data, "per_minute", current.per_minute),
            _optional_int(data, "per_hour", current.per_hour),
            _optional_int(data, "concurrent", current.concurrent),
        )
        state.set_limits(new, target)
        return _json(vars(new))

    async def options(request: Request) -> Response:
        data = await body(request)
        if "latency_seconds" in data:
            state.latency_seconds = float(data["latency_seconds"])
        return _json({"latency_seconds": state.latency_seconds})

    async def calls(request: Request) -> Response:
        return _json(state.call_counts(request.query_params.get("administratie")))

    async def listing(request: Request) -> Response:
        a, kind = admin(request), request.path_params["kind"]
        if kind == "verkoopboekingen":
            return _json([_booking_view(b) for b in a.boekingen.values()])
        if kind == "verkoopfacturen":
            return _json([render_factuur(b) for b in a.boekingen.values()])
        if kind == "relaties":
            return _json([render_relatie(r) for r in a.relaties.values()])
        if kind == "verkooporders":
            return _json([render_order(o) for o in a.orders.values()])
        raise ControlError(404, f"unknown list {kind!r}")

    async def payment(request: Request) -> Response:
        a, data = admin(request), await body(request)
        number = str(data.get("factuurnummer", ""))
        booking = next((b for b in a.boekingen.values() if b.data["factuurnummer"] == number), None)
        if booking is None:
            raise ControlError(404, f"no verkoopfactuur {number!r}")
        amount = data.get("bedrag")
        booking.payments.append(
            open_balance(booking) if amount is None else _decimal(amount, "bedrag")
        )
        booking.factuur_modified = state.local_now()
        return _json(render_factuur(booking))

    async def vat_return(request: Request) -> Response:
        a, data = admin(request), await body(request)
        booking = a.boekingen.get(str(data.get("verkoopboeking_id", "")))
        if booking is None:
            raise ControlError(404, "unknown verkoopboeking")
        booking.vat_return_filed = bool(data.get("filed", True))
        return Response(status_code=204)

    async def tamper(request: Request) -> Response:
        a, data = admin(request), await body(request)
        a.tamper_next = _decimal(data.get("total_delta", "1.00"), "total_delta")
        return Response(status_code=204)

    async def foreign_vat(request: Request) -> Response:
        a, data = admin(request), await body(request)
        a.factureer_buitenlands_btw = bool(data.get("enabled", True))
        return _json({"factureerBuitenlandsBtw": a.factureer_buitenlands_btw})

    async def block(request: Request) -> Response:
        a, data = admin(request), await body(request)
        until = data.get("tot_en_met")
        a.blocked_until = None if until is None else date.fromisoformat(str(until))
        a.blocked_by_accountant = bool(data.get("door_accountant", False))
        return Response(status_code=204)

    administratie = f"{PREFIX}/administraties/{{a}}"
    return [
        Route(f"{PREFIX}/identity", guarded(identity), methods=["GET"]),
        Route(f"{PREFIX}/reset", guarded(reset), methods=["POST"]),
        Route(f"{PREFIX}/clock", guarded(clock), methods=["POST"]),
        Route(f"{PREFIX}/tokens/expire", guarded(expire), methods=["POST"]),
        Route(f"{PREFIX}/koppelsleutels/revoke", guarded(revoke), methods=["POST"]),
        Route(f"{PREFIX}/koppelsleutels/regenerate", guarded(regenerate), methods=["POST"]),
        Route(f"{PREFIX}/koppelsleutels/scopes", guarded(scopes), methods=["POST"]),
        Route(f"{PREFIX}/limits", guarded(limits), methods=["POST"]),
        Route(f"{PREFIX}/options", guarded(options), methods=["POST"]),
        Route(f"{PREFIX}/calls", guarded(calls), methods=["GET"]),
        Route(f"{administratie}/betalingen", guarded(payment), methods=["POST"]),
        Route(f"{administratie}/btwaangifte", guarded(vat_return), methods=["POST"]),
        Route(f"{administratie}/buitenlandse-btw", guarded(foreign_vat), methods=["POST"]),
        Route(f"{administratie}/tamper", guarded(tamper), methods=["POST"]),
        Route(f"{administratie}/blokkeren", guarded(block), methods=["POST"]),
        Route(f"{administratie}/{{kind}}", guarded(listing), methods=["GET"]),
        *fault_routes(state.faults, prefix=PREFIX),
    ]


def _booking_view(booking) -> dict[str, Any]:
    """A booking as the API shows it, plus the sandbox's own facts under `_sandbox`."""
    view = render_booking(booking)
    view["_sandbox"] = {
        "verkoopfactuur": render_factuur(booking),
        "betalingen": list(booking.payments),
        "btwAangifte": booking.vat_return_filed,
    }
    return view
