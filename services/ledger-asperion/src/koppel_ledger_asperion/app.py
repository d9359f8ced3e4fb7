"""ledger-asperion: canonical orders become validated UBL 2.1 invoices and credit notes,
delivered to the merchant once a day as one ZIP — exactly once.

Reads top-down: the ledger runtime (`koppel_ledger`) consumes `shop.orders.v1`, claims
the order, plans it (koppel_bookkeeping) and "books" it through this service's adapter
(`adapter.AsperionAdapter`: the document written, validated and stored once), reads it
back and publishes on `ledger.bookings.v1` / `ledger.checks.v1`. The delivery loop
(`schedule.DeliveryService`) seals each connection's new documents into one delivery at
its delivery time, checks the sealed file, mails it and uploads it (SFTP, optional);
the control routes (`routes.py`) make or re-send one on request.
"""

from __future__ import annotations

import asyncio

from koppel_chassis import ConnectionStore, IndexSpec, SecretBox, Service
from koppel_chassis.connections import COLLECTION as CONNECTIONS_COLLECTION
from koppel_ledger import LedgerMetrics, build_ledger_service
from koppel_ubl import default_validator

from .adapter import AsperionAdapter
from .archive import DELIVERIES
from .courier import FOLLOWUPS
from .documents import DOCUMENTS, PENDING
from .routes import control_routes
from .schedule import DeliveryService
from .settings import LedgerAsperionSettings

# FerretDB reads by _id only; real MongoDB uses these for the per-connection queries.
INDEXES = [
    IndexSpec(PENDING, [("connection_id", 1)]),
    IndexSpec(FOLLOWUPS, [("connection_id", 1)]),
    IndexSpec(DELIVERIES, [("connection_id", 1), ("sealed_at", 1)]),
    IndexSpec(DOCUMENTS, [("connection_id", 1), ("reference", 1)]),
]


def build(settings: LedgerAsperionSettings | None = None) -> Service:
    settings = settings or LedgerAsperionSettings()
    secrets = SecretBox(settings.secrets_key) if settings.secrets_key else None

    def adapter(service: Service, metrics: LedgerMetrics) -> AsperionAdapter:
        return AsperionAdapter(service.db)

    service = build_ledger_service(settings, adapter, ledger="asperion", indexes=INDEXES)
    deliveries = DeliveryService(
        service.db,
        settings,
        connections=ConnectionStore(service.db[CONNECTIONS_COLLECTION]),
        publish=service.publisher.publish,
        secrets=secrets,
    )
    service.deliveries = deliveries  # type: ignore[attr-defined]  # for tests and operators

    @service.loop("ubl-rules")
    async def warm_up() -> None:
        # Fetch and compile the official rules before the first order needs them; a
        # failure (no network yet) is retried by the service's loop supervisor.
        await asyncio.to_thread(default_validator().warm_up)

    service.loop("deliveries")(deliveries.run)
    for route in control_routes(deliveries, settings):
        service.add_route(route)
    return service
