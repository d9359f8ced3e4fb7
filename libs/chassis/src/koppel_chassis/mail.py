"""Sending e-mail over SMTP, the same way in every service that mails merchants (the
notifier's alerts, ledger-asperion's deliveries): one set of settings, one transport.

`SmtpSettings` is a settings mixin (a service's settings class inherits it next to
`ServiceSettings`, so the knobs read `KOPPEL_<SERVICE>_SMTP_HOST` etc.); `SmtpTransport`
sends with aiosmtplib in the configured TLS mode; `message_id` makes a Message-ID that
stays the same for the same mail, so a resend after an unknown outcome is shown once by
receiving systems that de-duplicate on it.
"""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Self

import aiosmtplib
from pydantic import BaseModel, Field, SecretStr, model_validator


class SmtpSettings(BaseModel):
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

    @model_validator(mode="after")
    def _one_tls_mode(self) -> Self:
        if self.smtp_tls and self.smtp_starttls:
            raise ValueError("smtp_tls (implicit TLS) and smtp_starttls exclude each other")
        return self


def message_id(seed: str, from_address: str) -> str:
    """A Message-ID for `seed` (a stable id of the mail) in the sender's domain."""
    domain = parseaddr(from_address)[1].rpartition("@")[2] or "koppel.local"
    return f"<{seed}@{domain}>"


class SmtpTransport:
    """aiosmtplib with the configured host, port, TLS mode and credentials."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    async def send(self, message: EmailMessage) -> None:
        s = self.settings
        async with asyncio.timeout(s.smtp_timeout_seconds):
            await aiosmtplib.send(
                message,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username,
                password=s.smtp_password.get_secret_value() if s.smtp_password else None,
                use_tls=s.smtp_tls,
                start_tls=False if s.smtp_tls else s.smtp_starttls,
                validate_certs=s.smtp_validate_certs,
                timeout=s.smtp_timeout_seconds,
            )
