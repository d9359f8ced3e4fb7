"""Notifier settings (`KOPPEL_NOTIFIER_*`): SMTP (`koppel_chassis.mail.SmtpSettings`),
grouping, digest, retries, the dashboard's address for links."""

from __future__ import annotations

from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from koppel_chassis import ServiceSettings
from koppel_chassis.mail import SmtpSettings
from pydantic import Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict


class NotifierSettings(SmtpSettings, ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KOPPEL_NOTIFIER_", extra="ignore")

    service_name: str = "notifier"

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

    # --- links, the "works again" mail ---------------------------------------------
    dashboard_url: str = Field(
        default="http://127.0.0.1:8300",
        description="The merchant dashboard's public address; every mail links to the order "
        "or connection there (/connections/{id}, /connections/{id}/orders/{ref})",
    )
    restore_wait_seconds: float = Field(
        default=900.0,
        ge=0,
        description="After a restore, its mail waits (at least the grouping window) until the "
        "orders held before it have been booked, but no longer than this",
    )

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

    @field_validator("dashboard_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("dashboard_url must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _retry_window(self) -> Self:
        if self.retry_max_seconds < self.retry_initial_seconds:
            raise ValueError("retry_max_seconds must be at least retry_initial_seconds")
        return self

    @property
    def lease_seconds(self) -> float:
        return self.smtp_timeout_seconds + self.lease_margin_seconds
