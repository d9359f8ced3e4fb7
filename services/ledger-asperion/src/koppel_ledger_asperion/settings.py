"""Settings of ledger-asperion (env prefix `KOPPEL_LEDGER_ASPERION_`).

The runtime's knobs (retries, scheduler, locks, caches) come from
`koppel_ledger.LedgerSettings`; these are the file ledger's own: the daily delivery, the
SMTP server that mails it, and the operator token of the control routes. Per-merchant
settings (seller party, bookkeeping address, delivery time, SFTP target) arrive as
connection settings (`ledger.asperion`) on `config.connections.v1`.
"""

from __future__ import annotations

from typing import Self

from koppel_chassis.mail import SmtpSettings
from koppel_ledger import LedgerSettings
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict


class LedgerAsperionSettings(SmtpSettings, LedgerSettings):
    model_config = SettingsConfigDict(env_prefix="KOPPEL_LEDGER_ASPERION_", extra="ignore")

    service_name: str = "ledger-asperion"

    # --- the daily delivery ---------------------------------------------------------------
    delivery_check_seconds: float = Field(
        default=30.0, gt=0, description="How often the delivery loop looks for due deliveries"
    )
    delivery_lease_seconds: float = Field(
        default=300.0, gt=0, description="How long one replica owns a connection's deliveries"
    )
    replace_hold_seconds: float = Field(
        default=900.0,
        gt=0,
        description="A replacement of a document that a crash interrupted blocks sealing it "
        "this long (longer than lock_seconds: the order's owner finishes it first)",
    )
    send_retry_initial_seconds: float = Field(default=60.0, gt=0)
    send_retry_max_seconds: float = Field(default=3600.0, gt=0)
    operator_token: SecretStr | None = Field(
        default=None,
        description="Bearer token of the control routes (POST /deliveries/...); unset: the "
        "routes answer 403",
    )

    # --- SMTP: koppel_chassis.mail.SmtpSettings (the notifier's knobs) --------------------
    smtp_timeout_seconds: float = Field(default=60.0, gt=0)
    from_address: str = Field(default="Koppel <leveringen@koppel.nl>")

    # --- SFTP -------------------------------------------------------------------------------
    sftp_timeout_seconds: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.send_retry_max_seconds < self.send_retry_initial_seconds:
            raise ValueError("send_retry_max_seconds must be at least send_retry_initial_seconds")
        return self
