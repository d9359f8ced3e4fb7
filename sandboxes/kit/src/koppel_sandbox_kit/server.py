"""Serving a sandbox: in-process for tests (`async with serve(app) as url`), or as
its own process for the demo (`run(app, port)`)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.types import ASGIApp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def serve(
    app: ASGIApp, host: str = "127.0.0.1", port: int | None = None
) -> AsyncIterator[str]:
    """Run `app` on a real socket inside the current event loop; yields its base URL."""
    async with running_uvicorn(app, host, port) as bound:
        yield f"http://{host}:{bound}"


@contextlib.asynccontextmanager
async def running_uvicorn(
    app: ASGIApp, host: str, port: int | None, **options: Any
) -> AsyncIterator[int]:
    """uvicorn serving `app` as a task of the current loop (`options`: more
    `uvicorn.Config`, e.g. TLS files); yields the port once it accepts connections and
    stops the server on the way out."""
    port = port or free_port()
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", lifespan="on", **options
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        await task


def run(app: ASGIApp, host: str = "127.0.0.1", port: int = 8000) -> None:
    uvicorn.run(app, host=host, port=port, log_level="info")
