"""CCV webhooks: registering them for a connection, and receiving deliveries.

Registration is idempotent: webhooks CCV already has for our address are
reused (and re-activated), only missing events are created. Each webhook's
`key` is stored encrypted; a delivery is accepted only when its `x-hash` is
signed with one of the connection's keys.

A delivery is answered at once: verifying takes microseconds, while fetching
the order and its rows may take seconds when CCV is slow (and its retries
longer), so that work runs in a background task. If that task fails, or the
process stops before it ran, the reconciliation poll publishes the order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from koppel_chassis import SecretBox
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .client import CcvJson, parse_json
from .connections import Connection
from .handlers import ConnectionGuard, OrderSync
from .signing import webhook_signature_valid
from .state import ConnectionState, ConnectionStates, WebhookRegistration

log = logging.getLogger(__name__)

WEBHOOK_EVENTS = ("orders.created", "orders.updated.ispaid", "orders.updated.status")
ROUTE = "/webhooks/ccvshop/{connection_id}"


def webhook_address(public_base_url: str, connection_id: str) -> str:
    return public_base_url.rstrip("/") + ROUTE.format(connection_id=connection_id)


class WebhookRegistrar:
    def __init__(self, states: ConnectionStates, box: SecretBox, public_base_url: str) -> None:
        self.states = states
        self.box = box
        self.public_base_url = public_base_url

    def address(self, connection_id: str) -> str:
        return webhook_address(self.public_base_url, connection_id)

    async def ensure(self, connection: Connection) -> None:
        address = self.address(connection.connection_id)
        client = connection.client
        existing = [h for h in await client.webhooks() if h.get("address") == address]
        registrations: list[WebhookRegistration] = []
        for event in WEBHOOK_EVENTS:
            ours = [h for h in existing if h.get("event") == event and h.get("key")]
            if not ours:
                created = await client.create_webhook(event, address)
                if created is None:  # CCV may answer a POST without a body
                    created = next(
                        h
                        for h in await client.webhooks()
                        if h.get("address") == address and h.get("event") == event
                    )
                ours = [created]
            for hook in ours:
                if not hook.get("is_active"):
                    await client.activate_webhook(int(hook["id"]), address)
                registrations.append(
                    WebhookRegistration(int(hook["id"]), event, self.box.encrypt(str(hook["key"])))
                )
        await self.states.save_webhooks(connection.connection_id, address, registrations)
        log.info(
            "webhooks registered",
            extra={"connection_id": connection.connection_id, "webhooks": len(registrations)},
        )


class BackgroundTasks:
    """Work started by a request that must not hold the response back.

    At most `max_running` run at once; the rest wait their turn here. Unbounded, a
    burst of webhooks queued hundreds of CCV requests inside httpx's connection pool,
    which scans its whole queue for every request it places (measured: most of the
    process' CPU at 50 orders/s)."""

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
        states: ConnectionStates,
        box: SecretBox,
        registrar: WebhookRegistrar,
        guard: ConnectionGuard,
        sync: OrderSync,
        tasks: BackgroundTasks,
    ) -> None:
        self.states = states
        self.box = box
        self.registrar = registrar
        self.guard = guard
        self.sync = sync
        self.tasks = tasks

    async def handle(self, request: Request) -> Response:
        connection_id = request.path_params["connection_id"]
        body = await request.body()
        state = await self.states.get(connection_id)
        if state is None:
            return _error(404, "unknown connection")
        keys = [self.box.decrypt(h.encrypted_key).get_secret_value() for h in state.webhooks]
        address = self.registrar.address(connection_id)
        if not webhook_signature_valid(keys, body, address, request.headers.get("x-hash")):
            log.warning("webhook refused: bad signature", extra={"connection_id": connection_id})
            return _error(401, "invalid webhook signature")
        try:
            payload: CcvJson = parse_json(body)
            ccv_order_id = int(payload["id"])
        except (ValueError, KeyError, TypeError):
            return _error(400, "expected a CCV order webhook with an 'id'")
        self.tasks.spawn(self._process(connection_id, ccv_order_id, state))
        return JSONResponse({"status": "accepted"})

    async def _process(self, connection_id: str, ccv_order_id: int, state: ConnectionState) -> None:
        async def work(connection: Connection) -> None:
            await self.sync.sync(connection, ccv_order_id)

        what = f"webhook for order {ccv_order_id}"
        try:
            await self.guard.run(connection_id, what, work, state)
        except Exception:
            # Kafka or MongoDB trouble: nothing is lost, the poll publishes it later.
            log.exception(
                "webhook processing failed",
                extra={"connection_id": connection_id, "ccv_order_id": ccv_order_id},
            )
