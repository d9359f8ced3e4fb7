"""The control API under /_control: what a test or the demo does to the shop
that a merchant or customer would do in CCV's back office or checkout.
Unsigned and unlimited; not part of CCV's API."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from koppel_sandbox_kit import fault_routes
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import render
from .jsontext import dumps, loads
from .state import CcvShopState, Config, NotFound
from .webhooks import WebhookSender

PREFIX = "/_control"
Handler = Callable[[Request], Awaitable[Response]]


def _json(data: Any, status: int = 200) -> Response:
    return Response(dumps(data), status, media_type="application/json")


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    data = loads(raw) if raw else {}
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def _guarded(state: CcvShopState, handler: Handler) -> Handler:
    async def endpoint(request: Request) -> Response:
        state.base_url = str(request.base_url).rstrip("/")
        try:
            return await handler(request)
        except NotFound as error:
            return JSONResponse({"error": str(error)}, status_code=404)
        except (ValueError, TypeError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)

    return endpoint


def control_routes(state: CcvShopState, sender: WebhookSender) -> list[Route]:
    def order_id(request: Request) -> int:
        return int(request.path_params["order_id"])

    def rendered(order_id: int) -> Response:
        return _json(render.order(state.order(order_id), state.base_url))

    async def create_credentials(request: Request) -> Response:
        data = await _body(request)
        creds = state.create_credentials(data.get("public"), data.get("secret"))
        return _json(dataclasses.asdict(creds), 201)

    async def change_credentials(request: Request) -> Response:
        data = await _body(request)
        creds = state.change_secret(request.path_params["public"], data.get("secret"))
        return _json(dataclasses.asdict(creds))

    async def revoke_credentials(request: Request) -> Response:
        state.revoke_credentials(request.path_params["public"])
        return Response(status_code=204)

    async def seed_order(request: Request) -> Response:
        order = state.seed_order(await _body(request))
        return _json(render.order(order, state.base_url), 201)

    async def get_order(request: Request) -> Response:
        return rendered(order_id(request))

    async def get_rows(request: Request) -> Response:
        order = state.order(order_id(request))
        return _json([render.row(order, row, state.base_url) for row in order.rows])

    async def mark_paid(request: Request) -> Response:
        data = await _body(request)
        state.set_paid(order_id(request), bool(data.get("paid", True)))
        return rendered(order_id(request))

    async def set_status(request: Request) -> Response:
        data = await _body(request)
        state.set_status(order_id(request), int(data["status"]))
        return rendered(order_id(request))

    async def edit(request: Request) -> Response:
        data = await _body(request)
        old = data.pop("old", "cancel")
        if old not in ("cancel", "delete"):
            raise ValueError("old must be 'cancel' or 'delete'")
        edited = state.edit(order_id(request), data, old=old)
        return _json(render.order(edited, state.base_url), 201)

    async def cancel(request: Request) -> Response:
        state.cancel(order_id(request))
        return rendered(order_id(request))

    async def pause(_: Request) -> Response:
        state.webhooks_paused = True
        return _json({"paused": True})

    async def resume(_: Request) -> Response:
        state.webhooks_paused = False
        return _json({"paused": False})

    async def webhooks(_: Request) -> Response:
        return _json([render.webhook(h, state.base_url) for h in state.webhooks.values()])

    async def deliveries(_: Request) -> Response:
        await sender.wait_idle()
        return _json([d.as_json() for d in state.deliveries])

    async def redeliver(request: Request) -> Response:
        number = int(request.path_params["delivery_id"])
        if not 1 <= number <= len(state.deliveries):
            raise NotFound(f"no delivery {number}")
        again = sender.redeliver(state.deliveries[number - 1])
        await sender.wait_idle()
        return _json(again.as_json(), 201)

    async def get_limits(_: Request) -> Response:
        return _json(state.limits.as_json())

    async def set_limits(request: Request) -> Response:
        data = {**state.limits.as_json(), **(await _body(request))}
        state.limits.configure(
            get=int(data["get"]),
            write=int(data["write"]),
            total=int(data["total"]),
            window_seconds=float(data["window_seconds"]),
        )
        return _json(state.limits.as_json())

    async def reset_limits(_: Request) -> Response:
        state.limits.reset()
        return Response(status_code=204)

    async def get_config(_: Request) -> Response:
        return _json(dataclasses.asdict(state.config))

    async def set_config(request: Request) -> Response:
        state.config = Config(**{**dataclasses.asdict(state.config), **(await _body(request))})
        return _json(dataclasses.asdict(state.config))

    async def counters(_: Request) -> Response:
        return _json(state.counters)

    routes = [
        ("/credentials", create_credentials, "POST"),
        ("/credentials/{public}", change_credentials, "PUT"),
        ("/credentials/{public}", revoke_credentials, "DELETE"),
        ("/orders", seed_order, "POST"),
        ("/orders/{order_id:int}", get_order, "GET"),
        ("/orders/{order_id:int}/rows", get_rows, "GET"),
        ("/orders/{order_id:int}/paid", mark_paid, "POST"),
        ("/orders/{order_id:int}/status", set_status, "POST"),
        ("/orders/{order_id:int}/edit", edit, "POST"),
        ("/orders/{order_id:int}/cancel", cancel, "POST"),
        ("/webhooks", webhooks, "GET"),
        ("/webhooks/pause", pause, "POST"),
        ("/webhooks/resume", resume, "POST"),
        ("/webhooks/deliveries", deliveries, "GET"),
        ("/webhooks/deliveries/{delivery_id:int}/redeliver", redeliver, "POST"),
        ("/ratelimits", get_limits, "GET"),
        ("/ratelimits", set_limits, "PUT"),
        ("/ratelimits", reset_limits, "DELETE"),
        ("/config", get_config, "GET"),
        ("/config", set_config, "PATCH"),
        ("/counters", counters, "GET"),
    ]
    return [
        Route(f"{PREFIX}{path}", _guarded(state, handler), methods=[method])
        for path, handler, method in routes
    ] + fault_routes(state.faults, PREFIX)
