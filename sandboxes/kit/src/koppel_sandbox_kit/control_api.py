"""`ControlApi`: the conventions of a sandbox's own `/_control` routes, which are not part of
any vendor's API — JSON in the sandbox's dialect both ways, a body that must be an object,
handler exceptions turned into `{"error": ...}` answers, and the kit's fault routes next to
the sandbox's own.

    api = ControlApi(SHOP_JSON, errors=[ErrorStatus(NotFound, 404), ErrorStatus(ValueError, 400)])

    async def seed(request: Request) -> Response:
        return api.json(state.seed(await api.body(request)), 201)

    routes = api.routes([("/orders", seed, "POST")], state.faults)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .control_client import CONTROL_PREFIX, JsonCodec
from .faults import FaultInjector, fault_routes
from .seeded import SeededState

Handler = Callable[[Request], Awaitable[Response]]
RouteSpec = tuple[str, Handler, str]
"""(path below the prefix, handler, HTTP method)."""

NOT_AN_OBJECT = "the body must be a JSON object"


class ControlRefusal(Exception):
    """Raised by a control handler: answer `status` with `{"error": message}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class ErrorStatus:
    """A handler exception of `types` answers `status` with `{"error": text(error)}`."""

    types: type[Exception] | tuple[type[Exception], ...]
    status: int
    text: Callable[[Exception], str] = str


def typed_text(error: Exception) -> str:
    """`KeyError: 'x'`: the exception's type, then its text."""
    return f"{type(error).__name__}: {error}"


class ControlApi:
    def __init__(
        self,
        codec: JsonCodec,
        *,
        errors: Sequence[ErrorStatus] = (),
        not_an_object: Callable[[], Exception] | None = None,
        on_request: Callable[[Request], None] | None = None,
        prefix: str = CONTROL_PREFIX,
    ) -> None:
        """`errors`: the first that matches wins (a `ControlRefusal` always answers its own
        status). `not_an_object`: makes what `body` raises for a JSON body that is no object
        (default: `ValueError(NOT_AN_OBJECT)`).
        `on_request`: runs before every handler (e.g. to learn the base URL)."""
        self.codec = codec
        self.errors = tuple(errors)
        self.not_an_object = not_an_object or (lambda: ValueError(NOT_AN_OBJECT))
        self.on_request = on_request
        self.prefix = prefix

    def json(self, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(self.codec.dumps(data), status, headers, media_type="application/json")

    async def json_body(self, request: Request) -> Any:
        """The parsed body; an empty (or blank) body is `{}`."""
        raw = await request.body()
        return self.codec.loads(raw) if raw.strip() else {}

    async def body(self, request: Request) -> dict[str, Any]:
        """The parsed body, which must be a JSON object; an empty body is `{}`."""
        data = await self.json_body(request)
        if not isinstance(data, dict):
            raise self.not_an_object()
        return data

    def error_answer(self, error: Exception) -> Response | None:
        """The answer to a handler's exception, or None to let it through. Override for
        error bodies of another shape."""
        if isinstance(error, ControlRefusal):
            return self.json({"error": error.message}, error.status)
        for rule in self.errors:
            if isinstance(error, rule.types):
                return self.json({"error": rule.text(error)}, rule.status)
        return None

    def guard(self, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            if self.on_request is not None:
                self.on_request(request)
            try:
                return await handler(request)
            except Exception as error:
                answer = self.error_answer(error)
                if answer is None:
                    raise
                return answer

        return endpoint

    def seeded_routes(self, state: SeededState, identity: Callable[[], Any]) -> list[RouteSpec]:
        """The routes every seeded sandbox has (`SeededControl` is their client):
        `GET /identity` (the demo's ids and keys: `identity()`), `POST /reset` (back to the
        seed) and `POST /clock` (`{"advance_seconds": s}`; answers `{"now": iso}`)."""

        async def show_identity(_: Request) -> Response:
            return self.json(identity())

        async def reset(_: Request) -> Response:
            state.reset()
            return Response(status_code=204)

        async def clock(request: Request) -> Response:
            state.advance_clock(float((await self.body(request)).get("advance_seconds", 0)))
            return self.json({"now": state.now().isoformat()})

        return [
            ("/identity", show_identity, "GET"),
            ("/reset", reset, "POST"),
            ("/clock", clock, "POST"),
        ]

    def routes(
        self, specs: Iterable[RouteSpec], faults: FaultInjector | None = None
    ) -> list[BaseRoute]:
        """Guarded routes under the prefix, then the fault routes of `faults`."""
        routes: list[BaseRoute] = [
            Route(f"{self.prefix}{path}", self.guard(handler), methods=[method])
            for path, handler, method in specs
        ]
        if faults is not None:
            routes.extend(fault_routes(faults, self.prefix))
        return routes
