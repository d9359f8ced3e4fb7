"""The sandbox as one Starlette app: the CCV API, the control API, injected faults."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from koppel_sandbox_kit import FaultMiddleware
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from .api import PREFIX, Api
from .control import control_routes
from .state import CcvShopState
from .webhooks import WebhookSender

API_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def create_app(state: CcvShopState | None = None) -> Starlette:
    state = state or CcvShopState()
    sender = WebhookSender(state)
    api = Api(state, sender)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await sender.aclose()

    app = Starlette(
        routes=[
            Route(PREFIX + "{rest:path}", api.handle, methods=API_METHODS),
            *control_routes(state, sender),
        ],
        # Faults come before the signature check: a gateway error does not
        # look at who is asking. The control API is exempt.
        middleware=[Middleware(FaultMiddleware, injector=state.faults)],
        lifespan=lifespan,
    )
    app.state.ccvshop = state
    return app
