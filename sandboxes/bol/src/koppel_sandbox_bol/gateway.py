"""What every API call passes before it reaches an endpoint, in bol's order: the
bearer token (401 / 403), the rate limit of the endpoint's group (429 with
`Retry-After`), the media types (406 / 415). Every answer carries `X-Request-ID`
and `X-RID`, and — once the caller is known — the `X-RateLimit-*` trio."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import Response

from .account import Account
from .problems import VENDOR_TYPE, ApiError, vendor_response
from .state import BolState, reset_seconds
from .timefmt import utc_text

Json = dict[str, Any]
BodyKind = Literal["none", "json", "multipart"]


@dataclass
class Call:
    """One authenticated API call, as the endpoint handlers see it."""

    request: Request
    state: BolState
    account: Account

    def path(self, name: str) -> str:
        return str(self.request.path_params[name.replace("-", "_")])


Handler = Callable[[Call], Awaitable[tuple[int, Json | None]]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    template: str  # the spec's path template, also the key of the call counters
    group: str  # rate-limit group
    handler: Handler
    body: BodyKind = "none"

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"


def request_ids() -> dict[str, str]:
    rid = str(uuid.uuid4())
    return {"X-Request-ID": rid, "X-RID": rid}


def instance_of(request: Request) -> str:
    return str(request.url.replace(query=""))


def problem_response(state: BolState, request: Request, error: ApiError) -> Response:
    body = error.body(
        host=state.config.host,
        instance=instance_of(request),
        violations_always=state.config.problem_violations_always,
    )
    return vendor_response(error.status, body, {**request_ids(), **error.headers})


def authenticate(state: BolState, request: Request) -> Account:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise ApiError(
            401, "Unauthorized", "Full authentication is required to access this resource."
        )
    token = state.tokens.get(value)
    account = state.accounts.get(token.retailer_id) if token else None
    if token is None or account is None:
        raise ApiError(401, "Unauthorized", "Invalid JWT: the access token is not recognised.")
    now = state.now()
    late = (now - token.exp).total_seconds()
    if late > state.config.token_clock_skew_seconds:
        skew_ms = int(state.config.token_clock_skew_seconds * 1000)
        raise ApiError(
            401,
            "Expired JWT",
            f"JWT expired at {utc_text(token.exp)}. Current time: {utc_text(now)}, a difference "
            f"of {int(late * 1000)} milliseconds.  Allowed clock skew: {skew_ms} milliseconds.",
            shape="bare",
        )
    if not account.active:
        raise ApiError(
            403,
            "Forbidden",
            "Account is not active, access denied. Please contact partnerservice if this is "
            "unexpected.",
            shape="host",
        )
    return account


def _media_types(header: str) -> list[str]:
    return [part.split(";")[0].strip().lower() for part in header.split(",") if part.strip()]


def check_accept(state: BolState, request: Request) -> None:
    accepted = _media_types(request.headers.get("accept", ""))
    if VENDOR_TYPE in accepted:
        return
    if state.config.accept_wildcard and ("*/*" in accepted or "application/*" in accepted):
        return
    raise ApiError(
        406,
        "Not Acceptable",
        f"The requested media type is not supported. Use Accept: {VENDOR_TYPE}.",
    )


def check_content_type(request: Request, kind: BodyKind) -> None:
    given = _media_types(request.headers.get("content-type", ""))
    wanted = VENDOR_TYPE if kind == "json" else "multipart/form-data"
    if given[:1] != [wanted]:
        shown = request.headers.get("content-type") or "none"
        raise ApiError(
            415,
            "Unsupported Media Type",
            f"The supplied content-type media type '{shown}' is not supported. "
            f"Content-Type header contains invalid value, allowed value is {wanted}.",
        )


def rate_headers(limit: int, remaining: int, reset: int) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(reset),
    }


def serve_endpoint(state: BolState, endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        state.base_url = str(request.base_url).rstrip("/")
        headers: dict[str, str] = {}
        try:
            account = authenticate(state, request)
            account.calls[endpoint.key] += 1
            verdict = state.limits.hit(endpoint.group, account.retailer_id)
            headers = rate_headers(verdict.limit, verdict.remaining, reset_seconds(verdict))
            if not verdict.allowed:
                account.rate_limited[endpoint.key] += 1
                wait = reset_seconds(verdict)
                raise ApiError(
                    429,
                    "Too Many Requests",
                    f"Too many requests, retry in {wait} seconds.",
                    shape="bare",
                    headers={"Retry-After": str(wait)},
                )
            check_accept(state, request)
            if endpoint.body != "none":
                check_content_type(request, endpoint.body)
            status, body = await endpoint.handler(Call(request, state, account))
        except ApiError as error:
            response = problem_response(state, request, error)
            response.headers.update(headers)
            return response
        return vendor_response(status, body, {**request_ids(), **headers})

    return run
