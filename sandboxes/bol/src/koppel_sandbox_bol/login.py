"""The login host: `POST /token`, OAuth2 client credentials (bol.md §2.1).

Client id and secret come in HTTP Basic; `grant_type=client_credentials` in the
form body or — as older guides and many clients do — in the query string. A secret
in the URL is refused. Answers are OAuth-style JSON (`application/json`), not
problems; only an exhausted token limit answers with bol's bare 429 problem."""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .gateway import rate_headers, request_ids
from .jsonio import dumps
from .problems import RESPONSE_TYPE
from .state import BolState, reset_seconds

TOKEN_TYPE = "application/json;charset=UTF-8"
BAD_CLIENT = {"error": "invalid_client", "error_description": "Bad client credentials"}


def _oauth_error(status: int, body: dict[str, str]) -> Response:
    headers = {**request_ids(), "Cache-Control": "no-store", "Pragma": "no-cache"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="login.bol.com"'
    return JSONResponse(body, status, headers=headers, media_type=TOKEN_TYPE)


def _basic(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


def token_endpoint(state: BolState) -> Callable[[Request], Awaitable[Response]]:
    async def token(request: Request) -> Response:
        query = request.query_params
        if "client_secret" in query or "client_id" in query:
            return _oauth_error(
                400,
                {
                    "error": "invalid_request",
                    "error_description": "Client credentials must not be sent in the URL.",
                },
            )
        form: dict[str, str] = {}
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            form = {k: str(v) for k, v in (await request.form()).items()}
        credentials = _basic(request)
        # UNCONFIRMED whether bol still takes id/secret as form fields: refused here.
        if credentials is None:
            return _oauth_error(401, BAD_CLIENT)
        client_id, secret = credentials
        account = state.by_client_id(client_id)
        if account is None or not secrets.compare_digest(
            account.client_secret.encode(), secret.encode()
        ):
            return _oauth_error(401, BAD_CLIENT)
        grant = query.get("grant_type") or form.get("grant_type")
        if grant is None:
            return _oauth_error(
                400, {"error": "invalid_request", "error_description": "Missing grant type"}
            )
        if grant != "client_credentials":
            return _oauth_error(
                400,
                {
                    "error": "unsupported_grant_type",
                    "error_description": f"Unsupported grant type: {grant}",
                },
            )
        account.calls["POST /token"] += 1
        verdict = state.limits.hit("token", client_id)
        limits = rate_headers(verdict.limit, verdict.remaining, reset_seconds(verdict))
        if not verdict.allowed:
            account.rate_limited["POST /token"] += 1
            wait = reset_seconds(verdict)
            body = {
                "title": "Too Many Requests",
                "status": 429,
                "detail": f"Too many requests, retry in {wait} seconds.",
            }
            headers = {**request_ids(), **limits, "Retry-After": str(wait)}
            return Response(dumps(body), 429, headers=headers, media_type=RESPONSE_TYPE)
        issued = state.issue_token(account)
        return JSONResponse(
            {
                "access_token": issued.value,
                "token_type": "Bearer",
                "expires_in": state.config.token_expires_in,
                "scope": "RETAILER",
            },
            headers={**request_ids(), **limits, "Cache-Control": "no-store", "Pragma": "no-cache"},
            media_type=TOKEN_TYPE,
        )

    return token
