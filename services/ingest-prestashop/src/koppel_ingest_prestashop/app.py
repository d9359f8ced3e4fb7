"""ingest-prestashop: PrestaShop orders onto shop.orders.v1, the moment they become bookable.

receive (the leased poll per connection: what changed since the last poll, by date_upd)
  -> normalise (read the order, its lines, cart rules, credit slips, customer and
     addresses; map to the canonical order)
  -> publish (OrderEvent on shop.orders.v1; alerts on ops.alerts.v1)

The ingest runtime (`koppel_ingest`) does the polling, deciding and publishing; this
service is its PrestaShop adapter (`adapter.PrestashopAdapter`).
"""

from __future__ import annotations

from koppel_chassis import SecretBox, Service
from koppel_ingest import build_ingest_service

from .adapter import PrestashopAdapter
from .settings import IngestPrestashopSettings


def build(settings: IngestPrestashopSettings) -> Service:
    def adapter(_: Service, box: SecretBox) -> PrestashopAdapter:
        return PrestashopAdapter(settings, box)

    return build_ingest_service(settings, adapter)
