"""ledger-octopus: canonical orders become concept sales invoices in Octopus.

Reads top-down: consume `shop.orders.v1` → claim the order in MongoDB → plan
(koppel_bookkeeping) → book in Octopus (intent first, so a crash never books
twice) → record the Octopus ids → read back and check → publish on
`ledger.bookings.v1` / `ledger.checks.v1` (and `ops.alerts.v1`). Orders Octopus
could not take now wait in MongoDB; the retry scheduler picks them up.
"""

from __future__ import annotations

import asyncio
import contextlib

from koppel_chassis import ConnectionStore, SecretBox, Service, follow_connections
from koppel_chassis.connections import COLLECTION as CONNECTIONS_COLLECTION
from koppel_contracts import SHOP_ORDERS, OrderEvent

from . import debtors, state
from .client import ClientOptions, ClientRegistry, OctopusMetrics
from .debtors import RelationIndex
from .handlers import Booker
from .reference import ReferenceCache
from .settings import LedgerOctopusSettings
from .state import HoldStore, OrderStore


def build(settings: LedgerOctopusSettings | None = None) -> Service:
    settings = settings or LedgerOctopusSettings()
    secrets = SecretBox(settings.secrets_key)  # fails fast when no key is configured
    service = Service(settings, indexes=[*state.INDEXES, *debtors.INDEXES])
    metrics = OctopusMetrics(service.registry)
    connections = ConnectionStore(
        service.db[CONNECTIONS_COLLECTION], cache_seconds=settings.settings_cache_seconds
    )
    clients = ClientRegistry(
        secrets,
        ClientOptions(
            timeout_seconds=settings.http_timeout_seconds,
            max_attempts=settings.http_max_attempts,
            max_retry_seconds=settings.http_max_retry_seconds,
            initial_backoff=settings.http_initial_backoff_seconds,
            max_backoff=settings.http_max_backoff_seconds,
            token_lifetime_seconds=settings.token_lifetime_seconds,
        ),
        metrics,
    )
    booker = Booker(
        settings,
        orders=OrderStore(service.db, lock_seconds=settings.lock_seconds),
        holds=HoldStore(service.db, cache_seconds=settings.settings_cache_seconds),
        connections=connections,
        clients=clients,
        reference=ReferenceCache(service.db, settings.reference_refresh),
        relations=RelationIndex(service.db, settings.relation_refresh),
        publisher=service.publisher,
        metrics=metrics,
    )
    service.booker = booker  # type: ignore[attr-defined]  # for tests and operators

    # consume → book → record → publish (handlers.Booker)
    # Orders of different partitions are booked concurrently: one handler at a time took
    # ~all its time waiting on MongoDB and Octopus. FastStream's concurrent subscriber with
    # NACK_ON_ERROR (ConcurrentBetweenPartitionsSubscriber) runs `consumer_workers`
    # consumers that each own whole partitions, so one key's events stay in order and an
    # offset is still committed only after its handler returned (commit after effect).
    workers = settings.consumer_workers
    options = {"max_workers": workers} if workers > 1 else {}

    @service.subscriber(SHOP_ORDERS, **options)
    async def handle_order(event: OrderEvent) -> None:
        await booker.on_order(event)

    # connection settings: credentials, mapping; a change releases held orders
    follow_connections(service, connections, booker.on_settings)

    # orders that wait (Octopus unavailable, settings pending, held then released)
    @service.loop("retry-scheduler")
    async def retry_scheduler() -> None:
        while True:
            await booker.run_due()
            booker.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    booker.wake.wait(), timeout=settings.scheduler_interval_seconds
                )

    service.on_stop(clients.aclose)
    return service
