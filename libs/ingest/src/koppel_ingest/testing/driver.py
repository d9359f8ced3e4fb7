"""Driving the ingest runtime in a test without Kafka: the connection settings in memory,
a publisher that keeps what it publishes, a hand-set clock. The shop behind the adapter
is the real sandbox over HTTP; the stores are the in-memory twins (the store contract
proves them equal to MongoDB).

`ShopHarness` is what a shop service's tests provide to run `ShopContract` against its
sandbox; `WebhookHarness` adds what `WebhookContract` needs for shops with webhooks.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from koppel_chassis import SecretBox
from koppel_contracts import (
    OPS_ALERTS,
    SHOP_ORDERS,
    AlertEvent,
    ConnectionSettings,
    Envelope,
    OrderEvent,
    Topic,
)
from koppel_privacy import KeyIssuer
from koppel_sandbox_kit import free_port, serve
from starlette.applications import Starlette

from ..adapter import ShopAdapter
from ..clock import SetClock, utcnow
from ..memory import MemoryLeases, MemoryOrderStore, MemoryStateStore
from ..poller import PollPolicy
from ..records import ConnectionState, IngestFailure
from ..runtime import IngestRuntime

CONNECTION = "contract-shop"

# Short enough that a test moves past it with one tick; the window is what CCV uses.
POLICY = PollPolicy(
    interval=timedelta(seconds=60),
    window=timedelta(days=14),
    lease=timedelta(seconds=300),
    stale=timedelta(seconds=10),
    signature_threshold=3,
)


class ShopHarness(Protocol):
    """What a shop service's tests provide to run the shop contract against its sandbox.

    Orders are placed in the sandbox after the driver connected (a new connection looks
    at nothing older). "Bookable" means: the trigger of `settings()` holds."""

    adapter: ShopAdapter
    box: SecretBox  # the key the adapter decrypts the settings' secrets with
    max_attempts: int  # attempts per request the adapter's client makes (retries included)
    budget: int  # requests per resource and budget window the adapter's client allows

    def new_adapter(self) -> ShopAdapter:
        """Another replica's adapter for the same sandbox (its own clients and budget)."""
        ...

    def settings(self) -> ConnectionSettings:
        """The connection to the sandbox, with working credentials (encrypted with `box`)."""
        ...

    async def place_order(self, *, bookable: bool = True) -> str:
        """A new order in the shop; its id."""
        ...

    async def make_bookable(self, source_order_id: str) -> None: ...

    async def progress(self, source_order_id: str) -> None:
        """The order moves on (e.g. shipped) without a change of what would be booked."""
        ...

    async def change_order(self, source_order_id: str) -> None:
        """An edit that changes what would be booked (lines, amounts, a partial refund)."""
        ...

    async def cancel_order(self, source_order_id: str) -> None:
        """Cancelled, or refunded entirely."""
        ...

    async def place_malformed_order(self) -> str:
        """A bookable order the mapping must refuse (e.g. totals that do not add up)."""
        ...

    async def refuse_credentials(self) -> ConnectionSettings:
        """The shop stops accepting the current key; the settings with a working one."""
        ...

    async def fail_requests(self, status: int, times: int) -> None:
        """The next `times` API requests fail with `status` (5xx, or 429)."""
        ...

    async def clear_faults(self) -> None: ...

    async def faults_pending(self) -> int:
        """Injected failures not yet served."""
        ...

    async def requests(self) -> int:
        """API requests the sandbox answered so far (refused ones included)."""
        ...

    async def limit_rate(self) -> None:
        """Make the sandbox's rate limit as tight as the adapter's request budget (`budget`
        per window): more requests in a window are refused with 429."""
        ...

    async def rate_limited(self) -> int:
        """Requests the sandbox refused with 429 because of its rate limit."""
        ...


class WebhookHarness(ShopHarness, Protocol):
    def announcement(self, source_order_id: str) -> bytes:
        """The body of a delivery announcing the order (unsigned)."""
        ...

    async def break_webhook_signatures(self) -> None:
        """The shop signs deliveries in a way the adapter does not accept (a changed
        scheme), while they are otherwise genuine."""
        ...


