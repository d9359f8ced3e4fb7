"""The control routes on the service's HTTP port, guarded by the operator token
(`KOPPEL_LEDGER_ASPERION_OPERATOR_TOKEN`, sent as `Authorization: Bearer <token>`):

    POST /deliveries/{connection_id}             make the delivery now (what is pending)
    POST /deliveries/{delivery_id:path}/resend   mail (and upload) a delivery again, same bytes
    GET  /deliveries/{connection_id}             the connection's deliveries
    GET  /deliveries/{delivery_id:path}/zip      a delivery's ZIP, as sealed

HTTP rather than a Kafka command: the caller (the e2e harness, the CLI, an operator)
wants the answer — which delivery, how many documents, or why not — and no command topic
exists in the contracts yet; any replica can answer, since the seal is decided in MongoDB.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .schedule import Busy, DeliveryService, UnknownConnection
from .settings import LedgerAsperionSettings

Handler = Callable[[Request], Awaitable[Response]]


def _guarded(settings: LedgerAsperionSettings, handler: Handler) -> Handler:
    async def guarded(request: Request) -> Response:
        token = settings.operator_token
        if token is None:
            return JSONResponse({"error": "the operator token is not configured"}, 403)
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
            return JSONResponse({"error": "unauthorised"}, 401)
        return await handler(request)

    return guarded


def control_routes(service: DeliveryService, settings: LedgerAsperionSettings) -> list[Route]:
    async def deliver(request: Request) -> Response:
        connection_id = request.path_params["connection_id"]
        try:
            made = await service.deliver_now(connection_id)
        except UnknownConnection:
            return JSONResponse({"error": f"no Asperion connection {connection_id!r}"}, 404)
        except Busy:
            return JSONResponse({"error": "another delivery of this connection is running"}, 409)
        return JSONResponse(
            {"connection_id": connection_id, "deliveries": [d.summary() for d in made]}
        )

    async def resend(request: Request) -> Response:
        delivery_id = request.path_params["delivery_id"]
        try:
            delivery = await service.resend(delivery_id)
        except LookupError:
            return JSONResponse({"error": f"no delivery {delivery_id!r}"}, 404)
        except Busy:
            return JSONResponse({"error": "another delivery of this connection is running"}, 409)
        return JSONResponse(delivery.summary())

    async def listing(request: Request) -> Response:
        connection_id = request.path_params["connection_id"]
        found = await service.archive.of_connection(connection_id)
        return JSONResponse(
            {"connection_id": connection_id, "deliveries": [d.summary() for d in found]}
        )

    async def download(request: Request) -> Response:
        delivery = await service.archive.get(request.path_params["delivery_id"])
        if delivery is None:
            return JSONResponse({"error": "no such delivery"}, 404)
        return Response(
            await service.archive.content(delivery),
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{delivery.name}"'},
        )

    return [
        Route(
            "/deliveries/{delivery_id:path}/resend", _guarded(settings, resend), methods=["POST"]
        ),
        Route("/deliveries/{delivery_id:path}/zip", _guarded(settings, download), methods=["GET"]),
        Route("/deliveries/{connection_id}", _guarded(settings, deliver), methods=["POST"]),
        Route("/deliveries/{connection_id}", _guarded(settings, listing), methods=["GET"]),
    ]
