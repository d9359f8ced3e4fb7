"""Dashboard settings (`KOPPEL_DASHBOARD_*`): cookies and sessions, login rate limits, the
support address and SMTP (`koppel_chassis.mail.SmtpSettings`), links into shops and ledgers."""

from __future__ import annotations

from koppel_chassis import ServiceSettings
from koppel_chassis.mail import SmtpSettings
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict


class DashboardSettings(SmtpSettings, ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KOPPEL_DASHBOARD_", extra="ignore")

    service_name: str = "dashboard"

    # --- cookies, sessions -----------------------------------------------------
    cookie_secret: SecretStr = Field(
        description="Signs the session cookie (and so its CSRF token); at least 32 characters. "
        "Several replicas share it; changing it logs everybody out"
    )
    secure_cookies: bool = Field(
        default=True,
        description="Cookies only over HTTPS (Secure); false only for http://localhost",
    )
    session_hours: float = Field(default=12.0, gt=0, description="A login lasts this long")

    # --- login rate limits -------------------------------------------------------
    login_attempts_per_account: int = Field(
        default=5, ge=1, description="Failed logins per account name per window"
    )
    login_attempts_per_address: int = Field(
        default=20, ge=1, description="Failed logins per client address per window"
    )
    login_window_seconds: int = Field(default=900, ge=1)

    # --- support cases -----------------------------------------------------------
    support_email: str = Field(
        default="support@koppel.nl",
        pattern=r"^[^@\s]+@[^@\s]+$",
        description="Where 'Meld probleem' sends a case",
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8080",
        description="The dashboard's own address, for links in the support mail",
    )
    mail_retry_seconds: float = Field(
        default=60.0, gt=0, description="A case mail that could not be sent is tried again"
    )
    mail_poll_seconds: float = Field(default=10.0, gt=0)

    # --- links into the shop and the ledger ------------------------------------------
    # Vendors do not document their back-office addresses, so they are configuration:
    # a template per system with {base_url}, {order_id}, {order_number} (shop) and
    # {base_url}, {dossier_id}, {booking_id}, {document_number} (ledger).
    shop_links: dict[str, str] = Field(default_factory=dict)
    ledger_links: dict[str, str] = Field(default_factory=dict)

    # --- read models -------------------------------------------------------------
    timeline_limit: int = Field(
        default=100, ge=10, description="Events kept per order and source (newest win)"
    )

    @field_validator("cookie_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 32:
            raise ValueError("cookie_secret must be at least 32 characters (e.g. `koppel keygen`)")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")
