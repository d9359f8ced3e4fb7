"""An ingest service on the runtime: receive (webhooks, the leased poll) -> normalise (the
adapter) -> publish on `shop.orders.v1` (alerts on `ops.alerts.v1`); follow connection
settings. A service only says how to build its adapter."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from koppel_chassis import ConnectionStore, IndexSpec, LeaseStore, SecretBox, Service
from koppel_chassis import follow_connections as follow
from koppel_chassis.connections import COLLECTION as CONNECTIONS_COLLECTION
from koppel_contracts import OPS_ALERTS, PRIVACY_KEYS, SHOP_ORDERS
from koppel_privacy import (
    KeyIssuer,
    MongoKeyStore,
    MongoSubjectStore,
    Revealer,
    follow_customer_keys,
    privacy_box,
)
from koppel_privacy.subjects import COLLECTION as SUBJECTS

from . import states, store
from .adapter import ShopAdapter
from .requests import serve_requests
from .runtime import IngestRuntime
from .settings import IngestSettings

LEASES = "leases"

AdapterFactory = Callable[[Service, SecretBox], ShopAdapter]
# Erasures and retention look customers up by connection (rare; the hot path is by _id).
PRIVACY_INDEXES = [
    IndexSpec(SUBJECTS, [("connection_id", 1), ("key_id", 1)]),
    IndexSpec(SUBJECTS, [("connection_id", 1), ("last_order_at", 1)]),
]


def build_ingest_service(
    settings: IngestSettings,
    make_adapter: AdapterFactory,
    *,
    indexes: Sequence[IndexSpec] = (),
) -> Service:
    # publish: orders (sync.py), alerts (guard.py), customer keys (koppel_privacy)
    service = Service(
        settings,
        indexes=[*store.INDEXES, *states.INDEXES, *PRIVACY_INDEXES, *indexes],
        publishes=[SHOP_ORDERS, OPS_ALERTS, PRIVACY_KEYS],
    )
    box = SecretBox(settings.secrets_key)  # fails fast when no key is configured
    adapter = make_adapter(service, box)
    # Customers' personal data leaves sealed, with a key per customer (koppel_privacy).
    privacy = KeyIssuer(
        MongoSubjectStore(service.db),
        privacy_box(settings),
        service.publisher,
        adapter.source_system,
    )
    # Every webhook looks its connection up: answers are reused for a moment (this
    # process' own changes drop them at once).
    connections = ConnectionStore(
        service.db[CONNECTIONS_COLLECTION], cache_seconds=settings.settings_cache_seconds
    )
    runtime = IngestRuntime(
        adapter,
        settings.poll_policy(),
        store=store.MongoOrderStore(service.db),
        states=states.MongoStateStore(service.db),
        connections=connections,
        publisher=service.publisher,
        leases=LeaseStore(service.db[LEASES]),
        box=box,
        public_base_url=settings.public_base_url if adapter.webhooks is not None else None,
        webhook_workers=settings.webhook_workers,
        privacy=privacy,
    )
    service.runtime = runtime  # type: ignore[attr-defined]  # for tests and operators

    # receive: the shop's webhooks, answered at once and processed in the background
    for route in runtime.routes():
        service.add_route(route)

    # connection settings: new credentials take effect at once, webhooks are registered
    follow(service, connections, runtime.on_settings)

    # the customer keys, for what a shop service answers with the customer's data (bol's
    # invoice requests: `service.revealer`); an erased customer is forgotten, and a later
    # order of theirs gets a new key
    keys = MongoKeyStore(service.db)
    follow_customer_keys(service, privacy_box(settings), keys, on_erased=[privacy.forget])
    service.revealer = Revealer(keys, privacy_box(settings))  # type: ignore[attr-defined]

    # "Test verbinding" and historic imports, asked through Kafka by the dashboard / CLI
    serve_requests(service, runtime, connections)

    # whatever a webhook missed (or a poll-only shop has), the poll finds
    @service.loop("poll")
    async def poll() -> None:
        await runtime.run_forever()

    # webhook work in flight finishes while the broker can still publish
    @service.on_stopping
    async def drain() -> None:
        await runtime.tasks.drain(settings.drain_seconds)

    @service.on_stop
    async def close() -> None:
        await runtime.aclose(drain_seconds=0)

    return service
