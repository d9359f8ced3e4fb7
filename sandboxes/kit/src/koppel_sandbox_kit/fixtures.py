"""pytest fixtures for a sandbox package's own tests: a `clock` (a `ManualClock` at `start`)
and a `sandbox` (the demo state on that clock, served, with its control and HTTP clients).

    class Sandbox(ServedSandbox[ShopState, ShopControl]): ...  # the tests' own helpers

    clock, sandbox = sandbox_fixtures(ShopState.demo, create_app, ShopControl, START, Sandbox)

in a conftest.py. Imports pytest and pytest-asyncio (the workspace's dev group), so it is
not part of `koppel_sandbox_kit`'s top level.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import pytest
import pytest_asyncio
from starlette.types import ASGIApp

from .clock import ManualClock
from .testing import ControlT, ServedSandbox, ServedT, StateT, served_sandbox


def sandbox_fixtures(
    demo_state: Callable[[ManualClock], StateT],
    create_app: Callable[[StateT], ASGIApp],
    control: Callable[[str], ControlT],
    start: datetime,
    kind: Callable[..., ServedT] = ServedSandbox,
) -> tuple[Any, Any]:
    """The fixtures `clock` and `sandbox`; assign them to those names in a conftest."""

    @pytest.fixture
    def clock() -> ManualClock:
        return ManualClock(start)

    @pytest_asyncio.fixture
    async def sandbox(clock: ManualClock) -> AsyncIterator[ServedT]:
        state = demo_state(clock)
        async with served_sandbox(state, create_app, control, clock=clock, kind=kind) as served:
            yield served

    return clock, sandbox
