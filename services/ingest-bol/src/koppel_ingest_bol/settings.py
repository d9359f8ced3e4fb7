"""Settings of ingest-bol (environment variables with the KOPPEL_INGEST_BOL_ prefix).

The runtime's knobs come from `koppel_ingest.PolledIngestSettings` (`POLL_INTERVAL_SECONDS`
300: bol asks for a poll every 5 to 15 minutes, bol.md §3.1); the rest is bol's."""

from __future__ import annotations

from koppel_ingest import PolledIngestSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict

# bol's limits per endpoint group as (requests, window seconds): the 2025 snapshot of
# bol's rate-limit page (bol.md §7); UNCONFIRMED ones as the sandbox has them. bol
# changes them over time, so they are settings.
DEFAULT_RATE_LIMITS: dict[str, tuple[int, float]] = {
    "token": (60, 60.0),
    "orders-list": (25, 60.0),
    "order-detail": (25, 1.0),
    "shipments-list": (25, 60.0),
    "shipment-detail": (50, 60.0),
    "returns-list": (20, 60.0),
    "invoice-requests": (25, 60.0),
    "invoice-upload": (25, 1.0),
}


class IngestBolSettings(PolledIngestSettings):
    model_config = SettingsConfigDict(env_prefix="KOPPEL_INGEST_BOL_", extra="ignore")

    service_name: str = "ingest-bol"
    login_url: str | None = Field(
        default=None,
        description="bol's token server; None: https://login.bol.com for a connection on"
        " api.bol.com, else the connection's own address (a sandbox serves both)",
    )
    media_type: str = Field(
        default="application/vnd.retailer.v10+json",
        description="The API version is chosen by media type (bol.md §1)",
    )
    timeout_seconds: float = Field(default=10.0, gt=0, description="Per request")
    max_attempts: int = Field(default=4, ge=1, description="Per request, retries included")
    max_retry_seconds: float = Field(
        default=30.0, gt=0, description="A request is given up after this long (retries)"
    )
    token_margin_seconds: float = Field(
        default=30.0, ge=0, description="A token is renewed this long before it expires"
    )
    rate_limits: dict[str, tuple[int, float]] = Field(
        default_factory=dict,
        description="bol's limit per endpoint group, [requests, window seconds], where it"
        " differs from DEFAULT_RATE_LIMITS",
    )
    budget_share: float = Field(
        default=0.9,
        gt=0,
        le=1,
        description="The share of each limit one connection's client spends (the rest is"
        " headroom for a second replica or the merchant's other tools)",
    )
    overlap_seconds: float = Field(
        default=120.0,
        ge=0,
        description="Each poll looks this much further back than the last one went",
    )
    invoice_interval_seconds: float = Field(
        default=300.0, gt=0, description="How often open invoice requests are answered"
    )
    invoice_claim_stale_seconds: float = Field(
        default=900.0,
        gt=0,
        description="A claimed answer neither uploaded nor released after this long was cut"
        " short by a crash: it is released when bol still shows the request open",
    )

    def budgets(self) -> dict[str, tuple[int, float]]:
        """What one connection's client spends per group and window: a share of bol's
        limit (at least 2, what a leaky bucket needs)."""
        limits = {**DEFAULT_RATE_LIMITS, **self.rate_limits}
        return {
            group: (max(2, int(requests * self.budget_share)), window)
            for group, (requests, window) in limits.items()
        }
