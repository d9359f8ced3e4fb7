"""ledger-snelstart: canonical orders become sales bookings (verkoopboekingen) in SnelStart,
exactly once, with the VAT per rate the shop charged.

Reads top-down: the ledger runtime (`koppel_ledger`) consumes `shop.orders.v1`, claims the
order, plans it (koppel_bookkeeping) and books it through this service's adapter
(`adapter.SnelStartAdapter`: client, mapping, what SnelStart's error codes mean), records
the booking's id, reads it back and publishes on `ledger.bookings.v1` / `ledger.checks.v1`
(and `ops.alerts.v1`).
"""

from __future__ import annotations

from koppel_chassis import SecretBox, Service
from koppel_ledger import LedgerMetrics, build_ledger_service

from .adapter import SnelStartAdapter
from .settings import LedgerSnelStartSettings


def build(settings: LedgerSnelStartSettings | None = None) -> Service:
    settings = settings or LedgerSnelStartSettings()
    secrets = SecretBox(settings.secrets_key)  # fails fast when no key is configured

    def adapter(service: Service, metrics: LedgerMetrics) -> SnelStartAdapter:
        return SnelStartAdapter(settings, metrics, secrets)

    return build_ledger_service(settings, adapter, ledger="snelstart")
