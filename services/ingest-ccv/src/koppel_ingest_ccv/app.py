"""ingest-ccv: CCV Shop orders onto shop.orders.v1, the moment they become bookable.

receive (a signed CCV webhook, or the reconciliation poll)
  -> normalise (fetch order + rows, map to the canonical order)
  -> publish (OrderEvent on shop.orders.v1; alerts on ops.alerts.v1)
"""

from __future__ import annotations

from koppel_chassis import (
    ConnectionStore,
    LeaseStore,
    SecretBox,
    Service,
    follow_connections,
)
from koppel_contracts import ConnectionSettings
from starlette.routing import Route

from .connections import Connections, concerns_us
from .handlers import Alerts, ConnectionGuard, OrderSync
from .reconcile import Reconciler
from .settings import IngestCcvSettings
from .state import INDEXES, LEASES, ConnectionStates, OrderStore
from .webhooks import ROUTE, BackgroundTasks, WebhookReceiver, WebhookRegistrar

# How long a stopping service lets webhook work in flight finish.
DRAIN_SECONDS = 5.0
SETTINGS_CACHE_SECONDS = 2.0


def build(settings: IngestCcvSettings) -> Service:
    service = Service(settings, indexes=INDEXES)
    box = SecretBox(settings.secrets_key)
    # Every webhook looks its connection up: answers are reused for a moment (this
    # process' own changes drop them at once).
    store = ConnectionStore(service.db["connections"], cache_seconds=SETTINGS_CACHE_SECONDS)
    states = ConnectionStates(service.db)
    orders = OrderStore(service.db)
    connections = Connections(store, settings, box)
    alerts = Alerts(service.publisher, states, orders)
    guard = ConnectionGuard(store, connections, states, alerts)
    sync = OrderSync(service.publisher, orders, alerts)
    registrar = WebhookRegistrar(states, box, settings.public_base_url)
    tasks = BackgroundTasks()
    reconciler = Reconciler(
        settings,
        store,
        connections,
        states,
        orders,
        sync,
        registrar,
        guard,
        LeaseStore(service.db[LEASES]),
    )

    # Receive: CCV's webhooks, answered at once, processed in the background.
    receiver = WebhookReceiver(states, box, registrar, guard, sync, tasks)
    service.add_route(Route(ROUTE, receiver.handle, methods=["POST"]))

    # Connection settings: new credentials take effect at once, webhooks are registered.
    async def on_settings(connection_id: str, changed: ConnectionSettings | None) -> None:
        if concerns_us(changed):
            await reconciler.attend(connection_id)
        else:
            await connections.drop(connection_id)

    follow_connections(service, store, on_settings)

    @service.on_start
    async def index_order_numbers() -> None:
        await orders.backfill_numbers()

    # Whatever a webhook missed, the poll finds.
    @service.loop("reconcile")
    async def reconcile() -> None:
        await reconciler.run_forever()

    @service.on_stop
    async def close() -> None:
        await tasks.drain(DRAIN_SECONDS)
        await connections.aclose()

    return service
