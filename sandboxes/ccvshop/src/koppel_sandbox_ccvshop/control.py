"""The control API under /_control: what a test or the demo does to the shop
that a merchant or customer would do in CCV's back office or checkout.
Unsigned and unlimited; not part of CCV's API."""

from __future__ import annotations

import dataclasses

from koppel_sandbox_kit import ControlApi, ErrorStatus, RouteSpec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from . import render
from .jsontext import CCV_JSON
from .state import CcvShopState, Config, NotFound
from .webhooks import WebhookSender

ERRORS = (ErrorStatus(NotFound, 404), ErrorStatus((ValueError, TypeError), 400))


def control_routes(state: CcvShopState, sender: WebhookSender) -> list[BaseRoute]:
    def learn_base_url(request: Request) -> None:
        state.base_url = str(request.base_url).rstrip("/")

    api = ControlApi(CCV_JSON, errors=ERRORS, on_request=learn_base_url)

    def order_id(request: Request) -> int:
        return int(request.path_params["order_id"])

    def rendered(order_id: int) -> Response:
        return api.json(render.order(state.order(order_id), state.base_url))

    async def create_credentials(request: Request) -> Response:
        data = await api.body(request)
        creds = state.create_credentials(data.get("public"), data.get("secret"))
        return api.json(dataclasses.asdict(creds), 201)

    async def change_credentials(request: Request) -> Response:
        data = await api.body(request)
        creds = state.change_secret(request.path_params["public"], data.get("secret"))
        return api.json(dataclasses.asdict(creds))

    async def revoke_credentials(request: Request) -> Response:
        state.revoke_credentials(request.path_params["public"])
        return Response(status_code=204)

    async def seed_order(request: Request) -> Response:
        order = state.seed_order(await api.body(request))
        return api.json(render.order(order, state.base_url), 201)

    async def get_order(request: Request) -> Response:
        return rendered(order_id(request))

    async def get_rows(request: Request) -> Response:
        order = state.order(order_id(request))
        return api.json([render.row(order, row, state.base_url) for row in order.rows])

    async def mark_paid(request: Request) -> Response:
        data = await api.body(request)
        state.set_paid(order_id(request), bool(data.get("paid", True)))
        return rendered(order_id(request))

    async def set_status(request: Request) -> Response:
        data = await api.body(request)
        state.set_status(order_id(request), int(data["status"]))
        return rendered(order_id(request))

    async def edit(request: Request) -> Response:
        data = await api.body(request)
        old = data.pop("old", "cancel")
        if old not in ("cancel", "delete"):
            raise ValueError("old must be 'cancel' or 'delete'")
        edited = state.edit(order_id(request), data, old=old)
        return api.json(render.order(edited, state.base_url), 201)

    async def cancel(request: Request) -> Response:
        state.cancel(order_id(request))
        return rendered(order_id(request))

    async def pause(_: Request) -> Response:
        state.webhooks_paused = True
        return api.json({"paused": True})

    async def resume(_: Request) -> Response:
        state.webhooks_paused = False
        return api.json({"paused": False})

    async def webhooks(_: Request) -> Response:
        return api.json([render.webhook(h, state.base_url) for h in state.webhooks.values()])

    async def deliveries(_: Request) -> Response:
        await sender.wait_idle()
        return api.json([d.as_json() for d in state.deliveries])

    async def redeliver(request: Request) -> Response:
        number = int(request.path_params["delivery_id"])
        if not 1 <= number <= len(state.deliveries):
            raise NotFound(f"no delivery {number}")
        again = sender.redeliver(state.deliveries[number - 1])
        await sender.wait_idle()
        return api.json(again.as_json(), 201)

    async def get_limits(_: Request) -> Response:
        return api.json(state.limits.as_json())

    async def set_limits(request: Request) -> Response:
        data = {**state.limits.as_json(), **(await api.body(request))}
        state.limits.configure(
            get=int(data["get"]),
            write=int(data["write"]),
            total=int(data["total"]),
            window_seconds=float(data["window_seconds"]),
        )
        return api.json(state.limits.as_json())

    async def reset_limits(_: Request) -> Response:
        state.limits.reset()
        return Response(status_code=204)

    async def get_config(_: Request) -> Response:
        return api.json(dataclasses.asdict(state.config))

    async def set_config(request: Request) -> Response:
        state.config = Config(**{**dataclasses.asdict(state.config), **(await api.body(request))})
        return api.json(dataclasses.asdict(state.config))

    async def counters(_: Request) -> Response:
        return api.json(state.counters)

    routes: list[RouteSpec] = [
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
    return api.routes(routes, state.faults)
