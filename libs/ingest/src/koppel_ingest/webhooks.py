"""Webhook plumbing for shops that have webhooks: registering them for a connection,
and receiving deliveries.

Registration goes through the session (`register_webhooks`), which reuses what the shop
has for our address; each webhook's key is stored encrypted. A delivery is accepted
only when the adapter verifies its signature with one of the connection's keys; a
refused delivery gets 401 and publishes nothing, but the order it announces is noted,
so the poll can tell a forgery from a signature scheme we got wrong (see `poller`).

An accepted delivery is answered at once: verifying takes microseconds, while fetching
the order may take seconds when the shop is slow (and its retries longer), so that work
runs in a background task. If it fails, or the process stops before it ran, the poll
publishes the order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from koppel_chassis import SecretBox
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .adapter import ShopAdapter, Webhooks
from .clock import Clock
from .guard import Connection, ConnectionGuard
from .records import ConnectionState, WebhookKey
from .states import StateStore
from .sync import OrderSync

log = logging.getLogger(__name__)


def webhook_address(public_base_url: str, route: str, connection_id: str) -> str:
    return public_base_url.rstrip("/") + route.format(connection_id=connection_id)


class WebhookRegistrar:
    def __init__(
        self, webhooks: Webhooks, states: StateStore, box: SecretBox, public_base_url: str
    ) -> None:
        self.webhooks = webhooks
        self.states = states
        self.box = box
        self.public_base_url = public_base_url

    def address(self, connection_id: str) -> str:
        return webhook_address(self.public_base_url, self.webhooks.route, connection_id)

    async def ensure(self, connection: Connection) -> None:
        address = self.address(connection.connection_id)
        registered = await connection.session.register_webhooks(address)
        keys = [
            WebhookKey(hook.webhook_id, hook.event, self.box.encrypt(hook.key.get_secret_value()))
            for hook in registered
        ]
        await self.states.save_webhooks(connection.connection_id, address, keys)
        log.info(
            "webhooks registered",
            extra={"connection_id": connection.connection_id, "webhooks": len(keys)},
        )


class BackgroundTasks:
    """Work started by a request that must not hold the response back.

    At most `max_running` run at once; the rest wait their turn here. Unbounded, a burst
    of webhooks queued hundreds of shop requests inside httpx's connection pool, which
    scans its whole queue for every request it places (measured: most of the process'
    CPU at 50 orders/s)."""

    def __init__(self, max_running: int = 16) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._running = asyncio.Semaphore(max_running)

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(self._when_free(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _when_free(self, work: Coroutine[Any, Any, Any]) -> Any:
        try:
            async with self._running:
                return await work
        finally:
            work.close()  # a no-op once it ran; cancelled while waiting: never started

    async def drain(self, timeout: float) -> None:
        """Let running work finish; what does not in time is cancelled (the poll redoes it)."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


class WebhookReceiver:
    def __init__(
        self,
        adapter: ShopAdapter,
        webhooks: Webhooks,
        states: StateStore,
        box: SecretBox,
        registrar: WebhookRegistrar,
        guard: ConnectionGuard,
        sync: OrderSync,
        tasks: BackgroundTasks,
        clock: Clock,
    ) -> None:
        self.adapter = adapter
        self.webhooks = webhooks
        self.states = states
        self.box = box
        self.registrar = registrar
        self.guard = guard
        self.sync = sync
        self.tasks = tasks
        self.clock = clock

    async def handle(self, request: Request) -> Response:
        connection_id = request.path_params["connection_id"]
        body = await request.body()
        state = await self.states.get(connection_id)
        if state is None:
            return _error(404, "unknown connection")
        keys = [self.box.decrypt(h.encrypted_key).get_secret_value() for h in state.webhooks]
        address = self.registrar.address(connection_id)
        announced = self.webhooks.announced(body)
        if not self.webhooks.verify(keys, body, address, request.headers):
            log.warning("webhook refused: bad signature", extra={"connection_id": connection_id})
            if announced is not None and state.webhooks:
                await self.states.refused(connection_id, announced, self.clock())
            return _error(401, "invalid webhook signature")
        if announced is None:
            return _error(400, f"expected a {self.adapter.display_name} order webhook")
        self.tasks.spawn(self._process(connection_id, announced, state))
        return JSONResponse({"status": "accepted"})

    async def _process(
        self, connection_id: str, source_order_id: str, state: ConnectionState
    ) -> None:
        async def work(connection: Connection) -> None:
            await self.sync.sync(connection, source_order_id)

        what = f"webhook for order {source_order_id}"
        try:
            await self.guard.run(connection_id, what, work, state)
        except Exception:
            # Kafka or MongoDB trouble: nothing is lost, the poll publishes it later.
            log.exception(
                "webhook processing failed",
                extra={"connection_id": connection_id, "source_order_id": source_order_id},
            )
