"""One PrestaShop sandbox for the whole session on a real socket (in its own thread and
event loop); every test starts from a fresh, empty shop with the harness' key."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator

import pytest
from koppel_chassis import SecretBox
from koppel_sandbox_kit import serve
from koppel_sandbox_prestashop import PrestaShopControl, PrestaShopState, create_app

from .prestashop_harness import KEY, PrestashopHarness


def _install(state: PrestaShopState) -> None:
    state.create_key("read", key=KEY, description="Koppel")


class ServerThread:
    def __init__(self) -> None:
        self.state = PrestaShopState(seed=11, baseline=_install)
        self.url = ""
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        async with serve(create_app(self.state)) as url:
            self.url = url
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> ServerThread:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the sandbox did not start")
        return self

    def __exit__(self, *_: object) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


@pytest.fixture(scope="session")
def server() -> Iterator[ServerThread]:
    with ServerThread() as running:
        yield running


@pytest.fixture
async def harness(server: ServerThread, secrets_key: str) -> AsyncIterator[PrestashopHarness]:
    """The sandbox as the ingest runtime's contract suite drives it (no Kafka, no MongoDB)."""
    async with PrestaShopControl(server.url) as control:
        await control.reset()
        harness = PrestashopHarness(server.url, control, SecretBox(secrets_key))
        yield harness
        await harness.adapter.aclose()
