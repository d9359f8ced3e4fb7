"""Notifier settings (`KOPPEL_NOTIFIER_*`): SMTP, grouping, digest, retries."""

from __future__ import annotations

from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from koppel_chassis import ServiceSettings
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KOPPEL_NOTIFIER_", extra="ignore")

    service_name: str = "notifier"

    # --- SMTP -----------------------------------------------------------------
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: bool = Field(
        default=False, description="Implicit TLS from the first byte (SMTPS, usually port 465)"
    )
    smtp_starttls: bool | None = Field(
        default=None,
        description="STARTTLS: true = required, false = never, unset = when the server offers it",
    )
    smtp_validate_certs: bool = True
    smtp_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Upper bound for one whole SMTP send"
    )
    from_address: str = Field(default="Koppel <meldingen@koppel.nl>")
    reply_to: str | None = None

    # --- grouping, digest -----------------------------------------------------
    grouping_window_seconds: float = Field(
        default=60.0,
        ge=0,
        description="A connection's first pending notification waits this long for companions; "
        "everything pending by then goes out in one mail",
    )
    digest_enabled: bool = Field(
        default=False,
        description="Collect mismatches and order failures into one mail a day; "
        "broken connections still go out at once",
    )
    digest_hour: int = Field(default=8, ge=0, le=23)
    digest_timezone: str = "Europe/Amsterdam"

    # --- mailer loop, retries ---------------------------------------------------
    poll_interval_seconds: float = Field(default=5.0, gt=0)
    retry_initial_seconds: float = Field(default=30.0, gt=0)
    retry_max_seconds: float = Field(default=3600.0, gt=0)
    settings_recheck_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How often a mail for a connection without known settings is looked at again "
        "(a settings change wakes it at once)",
    )
    lease_margin_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Added to smtp_timeout_seconds: how long a claimed mail is ours",
    )
    max_items_per_mail: int = Field(default=200, ge=1)
    history_days: int = Field(
        default=180,
        ge=1,
        description="Sent notifications are remembered this long; older events are not mailed",
    )

    @field_validator("digest_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}, e.g. Europe/Amsterdam") from None
        return value

    @model_validator(mode="after")
    def _tls_modes(self) -> Self:
        if self.smtp_tls and self.smtp_starttls:
            raise ValueError("smtp_tls (implicit TLS) and smtp_starttls exclude each other")
        if self.retry_max_seconds < self.retry_initial_seconds:
            raise ValueError("retry_max_seconds must be at least retry_initial_seconds")
        return self

    @property
    def lease_seconds(self) -> float:
        return self.smtp_timeout_seconds + self.lease_margin_seconds
