"""Fault injection for sandboxes: tests (and the demo) make the next calls fail
the way real APIs fail — a 5xx, a 429 with Retry-After, a timeout.

Rules are added through the control API (`POST /_control/faults`) and consumed
in order: a rule with `times: 2` fails the next two matching requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass
class FaultRule:
    status: int = 500
    path: str = ".*"
    method: str | None = None
    times: int = 1
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0
    timeout: bool = False  # hang longer than any sane client timeout

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return re.search(self.path, path) is not None


class FaultInjector:
    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self.injected = 0

    def add(self, rule: FaultRule) -> None:
        self.rules.append(rule)

    def clear(self) -> None:
        self.rules.clear()

    def take(self, method: str, path: str) -> FaultRule | None:
        for rule in self.rules:
            if rule.matches(method, path):
                rule.times -= 1
                if rule.times <= 0:
                    self.rules.remove(rule)
                self.injected += 1
                return rule
        return None


class FaultMiddleware:
    """ASGI middleware: consults the injector before the real API sees a request."""

    def __init__(
        self, app: ASGIApp, injector: FaultInjector, exempt_prefix: str = "/_control"
    ) -> None:
        self.app = app
        self.injector = injector
        self.exempt_prefix = exempt_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt_prefix):
            await self.app(scope, receive, send)
            return
        rule = self.injector.take(scope["method"], scope["path"])
        if rule is None:
            await self.app(scope, receive, send)
            return
        if rule.timeout:
            await _hang_until_client_leaves(receive)
            return
        if rule.delay_seconds:
            await asyncio.sleep(rule.delay_seconds)
        body = rule.body if rule.body is not None else {"error": f"injected fault {rule.status}"}
        response = JSONResponse(body, status_code=rule.status, headers=rule.headers)
        await response(scope, receive, send)


async def _hang_until_client_leaves(receive: Receive, cap_seconds: float = 600.0) -> None:
    """Never answer, like a stuck upstream — but stop as soon as the client gives up,
    so a server shutting down after a timeout test does not wait for this request."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(cap_seconds):
            while (await receive())["type"] != "http.disconnect":
                pass


def fault_routes(injector: FaultInjector, prefix: str = "/_control") -> list[Route]:
    async def add(request: Request) -> Response:
        data = await request.json()
        rules = data if isinstance(data, list) else [data]
        for item in rules:
            injector.add(FaultRule(**item))
        return JSONResponse({"faults": len(injector.rules)}, status_code=201)

    async def clear(_: Request) -> Response:
        injector.clear()
        return Response(status_code=204)

    async def show(_: Request) -> Response:
        return JSONResponse(
            {"pending": [vars(r) for r in injector.rules], "injected": injector.injected}
        )

    return [
        Route(f"{prefix}/faults", add, methods=["POST"]),
        Route(f"{prefix}/faults", clear, methods=["DELETE"]),
        Route(f"{prefix}/faults", show, methods=["GET"]),
    ]
