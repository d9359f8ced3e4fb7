"""Settings of ledger-octopus (env prefix `KOPPEL_LEDGER_OCTOPUS_`).

The runtime's knobs (retries, scheduler, locks, caches, exactly-once) come from
`koppel_ledger.LedgerSettings`; these are Octopus' own. Per-merchant settings (Octopus
credentials, dossier, journal, VAT mapping, tolerance) arrive as connection settings on
`config.connections.v1`.
"""

from __future__ import annotations

from datetime import timedelta

from koppel_ledger import LedgerSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class LedgerOctopusSettings(LedgerSettings):
    model_config = SettingsConfigDict(env_prefix="KOPPEL_LEDGER_OCTOPUS_", extra="ignore")

    service_name: str = "ledger-octopus"

    token_lifetime_seconds: float = Field(
        default=540.0, gt=0, description="Octopus tokens live 10 minutes; renew a bit earlier"
    )
    reference_refresh: timedelta = Field(
        default=timedelta(hours=6),
        description="Book years, journals, VAT codes, accounts are re-read after this",
    )
    relation_refresh: timedelta = Field(
        default=timedelta(minutes=5),
        description="On an unknown e-mail, the relation index is refreshed from "
        "/relations/modified when its last refresh is older than this",
    )
    financial_vat_account: int = Field(
        default=451000,
        description="Account of the VAT lines in financial mode (Octopus: te betalen btw)",
    )
