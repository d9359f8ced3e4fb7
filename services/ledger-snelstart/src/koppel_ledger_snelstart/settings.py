"""Settings of ledger-snelstart (env prefix `KOPPEL_LEDGER_SNELSTART_`).

The runtime's knobs come from `koppel_ledger.LedgerSettings`; these are SnelStart's own.
The subscription key is Koppel's (one per partner application, from SnelStart's developer
portal), not the merchant's: it is a service secret. The merchant's koppelsleutel arrives
encrypted in the connection settings (`ledger.credentials.koppelsleutel`).
"""

from __future__ import annotations

from datetime import timedelta

from koppel_ledger import LedgerSettings
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict


class LedgerSnelStartSettings(LedgerSettings):
    model_config = SettingsConfigDict(env_prefix="KOPPEL_LEDGER_SNELSTART_", extra="ignore")

    service_name: str = "ledger-snelstart"

    subscription_key: SecretStr | None = Field(
        default=None, description="Koppel's Ocp-Apim-Subscription-Key (partner application)"
    )
    token_url: str | None = Field(
        default=None,
        description="The token endpoint; None: https://auth.snelstart.nl/b2b/token for the real "
        "API, else <origin of ledger.base_url>/b2b/token (the sandbox serves both)",
    )
    token_renew_seconds: float = Field(
        default=60.0, ge=0, description="Tokens live ~1 hour; renewed this long before expiry"
    )
    requests_per_minute: float = Field(
        default=500.0,
        gt=0,
        description="Calls per minute per administration (SnelStart's tier: 100 in test, 500 "
        "in production)",
    )
    concurrent_requests: int = Field(
        default=5, ge=1, description="Calls at once per administration (5 in the test tier)"
    )
    reference_refresh: timedelta = Field(
        default=timedelta(hours=6),
        description="Ledger accounts, VAT rates and company info are re-read after this",
    )
