"""A sandbox running for a test: its app on a real local port, its control client and a plain
HTTP client, all closed again when the test is done.

    async with served_sandbox(ShopState.demo(), create_app, ShopControl) as served:
        await served.control.reset()
        await served.http.get("/api/orders")

`koppel_sandbox_kit.fixtures` turns this into the pytest fixtures `clock` and `sandbox`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx
from starlette.types import ASGIApp

from .clock import ManualClock
from .control_client import ControlClient
from .server import serve

StateT = TypeVar("StateT")
ControlT = TypeVar("ControlT", bound=ControlClient)
ServedT = TypeVar("ServedT", bound="ServedSandbox[Any, Any]")


@dataclass
class ServedSandbox(Generic[StateT, ControlT]):
    """Tests subclass it for their own helpers (an API client on `http`, a key)."""

    url: str
    state: StateT
    control: ControlT
    http: httpx.AsyncClient
    clock: ManualClock | None = None  # the clock the state was made with, if a test set it


@contextlib.asynccontextmanager
async def served_sandbox(
    state: StateT,
    create_app: Callable[[StateT], ASGIApp],
    control: Callable[[str], ControlT],
    *,
    clock: ManualClock | None = None,
    kind: Callable[..., ServedT] = ServedSandbox,
    timeout: float = 5.0,
) -> AsyncIterator[ServedT]:
    """`kind`: the `ServedSandbox` subclass to yield; `timeout`: of the plain HTTP client
    (httpx's own default, 5 s)."""
    async with (
        serve(create_app(state)) as url,
        control(url) as control_client,
        httpx.AsyncClient(base_url=url, timeout=timeout) as http,
    ):
        yield kind(url, state, control_client, http, clock)
