"""Webhook deliveries: signed POSTs to the registered addresses, in the background.

Like the (documented) real thing, a delivery is fire-and-forget: a failed or
refused delivery is recorded and never retried, and while deliveries are
paused events are recorded as `paused` and never sent — that is how tests
simulate a missed webhook.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from . import render
from .jsontext import dumps
from .signing import webhook_signature
from .state import CcvShopState, Delivery, Order

log = logging.getLogger(__name__)


# Deliveries in flight at once. Unbounded, a burst queued hundreds of requests inside
# httpx's connection pool, which scans its whole queue for every request it places: the
# sandbox then spent its CPU on that instead of answering (measured in the benchmark).
MAX_IN_FLIGHT = 16


class WebhookSender:
    def __init__(self, state: CcvShopState, timeout: float = 5.0) -> None:
        self.state = state
        self.timeout = timeout
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._http: httpx.AsyncClient | None = None
        state.subscribe(self.on_event)

    def on_event(self, event: str, order: Order, extra: dict[str, Any]) -> None:
        state = self.state
        payload = render.webhook_payload(event, order, state.base_url, state.clock(), extra)
        body = dumps(payload)
        for hook in list(state.webhooks.values()):
            if not hook.is_active or hook.event != event:
                continue
            scheme = state.config.webhook_signature
            signed_over = hook.address if scheme == "address_body" else None
            signature = webhook_signature(
                hook.key, body.encode(), signed_over, base64_digest=scheme == "base64_body"
            )
            headers = {"content-type": "application/json", "x-hash": signature}
            delivery = state.record_delivery(hook, order, body, headers)
            if state.webhooks_paused:
                delivery.status = "paused"
                continue
            self._send(delivery)

    def redeliver(self, delivery: Delivery) -> Delivery:
        """Send a recorded delivery again, byte for byte (a duplicate, as CCV may send)."""
        hook = self.state.webhook(delivery.webhook_id)
        order = self.state.orders[delivery.order_id]
        again = self.state.record_delivery(hook, order, delivery.body, dict(delivery.headers))
        self._send(again)
        return again

    def _send(self, delivery: Delivery) -> None:
        task = asyncio.create_task(self._deliver(delivery))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, delivery: Delivery) -> None:
        async with self._in_flight:
            await self._post(delivery)

    async def _post(self, delivery: Delivery) -> None:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.timeout)
        try:
            response = await self._http.post(
                delivery.address, content=delivery.body.encode(), headers=delivery.headers
            )
        except httpx.HTTPError as error:
            delivery.status, delivery.error = "failed", f"{type(error).__name__}: {error}"
            log.warning("webhook delivery failed", extra={"delivery": delivery.id})
            return
        delivery.http_status = response.status_code
        delivery.status = "delivered" if response.is_success else "failed"

    async def wait_idle(self) -> None:
        """Until every delivery in flight has finished (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        await self.wait_idle()
        if self._http is not None:
            await self._http.aclose()
            self._http = None
