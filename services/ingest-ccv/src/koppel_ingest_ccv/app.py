"""ingest-ccv: CCV Shop orders onto shop.orders.v1, the moment they become bookable.

receive (a signed CCV webhook, or the reconciliation poll)
  -> normalise (fetch order + rows, map to the canonical order)
  -> publish (OrderEvent on shop.orders.v1; alerts on ops.alerts.v1)

The ingest runtime (`koppel_ingest`) does the receiving, deciding and publishing; this
service is its CCV adapter (`adapter.CcvAdapter`: the signed client, the pure mapping,
webhook signatures, the connection test).
"""

from __future__ import annotations

from koppel_chassis import SecretBox, Service
from koppel_ingest import build_ingest_service

from . import legacy
from .adapter import CcvAdapter
from .settings import IngestCcvSettings


def build(settings: IngestCcvSettings) -> Service:
    def adapter(_: Service, box: SecretBox) -> CcvAdapter:
        return CcvAdapter(settings, box)

    service = build_ingest_service(settings, adapter)

    @service.on_start
    async def take_over_legacy_state() -> None:
        await legacy.migrate(service.db)

    return service
