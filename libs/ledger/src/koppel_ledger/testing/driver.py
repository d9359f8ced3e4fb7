"""Driving the runtime in a test without Kafka: an in-memory settings store, a publisher
that keeps what it publishes, a manual clock. The ledger behind the adapter is the real
sandbox; the stores are the in-memory twins (the store contract proves them equal to
MongoDB)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from koppel_contracts import (
    LEDGER_BOOKINGS,
    LEDGER_CHECKS,
    OPS_ALERTS,
    AlertEvent,
    BookingEvent,
    CheckEvent,
    ConnectionSettings,
    Envelope,
    OrderEvent,
    OrderEventKind,
    Topic,
    order_key,
)
from koppel_testkit import make_order, make_order_event
from prometheus_client import CollectorRegistry

from ..adapter import LedgerAdapter
from ..clock import ManualClock
from ..memory import MemoryHoldStore, MemoryOrderStore
from ..metrics import LedgerMetrics
from ..records import OrderRecord
from ..runtime import LedgerRuntime
from ..settings import LedgerSettings

CONNECTION = "contract-shop"


@dataclass(frozen=True)
class HeldDocument:
    """A document as the ledger holds it (read through the sandbox's control API)."""

    number: str
    reference: str
    total_incl_vat: Decimal
    credit: bool


class LedgerHarness(Protocol):
    """What a ledger service's tests provide to run the contract against its sandbox."""

    adapter: LedgerAdapter
    numbers_are_ours: bool  # True: a taken number is skipped; False: the order fails

    def settings(self) -> ConnectionSettings: ...
    def unknown_account(self) -> ConnectionSettings: ...
    def wrong_vat_code(self) -> ConnectionSettings: ...
    async def documents(self) -> list[HeldDocument]: ...
    async def refuse_credentials(self) -> ConnectionSettings:
        """Change the secret in the sandbox; the settings with the new secret."""
        ...

    async def fail_creates(
        self, status: int, times: int, retry_after: int | None = None
    ) -> None: ...
    async def time_out_creates(self, times: int) -> None: ...
    async def tamper_next(self, total_delta: Decimal) -> None: ...
    async def take_number_of(self, order_number: str) -> None:
        """Someone else's document under the number the order's next create would use."""
        ...


@dataclass
class Published:
    items: list[tuple[Topic, Envelope]] = field(default_factory=list)

    async def publish(self, topic: Topic, event: Envelope) -> None:
        self.items.append((topic, event))

    def of(self, topic: Topic) -> list[Any]:
        return [event for t, event in self.items if t == topic]


@dataclass
class Connections:
    current_settings: dict[str, tuple[ConnectionSettings, int]] = field(default_factory=dict)

    async def current(self, connection_id: str) -> tuple[ConnectionSettings, int] | None:
        return self.current_settings.get(connection_id)

    async def version_of(self, connection_id: str) -> int | None:
        found = self.current_settings.get(connection_id)
        return found[1] if found else None


FAST = {
    "http_timeout_seconds": 1.0,
    "http_max_attempts": 2,
    "http_max_retry_seconds": 1.0,
    "http_initial_backoff_seconds": 0.01,
    "http_max_backoff_seconds": 0.05,
    "retry_initial_seconds": 30.0,
    "persistent_after": 3600,
    "lock_seconds": 60.0,
    "settings_cache_seconds": 0.0,
}


class Driver:
    """One runtime on in-memory stores; `restart()` is a new process on the same stores."""

    def __init__(self, adapter: LedgerAdapter, **overrides: Any) -> None:
        self.adapter = adapter
        self.clock = ManualClock()
        self.settings = LedgerSettings(service_name=adapter.component, **{**FAST, **overrides})
        self.store = MemoryOrderStore(lock_seconds=self.settings.lock_seconds, clock=self.clock)
        self.holds = MemoryHoldStore(clock=self.clock)
        self.connections = Connections()
        self.published = Published()
        self.runtime = self._runtime()

    def _runtime(self) -> LedgerRuntime:
        return LedgerRuntime(
            self.adapter,
            self.settings,
            store=self.store,
            holds=self.holds,
            connections=self.connections,
            publisher=self.published,
            metrics=LedgerMetrics(CollectorRegistry(), self.adapter.system.value),
            clock=self.clock,
        )

    def restart(self) -> None:
        self.runtime = self._runtime()

    async def connect(self, settings: ConnectionSettings, version: int = 1) -> None:
        self.connections.current_settings[CONNECTION] = (settings, version)
        await self.runtime.on_settings(CONNECTION, settings)

    async def order(self, event: OrderEvent) -> OrderRecord:
        await self.runtime.on_order(event)
        return await self.record(event.order_ref)

    async def batch(self, events: list[OrderEvent]) -> list[OrderRecord]:
        """What one Kafka fetch delivers, taken in batch mode."""
        await self.runtime.on_orders(events)
        return [await self.record(ref) for ref in dict.fromkeys(e.order_ref for e in events)]

    async def record(self, order_ref: str) -> OrderRecord:
        found = await self.store.get(order_key(CONNECTION, order_ref))
        assert found is not None, f"no record of order {order_ref}"
        return found

    async def later(self, seconds: float) -> None:
        """Time passes; the scheduler runs what became due."""
        self.clock.advance(seconds=seconds)
        for _ in range(5):
            if not await self.runtime.run_due():
                break

    def bookings(self) -> list[BookingEvent]:
        return self.published.of(LEDGER_BOOKINGS)

    def checks(self) -> list[CheckEvent]:
        return self.published.of(LEDGER_CHECKS)

    def alerts(self) -> list[AlertEvent]:
        return self.published.of(OPS_ALERTS)


def event(
    ref: str, *, revision: int = 1, kind: OrderEventKind = OrderEventKind.CREATED, **order: Any
):
    return make_order_event(
        make_order(order_id=ref, **order), connection_id=CONNECTION, revision=revision, kind=kind
    )


def ours(documents: list[HeldDocument], order_number: str) -> list[HeldDocument]:
    return [d for d in documents if d.reference == order_number]
