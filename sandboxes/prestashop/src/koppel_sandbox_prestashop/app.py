"""The sandbox as one Starlette app: the webservice, the control API, injected faults."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from koppel_sandbox_kit import FaultMiddleware
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .api import Api
from .control import control_routes
from .state import PrestaShopState


class AnyMethod:
    """An ASGI endpoint for every HTTP method: PrestaShop itself answers an
    unknown one (405 code 23), so Starlette must not refuse it first."""

    def __init__(self, handler: Callable[[Request], Awaitable[Response]]) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handler(Request(scope, receive))
        await response(scope, receive, send)


def create_app(state: PrestaShopState | None = None) -> Starlette:
    state = state or PrestaShopState()
    api = AnyMethod(Api(state).handle)
    routes = [
        Route("/api", api),
        Route("/api/{rest:path}", api),
        Route("/webservice/dispatcher.php", api),
        *control_routes(state),
    ]
    app = Starlette(
        routes=routes,
        # Faults come first, like a gateway in front of the shop; /_control is exempt.
        middleware=[Middleware(FaultMiddleware, injector=state.faults)],
    )
    app.state.prestashop = state
    return app
