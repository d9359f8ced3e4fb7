"""Settings of ingest-prestashop (environment variables with the KOPPEL_INGEST_PRESTASHOP_
prefix). The poll knobs are the runtime's (`PolledIngestSettings`); the rest is how the
service talks to a PrestaShop webservice."""

from __future__ import annotations

from koppel_ingest import PolledIngestSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class IngestPrestashopSettings(PolledIngestSettings):
    model_config = SettingsConfigDict(env_prefix="KOPPEL_INGEST_PRESTASHOP_", extra="ignore")

    service_name: str = "ingest-prestashop"
    prestashop_page_size: int = Field(
        default=100, ge=1, le=1000, description="Orders per page of a list (limit=offset,n)"
    )
    prestashop_overlap_seconds: float = Field(
        default=600.0,
        ge=0,
        description="Each poll re-reads what changed this long before the last change it saw"
        " (clock skew, changes committed late)",
    )
    prestashop_timezone: str = Field(
        default="Europe/Amsterdam",
        description="The shops' timezone: PrestaShop writes its datetimes without one",
    )
    prestashop_request_budget: int = Field(
        default=300,
        ge=2,
        description="Requests per connection per budget window, all resources together"
        " (PrestaShop has no limit of its own; hosting providers and firewalls do)",
    )
    prestashop_budget_window_seconds: float = Field(default=60.0, gt=0)
    prestashop_timeout_seconds: float = Field(default=15.0, gt=0)
    prestashop_max_attempts: int = Field(default=4, ge=1)
