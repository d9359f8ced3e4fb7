"""The HTTP face of the sandbox. One server plays both SnelStart hosts:

- the token server, `POST /b2b/token` (`https://auth.snelstart.nl/b2b/token`), and
- the API gateway, `/v2/...` (`https://b2bapi.snelstart.nl/v2`),

plus the sandbox's own `/_control/...`. Every `/v2` call goes through what Azure API
Management and SnelStart do, in this order: subscription key (401), bearer token (401),
the administration's rate limits (429), the operation's scopes (403), then the operation.
Every call that reaches the sandbox is counted per administration and operation; an injected
fault answers before that (kit `FaultMiddleware`).

Secrets (koppelsleutel, subscription key, token) are never logged.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode

import jwt
from koppel_sandbox_kit import FaultMiddleware
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from . import errors as E
from .api import ENDPOINTS, Call, Endpoint, json_response
from .control_api import control_routes
from .errors import ApiError
from .state import TOKEN_LIFETIME, Koppelsleutel, SnelStartState, Token

log = logging.getLogger("koppel_sandbox_snelstart")

API_PREFIX = "/v2"
TOKEN_PATH = "/b2b/token"
TOKEN_OPERATION = f"POST {TOKEN_PATH}"
ISSUER = "https://auth.snelstart.nl"
INVALID_CLIENTKEY = (
    "GrantType clientkey was found. Parameter clientkey does not contain a valid value"
)
INVALID_PASSWORD = (
    "GrantType password was found. Parameters username/password do not contain a valid value"
)


def error_response(exc: ApiError) -> Response:
    return json_response(exc.body, exc.status, exc.headers)


# ---------------------------------------------------------------------------- token server
def _form(raw: bytes, content_type: str) -> dict[str, str]:
    """The credentials must be form fields in the body (notes §2.1): not the URL, not JSON."""
    if not content_type.lower().startswith("application/x-www-form-urlencoded"):
        return {}
    fields = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[-1] for name, values in fields.items()}


def _key_for_password(state: SnelStartState, username: str, password: str) -> Koppelsleutel | None:
    """Legacy grant: the koppelsleutel is base64 of `username:password` (notes §2.1)."""
    for key in state.koppelsleutels.values():
        try:
            decoded = base64.b64decode(key.value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            continue
        if decoded == f"{username}:{password}":
            return key
    return None


def issue_access_token(state: SnelStartState, key: Koppelsleutel) -> dict[str, Any]:
    token = state.issue_token(key)
    now = state.now()
    claims = {
        "iss": ISSUER,
        "aud": "b2bapi",
        "sub": key.administration_id,
        "administratie": key.administration_id,
        "scopes": " ".join(token.scopes),
        "jti": token.jti,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int(token.expires_at.timestamp()),
    }
    encoded = jwt.encode(claims, state.signing_key, algorithm="HS256")
    return {
        "access_token": encoded,
        "token_type": "bearer",
        "expires_in": int(TOKEN_LIFETIME.total_seconds()),
    }


def token_route(state: SnelStartState) -> Route:
    async def token(request: Request) -> Response:
        administration: str | None = None
        try:
            form = _form(await request.body(), request.headers.get("content-type", ""))
            grant = form.get("grant_type")
            if grant == "clientkey":
                key = state.koppelsleutels.get(form.get("clientkey", ""))
                message = INVALID_CLIENTKEY
            elif grant == "password":
                key = _key_for_password(state, form.get("username", ""), form.get("password", ""))
                message = INVALID_PASSWORD
            else:
                return json_response({"error": "unsupported_grant_type"}, 400)
            if key is None:
                return json_response({"error": message}, 400)
            administration = key.administration_id
            return json_response(issue_access_token(state, key))
        finally:
            state.count_call(administration, TOKEN_OPERATION)

    return Route(TOKEN_PATH, token, methods=["POST"])


# ---------------------------------------------------------------------------- API gateway
def _subscription_key(state: SnelStartState, request: Request) -> None:
    key = request.headers.get("Ocp-Apim-Subscription-Key") or request.query_params.get(
        "subscription-key"
    )
    if not key:
        raise ApiError.gateway(401, E.MISSING_SUBSCRIPTION_KEY)
    if key not in state.subscription_keys:
        raise ApiError.gateway(401, E.INVALID_SUBSCRIPTION_KEY)


def _bearer(state: SnelStartState, request: Request) -> Token:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiError.gateway(401, E.INVALID_TOKEN)
    try:
        claims = jwt.decode(
            value.strip(),
            state.signing_key,
            algorithms=["HS256"],
            options={"verify_exp": False, "verify_nbf": False, "verify_aud": False},
        )
    except jwt.PyJWTError:
        raise ApiError.gateway(401, E.INVALID_TOKEN) from None
    # expiry on the sandbox clock, and revoked keys take their tokens with them
    token = state.live_token(str(claims.get("jti", "")))
    if token is None:
        raise ApiError.gateway(401, E.INVALID_TOKEN)
    return token


def _endpoint(state: SnelStartState, endpoint: Endpoint):
    async def handle(request: Request) -> Response:
        administration: str | None = None
        try:
            _subscription_key(state, request)
            token = _bearer(state, request)
            administration = token.administration_id
            limiter = state.limiter(administration)
            limiter.admit("calls")
            missing = [s for s in endpoint.scopes if s not in token.scopes]
            if missing:
                raise ApiError.framework(
                    403, f"Het token mist de benodigde scope(s): {', '.join(missing)}"
                )
            admin = state.administrations[administration]
            limiter.enter()
            try:
                if state.latency_seconds:
                    await asyncio.sleep(state.latency_seconds)
                return await endpoint.handler(Call(request, state, admin, token))
            finally:
                limiter.leave()
        except ApiError as exc:
            return error_response(exc)
        except Exception:
            log.exception("sandbox error on %s", endpoint.operation)
            return json_response({"Message": "An error has occurred."}, 500)
        finally:
            state.count_call(administration, endpoint.operation)

    return handle


def api_routes(state: SnelStartState) -> list[BaseRoute]:
    by_path: dict[str, list[Endpoint]] = {}
    for endpoint in ENDPOINTS:
        by_path.setdefault(endpoint.path, []).append(endpoint)
    routes: list[BaseRoute] = []
    for path, endpoints in by_path.items():
        handlers = {e.method: _endpoint(state, e) for e in endpoints}

        async def dispatch(request: Request, handlers=handlers) -> Response:
            return await handlers[request.method if request.method != "HEAD" else "GET"](request)

        routes.append(Route(f"{API_PREFIX}{path}", dispatch, methods=list(handlers)))
    return routes


async def _not_found(_: Request, exc: Exception) -> Response:
    """APIM answers an operation it does not know (any path, or a method a path lacks — there
    is no `GET /verkoopboekingen`) with 404 before any key is checked."""
    assert isinstance(exc, HTTPException)
    if exc.status_code in (404, 405):
        return error_response(ApiError.gateway(404, E.RESOURCE_NOT_FOUND))
    return json_response({"Message": exc.detail}, exc.status_code)


class HideSubscriptionKey:
    """APIM also takes the subscription key as `?subscription-key=`, and uvicorn's access log
    prints the request line. Moving the key into its header (in place: the server logs this
    very scope) keeps it out of every log line; the gateway check reads the header first."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and b"subscription-key=" in scope.get("query_string", b""):
            pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
            key = next((value for name, value in pairs if name == "subscription-key"), "")
            kept = [(name, value) for name, value in pairs if name != "subscription-key"]
            scope["query_string"] = urlencode(kept).encode("latin-1")
            headers = list(scope["headers"])
            if key and not any(n.lower() == SUBSCRIPTION_HEADER for n, _ in headers):
                headers.append((SUBSCRIPTION_HEADER, key.encode("latin-1")))
            scope["headers"] = headers
        await self.app(scope, receive, send)


SUBSCRIPTION_HEADER = b"ocp-apim-subscription-key"


def create_app(state: SnelStartState) -> Starlette:
    return Starlette(
        routes=[*control_routes(state), token_route(state), *api_routes(state)],
        middleware=[
            Middleware(HideSubscriptionKey),
            Middleware(FaultMiddleware, injector=state.faults),
        ],
        exception_handlers={HTTPException: _not_found},
    )
