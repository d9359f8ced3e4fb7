"""A ledger service on the runtime: consume `shop.orders.v1` → book → record → publish on
`ledger.bookings.v1` / `ledger.checks.v1` (and `ops.alerts.v1`); follow connection
settings; retry what waits. A service only says how to build its adapter."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence

from faststream.kafka import KafkaMessage
from koppel_chassis import ConnectionStore, IndexSpec, Service, batch_events, follow_connections
from koppel_chassis.connections import COLLECTION as CONNECTIONS_COLLECTION
from koppel_contracts import (
    LEDGER_BOOKINGS,
    LEDGER_CHECKS,
    LEDGER_COMMANDS,
    OPS_ALERTS,
    SHOP_ORDERS,
    LedgerCommand,
    OrderEvent,
)

from . import commands, holds, privacy, store
from .adapter import LedgerAdapter
from .connection_test import serve_requests
from .metrics import LedgerMetrics
from .runtime import LedgerRuntime
from .settings import LedgerSettings

AdapterFactory = Callable[[Service, LedgerMetrics], LedgerAdapter]

# With a linger, the broker answers a fetch when this much is there or the linger is over:
# more than a trickle of orders brings in one linger, so at a trickle it is the linger.
LINGER_MIN_BYTES = 1024 * 1024


def build_ledger_service(
    settings: LedgerSettings,
    make_adapter: AdapterFactory,
    *,
    ledger: str,
    indexes: Sequence[IndexSpec] = (),
) -> Service:
    service = Service(
        settings,
        indexes=[*store.INDEXES, *indexes],
        # what the runtime's outboxes publish (events.py, booking.py): the event map
        publishes=[LEDGER_BOOKINGS, LEDGER_CHECKS, OPS_ALERTS],
    )
    metrics = LedgerMetrics(service.registry, ledger)
    adapter = make_adapter(service, metrics)
    connections = ConnectionStore(
        service.db[CONNECTIONS_COLLECTION], cache_seconds=settings.settings_cache_seconds
    )
    runtime = LedgerRuntime(
        adapter,
        settings,
        store=store.MongoOrderStore(service.db, lock_seconds=settings.lock_seconds),
        holds=holds.MongoHoldStore(service.db, cache_seconds=settings.settings_cache_seconds),
        connections=connections,
        publisher=service.publisher,
        metrics=metrics,
    )
    service.runtime = runtime  # type: ignore[attr-defined]  # for tests and operators
    privacy.protect(service, runtime)  # customers' data revealed only where booked

    # consume → book → record → publish, then commit (NACK_ON_ERROR: an error seeks back).
    if settings.batch_max_records > 1:
        # Batch mode: what one fetch delivers, up to the bound, booked concurrently; the
        # offsets are committed once the whole batch is recorded and published. The
        # chassis dead-letters undecodable records of a batch before they get here.
        linger = settings.batch_linger_ms

        @service.subscriber(
            SHOP_ORDERS,
            batch=True,
            max_records=settings.batch_max_records,
            batch_timeout_ms=settings.batch_timeout_ms,
            fetch_max_wait_ms=linger if linger else 500,
            fetch_min_bytes=LINGER_MIN_BYTES if linger else 1,
        )
        async def handle_orders(msg: KafkaMessage) -> None:
            await runtime.on_orders(batch_events(msg))

    else:
        # One message at a time; with `consumer_workers` > 1 FastStream runs that many
        # consumers, each owning whole partitions (the order of one key's events kept).
        workers = settings.consumer_workers
        options = {"max_workers": workers} if workers > 1 else {}

        @service.subscriber(SHOP_ORDERS, **options)
        async def handle_order(event: OrderEvent) -> None:
            await runtime.on_order(event)

    # "Verwerk" / "Verwerk alle" from the dashboard (or the CLI): book again now
    @service.subscriber(LEDGER_COMMANDS, purpose="commands")
    async def handle_command(command: LedgerCommand) -> None:
        await commands.on_command(runtime, command)

    # "Test verbinding" for the ledger, asked through Kafka
    serve_requests(service, runtime, connections)

    # connection settings: credentials, mapping; a change releases held orders
    follow_connections(service, connections, runtime.on_settings)

    # orders that wait (ledger unavailable, settings pending, held then released)
    @service.loop("retry-scheduler")
    async def retry_scheduler() -> None:
        await runtime.sweep(force=True)
        while True:
            await runtime.run_due()
            runtime.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(runtime.wake.wait(), settings.scheduler_interval_seconds)

    service.on_stop(adapter.aclose)
    return service
