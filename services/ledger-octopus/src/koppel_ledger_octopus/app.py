"""ledger-octopus: canonical orders become concept sales invoices (or financial mutations)
in Octopus, exactly once.

Reads top-down: the ledger runtime (`koppel_ledger`) consumes `shop.orders.v1`, claims
the order, plans it (koppel_bookkeeping) and books it through this service's adapter
(`adapter.OctopusAdapter`: client, mapping, what Octopus' refusals mean), records the
Octopus ids, reads the document back and publishes on `ledger.bookings.v1` /
`ledger.checks.v1` (and `ops.alerts.v1`).
"""

from __future__ import annotations

from koppel_chassis import SecretBox, Service
from koppel_ledger import LedgerMetrics, build_ledger_service

from . import reference
from .adapter import INDEXES, OctopusAdapter
from .settings import LedgerOctopusSettings


def build(settings: LedgerOctopusSettings | None = None) -> Service:
    settings = settings or LedgerOctopusSettings()
    secrets = SecretBox(settings.secrets_key)  # fails fast when no key is configured

    def adapter(service: Service, metrics: LedgerMetrics) -> OctopusAdapter:
        return OctopusAdapter(settings, service.db, metrics, secrets)

    return build_ledger_service(
        settings, adapter, ledger="octopus", indexes=[*INDEXES, *reference.INDEXES]
    )
