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


class Busy(Exception):
    """More work is waiting than `max_waiting`: the caller answers 503 (the shop retries,
    and the poll publishes whatever it does not)."""


class BackgroundTasks:
    """Work started by a request that must not hold the response back.

    At most `max_running` run at once; the rest wait their turn here, at most
    `max_waiting` of them, so a flood of deliveries cannot grow memory without bound.
    Unbounded, a burst of webhooks queued hundreds of shop requests inside httpx's
    connection pool, which scans its whole queue for every request it places (measured:
    most of the process' CPU at 50 orders/s).

    Work with a `key` that is already waiting is not queued twice: a paid CCV order
    brings two webhooks close together, and one fetch after both is all either needs.
    Work that has started is not a substitute (the change may have come after its fetch)."""

    def __init__(self, max_running: int = 16, max_waiting: int = 10_000) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._running = asyncio.Semaphore(max_running)
        self._waiting: set[object] = set()
        self.max_waiting = max_waiting
        self.coalesced = 0

    def spawn(self, work: Coroutine[Any, Any, Any], key: object | None = None) -> bool:
        """Queue `work`; False when the same key is already waiting (the work is dropped).
        Raises Busy when `max_waiting` works wait already."""
        if key is not None and key in self._waiting:
            work.close()
            self.coalesced += 1
            return False
        if len(self._tasks) >= self.max_waiting:
            work.close()
            raise Busy(f"{len(self._tasks)} webhook works waiting")
        if key is not None:
            self._waiting.add(key)
        task = asyncio.create_task(self._when_free(work, key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _when_free(self, work: Coroutine[Any, Any, Any], key: object | None) -> Any:
        try:
            async with self._running:
                self._waiting.discard(key)
                return await work
        finally:
            self._waiting.discard(key)
            work.close()  # a no-op once it ran; cancelled while waiting: never started

    async def drain(self, timeout: float) -> None:
        """Let running work finish; what does not in time is cancelled (the poll redoes it)."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


# A shop's order webhook is a few hundred bytes of JSON; anything near this is not one.
MAX_BODY_BYTES = 64 * 1024


class TooLarge(Exception):
    pass


async def limited_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body, read no further than `limit` bytes (memory stays bounded whatever the
    sender claims or sends)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(declared)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(str(size))
        chunks.append(chunk)
    return b"".join(chunks)


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
        try:
            body = await limited_body(request)
        except TooLarge:
            return _error(413, "a webhook body this large is not an order webhook")
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
        try:
            self.tasks.spawn(
                self._process(connection_id, announced, state), key=(connection_id, announced)
            )
        except Busy:
            log.warning(
                "webhook deferred: too much waiting work", extra={"connection_id": connection_id}
            )
            return _error(503, "busy, retry later", {"Retry-After": "30"})
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
