"""Webhook plumbing for shops that have webhooks: registering them for a connection,
and receiving deliveries.

Registration goes through the session (`register_webhooks`), which reuses what the shop
has for our address; each webhook's key is stored encrypted. A delivery is accepted
only when the adapter verifies its signature with one of the connection's keys; a
refused delivery gets 401 and publishes nothing, but the order it announces is noted,
so the poll can tell a forgery from a signature scheme we got wrong (see `poller`).

An accepted delivery is answered at once: verifying takes microseconds, while fetching
the order may take seconds when the shop is slow (and its retries longer), so that work
runs in a background task. If it fails, it is tried again a few times within minutes
(`RETRY_DELAYS_SECONDS`); after that, or when the process stops before it ran, the poll
publishes the order (a process polls every connection once when it starts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
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
        self._later: set[asyncio.Task[None]] = set()
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

    def later(
        self,
        delay: float,
        make_work: Callable[[], Coroutine[Any, Any, Any]],
        key: object | None = None,
    ) -> None:
        """Queue `make_work()` after `delay` seconds (a retry). Nothing waits for it on the
        way out: `drain` cancels it at once (the next process' first poll redoes it)."""

        async def wait_then_spawn() -> None:
            await asyncio.sleep(delay)
            with contextlib.suppress(Busy):  # the poll publishes what is not retried
                self.spawn(make_work(), key)

        task = asyncio.create_task(wait_then_spawn())
        self._later.add(task)
        task.add_done_callback(self._later.discard)

    async def drain(self, timeout: float) -> None:
        """Let running work finish; what does not in time is cancelled (the poll redoes it)."""
        later = list(self._later)
        for task in later:
            task.cancel()
        await asyncio.gather(*later, return_exceptions=True)
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


# A delivery whose order could not be synced (the shop failed to answer, Kafka or MongoDB
# was down) is tried again after these delays, in this process, instead of waiting for the
# connection's next poll (5 minutes by default): the fault run (tests/faults) measured
# orders of a 25 s shop outage waiting for that poll. After the last, the poll finds it.
RETRY_DELAYS_SECONDS = (5.0, 10.0, 20.0, 40.0, 60.0, 60.0)

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


# Every delivery needs its connection's webhook keys, and a paid order brings two deliveries
# (a busy platform: many a second, each a MongoDB read). A state read is kept this long in
# this process; a signature the kept keys do not confirm is checked again against a fresh
# read (keys renewed meanwhile by another replica), so no delivery is refused for it. A
# connection another replica marked broken is seen that much later (its alert is sent once
# all the same: `Alerts` decides by a unique insert).
STATE_KEPT_SECONDS = 2.0


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
        # Called with a connection whose announced order was not taken in (the poller's
        # `catch_up`: polled at its next tick instead of at its next scheduled poll).
        self.missed: Callable[[str], None] = lambda connection_id: None
        self._deferred = 0  # deliveries deferred since the last line saying so
        self._deferred_said: float | None = None
        self._kept: dict[str, tuple[float, ConnectionState]] = {}

    def _kept_state(self, connection_id: str) -> ConnectionState | None:
        kept = self._kept.get(connection_id)
        if kept is None or time.monotonic() - kept[0] >= STATE_KEPT_SECONDS:
            return None
        return kept[1]

    async def _read_state(self, connection_id: str) -> ConnectionState | None:
        state = await self.states.get(connection_id)
        if state is None:
            self._kept.pop(connection_id, None)
        else:
            self._kept[connection_id] = (time.monotonic(), state)
        return state

    def _signed(self, state: ConnectionState, body: bytes, request: Request) -> bool:
        keys = [self.box.decrypt(h.encrypted_key).get_secret_value() for h in state.webhooks]
        address = self.registrar.address(state.connection_id)
        return self.webhooks.verify(keys, body, address, request.headers)

    async def handle(self, request: Request) -> Response:
        connection_id = request.path_params["connection_id"]
        try:
            body = await limited_body(request)
        except TooLarge:
            return _error(413, "a webhook body this large is not an order webhook")
        try:
            state = self._kept_state(connection_id)
            if state is None or not self._signed(state, body, request):
                state = await self._read_state(connection_id)
        except Exception as error:
            # MongoDB is down: the signature cannot be checked without the keys. Shops do
            # not retry a refused delivery (CCV's policy is undocumented), so the connection
            # is polled as soon as the store answers again.
            self.missed(connection_id)
            self._say_deferred(connection_id, error)
            return _error(503, "temporarily unavailable, retry later", {"Retry-After": "30"})
        if state is None:
            return _error(404, "unknown connection")
        announced = self.webhooks.announced(body)
        if not self._signed(state, body, request):
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

    def _say_deferred(self, connection_id: str, error: Exception) -> None:
        """One line per 10 s with how many deliveries were deferred, not one per delivery
        (the fault run counted 42 in a 23 s MongoDB restart at 4 orders a second)."""
        self._deferred += 1
        now = time.monotonic()
        if self._deferred_said is not None and now - self._deferred_said < 10:
            return
        log.warning(
            "webhook deferred: state store unavailable",
            extra={
                "connection_id": connection_id,
                "deferred": self._deferred,
                "error": repr(error),
            },
        )
        self._deferred, self._deferred_said = 0, now

    async def _process(
        self,
        connection_id: str,
        source_order_id: str,
        state: ConnectionState | None,
        attempt: int = 0,
    ) -> None:
        """Sync the announced order; when that fails (the shop, Kafka or MongoDB), try again
        after `RETRY_DELAYS_SECONDS[attempt]` instead of leaving it to the next poll."""
        started = done = False

        async def work(connection: Connection) -> None:
            nonlocal started, done
            started = True
            await self.sync.sync(connection, source_order_id)
            done = True

        what = f"webhook for order {source_order_id}"
        ids = {"connection_id": connection_id, "source_order_id": source_order_id}
        last = attempt >= len(RETRY_DELAYS_SECONDS)
        try:
            await self.guard.run(connection_id, what, work, state)
        except Exception as error:
            # Kafka or MongoDB trouble: nothing is lost, a retry or the poll publishes it.
            # One line per order and attempt, the traceback only once it is left to the poll:
            # an outage of the broker would otherwise write one per webhook.
            log.warning(
                "webhook processing failed",
                extra={**ids, "attempt": attempt + 1, "error": repr(error)},
                exc_info=last,
            )
        else:
            if done or not started:  # synced, or nothing to do (the connection is broken)
                return
        if last:
            log.warning("webhook processing left to the poll", extra=ids)
            self.missed(connection_id)
            return
        self.tasks.later(
            RETRY_DELAYS_SECONDS[attempt],
            lambda: self._process(connection_id, source_order_id, None, attempt + 1),
            key=(connection_id, source_order_id),
        )
