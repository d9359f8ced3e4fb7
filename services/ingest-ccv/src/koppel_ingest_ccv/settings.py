"""Settings of ingest-ccv (environment variables with the KOPPEL_INGEST_CCV_ prefix).

The runtime's shared knobs come from `koppel_ingest.IngestSettings`; the poll keeps its
CCV name (the *reconciliation* poll: webhooks come first) and its variable names."""

from __future__ import annotations

from koppel_ingest import IngestSettings, PollPolicy
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class IngestCcvSettings(IngestSettings):
    model_config = SettingsConfigDict(env_prefix="KOPPEL_INGEST_CCV_", extra="ignore")

    service_name: str = "ingest-ccv"
    public_base_url: str = Field(
        default="http://127.0.0.1:8080",
        description="Where CCV Shop reaches this service; webhooks are registered as"
        " <public_base_url>/webhooks/ccvshop/<connection_id>",
    )
    reconcile_interval_seconds: float = Field(
        default=300.0, gt=0, description="How often each connection's orders are re-read"
    )
    reconcile_window_days: int = Field(
        default=14, ge=1, description="How far back (by creation date) the poll looks"
    )
    reconcile_lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Lease per connection poll, renewed every third of it while polling; what"
        " a replica that dies mid-poll holds the connection up for",
    )
    ccv_page_size: int = Field(default=100, ge=1, le=250)
    ccv_get_budget: int = Field(
        default=140, ge=2, description="GET requests per resource per budget window (CCV: 150)"
    )
    ccv_write_budget: int = Field(
        default=90, ge=2, description="Writes per resource per budget window (CCV: 100)"
    )
    ccv_budget_window_seconds: float = Field(default=60.0, gt=0)
    ccv_timeout_seconds: float = Field(default=10.0, gt=0)
    ccv_max_attempts: int = Field(default=4, ge=1)
    ccv_verify_response_signatures: bool = Field(
        default=True, description="Check CCV's x-hash on every successful response"
    )

    def poll_policy(self) -> PollPolicy:
        return self.policy(
            self.reconcile_interval_seconds,
            self.reconcile_window_days,
            self.reconcile_lease_seconds,
        )