@dataclass
class Published:
    """What the runtime published, per topic, in order (the events themselves)."""

    by_topic: dict[str, list[Envelope]] = field(default_factory=dict)

    async def publish(self, topic: Topic, event: Envelope) -> None:
        self.by_topic.setdefault(topic.name, []).append(event)

    def of(self, topic: Topic) -> list[Any]:
        return list(self.by_topic.get(topic.name, ()))


@dataclass
class MemoryConnections:
    settings: dict[str, tuple[ConnectionSettings, int]] = field(default_factory=dict)

    async def current(self, connection_id: str) -> tuple[ConnectionSettings, int] | None:
        return self.settings.get(connection_id)

    async def all(self) -> dict[str, ConnectionSettings]:
        return {cid: s for cid, (s, _) in self.settings.items()}


class Driver:
    """One replica of the runtime; `replica()` is another one sharing the stores."""

    def __init__(
        self,
        adapter: ShopAdapter,
        *,
        box: SecretBox,
        public_base_url: str | None = None,
        policy: PollPolicy = POLICY,
        clock: SetClock | None = None,
        shared: Driver | None = None,
        privacy: KeyIssuer | None = None,
    ) -> None:
        self.adapter = adapter
        self.box = box
        self.policy = policy
        if shared is None:
            self.clock = clock or SetClock(utcnow())
            self.store = MemoryOrderStore()
            self.states = MemoryStateStore()
            self.connections = MemoryConnections()
            self.published = Published()
            self.leases = MemoryLeases(clock=self.clock)
        else:
            self.clock, self.store, self.states = shared.clock, shared.store, shared.states
            self.connections, self.published = shared.connections, shared.published
            self.leases = shared.leases.replica()
        if public_base_url is None and adapter.webhooks is not None:
            # Nobody listens here: deliveries fail, and the contract is driven by polls.
            public_base_url = f"http://127.0.0.1:{free_port()}"
        self.public_base_url = public_base_url
        self.runtime = IngestRuntime(
            adapter,
            policy,
            store=self.store,
            states=self.states,
            connections=self.connections,
            publisher=self.published,
            leases=self.leases,
            box=box,
            public_base_url=public_base_url,
            clock=self.clock,
            privacy=privacy,
        )

    def replica(self, adapter: ShopAdapter | None = None) -> Driver:
        """Another replica: the same stores and clock, its own runtime (and adapter)."""
        return Driver(
            adapter or self.adapter,
            box=self.box,
            public_base_url=self.public_base_url,
            policy=self.policy,
            shared=self,
        )

    async def connect(self, settings: ConnectionSettings, version: int = 1) -> None:
        """The settings consumer's part: store the version, then react to it."""
        self.connections.settings[CONNECTION] = (settings, version)
        await self.runtime.on_settings(CONNECTION, settings)

    async def poll(self) -> None:
        """Time for the next poll passes, and the poller runs."""
        self.clock.tick(self.policy.interval.total_seconds())
        await self.runtime.run_once()

    async def sync(self, source_order_id: str) -> None:
        """One order now, as a webhook delivery makes the runtime do."""
        await self.runtime.sync_order(CONNECTION, source_order_id)

    @contextlib.asynccontextmanager
    async def serving_webhooks(self) -> AsyncIterator[str]:
        """The runtime's webhook route on `public_base_url`, for the shop to deliver to."""
        assert self.public_base_url is not None
        port = int(self.public_base_url.rsplit(":", 1)[1])
        async with serve(Starlette(routes=self.runtime.routes()), port=port) as url:
            try:
                yield url
            finally:
                await self.runtime.tasks.drain(5.0)

    def orders(self) -> list[OrderEvent]:
        return self.published.of(SHOP_ORDERS)

    def alerts(self) -> list[AlertEvent]:
        return self.published.of(OPS_ALERTS)

    async def state(self) -> ConnectionState:
        found = await self.states.get(CONNECTION)
        assert found is not None, "the connection's settings were never taken in"
        return found

    async def failures(self) -> list[IngestFailure]:
        return await self.store.failures(CONNECTION)

    async def aclose(self) -> None:
        await self.runtime.aclose()
