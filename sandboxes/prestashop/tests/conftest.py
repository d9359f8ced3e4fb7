from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from koppel_sandbox_kit import serve
from koppel_sandbox_prestashop import (
    DEMO_KEY,
    PrestaShopControl,
    PrestaShopState,
    create_app,
    demo_shop,
)
from lxml import etree

XLINK = "{http://www.w3.org/1999/xlink}href"


@dataclass
class Shop:
    url: str
    state: PrestaShopState
    control: PrestaShopControl
    http: httpx.AsyncClient
    key: str = DEMO_KEY

    async def get(self, path: str, *, key: str | None = None, **params: Any) -> httpx.Response:
        """A webservice GET with the key as Basic user and an empty password."""
        return await self.http.get(path, params=params, auth=(key or self.key, ""))

    async def json(self, path: str, **params: Any) -> Any:
        response = await self.get(path, output_format="JSON", **params)
        assert response.status_code == 200, response.text
        return decoded(response)

    async def xml(self, path: str, **params: Any) -> etree._Element:
        response = await self.get(path, **params)
        assert response.status_code == 200, response.text
        return etree.fromstring(response.content)


def decoded(response: httpx.Response) -> Any:
    return json.loads(response.text, parse_float=Decimal)


def error_codes(response: httpx.Response) -> list[int]:
    """The codes of an error document, in XML or JSON."""
    if response.headers.get("content-type", "").startswith("application/json"):
        return [int(e["code"]) for e in decoded(response)["errors"]]
    root = etree.fromstring(response.content)
    return [int(code.text) for code in root.iter("code")]


class ServerThread:
    """One demo shop on a real socket for the whole session (kit `serve`, in its own
    thread and event loop); every test starts from `reset()`. Starting and stopping
    a server per test would cost more than the tests themselves."""

    def __init__(self) -> None:
        self.state = demo_shop()
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
async def shop(server: ServerThread) -> AsyncIterator[Shop]:
    server.state.reset()
    async with (
        PrestaShopControl(server.url) as control,
        httpx.AsyncClient(base_url=server.url) as http,
    ):
        yield Shop(server.url, server.state, control, http)
