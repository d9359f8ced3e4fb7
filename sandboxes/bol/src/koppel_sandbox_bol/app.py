"""The sandbox as one Starlette app: the login host (`/token`), the Retailer API
(`/retailer/…`), the shared process status (`/shared/…`), the control API
(`/_control/…`) and injected faults in front of all but the control API."""

from __future__ import annotations

import re

from koppel_sandbox_kit import FaultMiddleware
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .control import control_routes
from .gateway import problem_response, serve_endpoint
from .handlers import ENDPOINTS
from .login import token_endpoint
from .problems import ApiError
from .state import BolState

_TITLES = {404: "Not Found", 405: "Method Not Allowed", 400: "Bad Request"}


def starlette_path(template: str) -> str:
    """`/retailer/orders/{order-id}` → `/retailer/orders/{order_id}`."""
    return re.sub(r"\{([^}]+)\}", lambda m: "{" + m.group(1).replace("-", "_") + "}", template)


def create_app(state: BolState | None = None) -> Starlette:
    state = state or BolState()

    async def http_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        title = _TITLES.get(exc.status_code, "Error")
        detail = exc.detail if exc.detail and exc.detail != title else f"{title}."
        error = ApiError(exc.status_code, title, detail, headers=dict(exc.headers or {}))
        return problem_response(state, request, error)

    api_routes = [
        Route(starlette_path(e.template), serve_endpoint(state, e), methods=[e.method])
        for e in ENDPOINTS
    ]
    app = Starlette(
        routes=[
            Route("/token", token_endpoint(state), methods=["POST"]),
            *api_routes,
            *control_routes(state),
        ],
        middleware=[Middleware(FaultMiddleware, injector=state.faults)],
        exception_handlers={HTTPException: http_problem},
    )
    app.state.bol = state
    return app
