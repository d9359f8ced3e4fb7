"""`ControlClient`: the async base of every sandbox's control-API client (`OctopusControl`,
`CcvShopControl`, ...): one HTTP connection to `<base_url>/_control`, JSON bodies in the
sandbox's own dialect both ways, and a `ControlError` for any 4xx/5xx answer.

    class ShopControl(ControlClient):
        codec = SHOP_JSON

        async def reset(self) -> None:
            await self._call("POST", "/reset")

    async with ShopControl(url) as control: ...
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, ClassVar, Protocol, Self

import httpx

from .jsonio import DecimalJson

CONTROL_PREFIX = "/_control"


class JsonCodec(Protocol):
    def dumps(self, value: Any) -> str: ...

    def loads(self, raw: bytes | str) -> Any: ...


class ControlError(httpx.HTTPStatusError, RuntimeError):
    """The control API refused a call. An `httpx.HTTPStatusError` (with `.request` and
    `.response`) and a `RuntimeError`, so callers that catch either keep working."""


class ControlClient:
    codec: ClassVar[JsonCodec] = DecimalJson()

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        verify: Any = True,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        """`http`: share another client's connection (it stays that client's to close)."""
        self.base_url = base_url.rstrip("/")
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(
            base_url=self.base_url + CONTROL_PREFIX, timeout=timeout, verify=verify
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def _call(
        self, method: str, path: str, body: Any = None, *, params: dict[str, Any] | None = None
    ) -> Any:
        """`path` below `/_control`; `body` is sent as JSON; the answer comes back parsed
        (None when empty)."""
        content = None if body is None else self.codec.dumps(body).encode()
        response = await self._http.request(
            method,
            path,
            content=content,
            params=params,
            headers={"content-type": "application/json"},
        )
        if response.is_error:
            raise ControlError(
                f"sandbox control {method} {path}: {response.status_code} {response.text}",
                request=response.request,
                response=response,
            )
        return self.codec.loads(response.content) if response.content else None

    # ------------------------------------------------------------------ faults (kit routes)
    def _fault_body(self, status: int) -> Any:
        """The body of an injected error whose rule gives none: the vendor's error shape.
        None leaves the kit's `{"error": "injected fault <status>"}`."""
        return None

    async def add_fault(self, **rule: Any) -> None:
        """Add a kit `FaultRule` (status, path regex, method, times, body, headers,
        delay_seconds, timeout). Error faults get the vendor's error body unless one is
        given; a 429 gets `Retry-After: 1` unless headers say otherwise."""
        status = int(rule.get("status", 500))
        if rule.get("body") is None and not rule.get("timeout"):
            rule["body"] = self._fault_body(status)
        if status == 429:
            rule["headers"] = {"Retry-After": "1", **(rule.get("headers") or {})}
        await self._call("POST", "/faults", rule)

    async def inject_fault(
        self,
        status: int,
        *,
        path: str = ".*",
        method: str | None = None,
        times: int = 1,
        body: Any = None,
        headers: dict[str, str] | None = None,
        delay_seconds: float = 0.0,
        timeout: bool = False,
    ) -> None:
        """The next `times` calls matching `path` fail with `status`: the kit `FaultRule`
        exactly as given (no vendor defaults, unlike `add_fault`)."""
        rule = {
            "status": status,
            "path": path,
            "method": method,
            "times": times,
            "body": body,
            "headers": headers or {},
            "delay_seconds": delay_seconds,
            "timeout": timeout,
        }
        await self._call("POST", "/faults", rule)

    async def clear_faults(self) -> None:
        await self._call("DELETE", "/faults")

    async def faults(self) -> dict[str, Any]:
        """The pending rules and how many faults were injected so far."""
        result: dict[str, Any] = await self._call("GET", "/faults")
        return result


class SeededControl(ControlClient):
    """The client of a sandbox that serves `ControlApi.seeded_routes`."""

    async def reset(self) -> None:
        """Back to the seeded data, faults and the sandbox's clock offset included (a clock
        the test injected stays where the test put it)."""
        await self._call("POST", "/reset")

    async def identity(self) -> dict[str, Any]:
        """The demo's ids, keys and names, as JSON."""
        result: dict[str, Any] = await self._call("GET", "/identity")
        return result

    async def advance_clock(self, seconds: float) -> str:
        """Move the sandbox's time forward; returns the new now (ISO 8601)."""
        return str((await self._call("POST", "/clock", {"advance_seconds": seconds}))["now"])
