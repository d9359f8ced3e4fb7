"""Settings of ledger-octopus (env prefix `KOPPEL_LEDGER_OCTOPUS_`).

Per-merchant settings (Octopus credentials, dossier, journal, VAT mapping,
tolerance) are not here: they arrive as connection settings on
`config.connections.v1`. These are the service's own knobs.
"""

from __future__ import annotations

from datetime import timedelta

from koppel_chassis import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class LedgerOctopusSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KOPPEL_LEDGER_OCTOPUS_", extra="ignore")

    service_name: str = "ledger-octopus"

    # --- HTTP to Octopus -----------------------------------------------------
    http_timeout_seconds: float = Field(default=20.0, gt=0)
    http_max_attempts: int = Field(
        default=3, ge=1, description="Attempts per read call inside one processing run"
    )
    http_max_retry_seconds: float = Field(default=10.0, ge=0)
    http_initial_backoff_seconds: float = Field(default=0.5, ge=0)
    http_max_backoff_seconds: float = Field(default=4.0, ge=0)
    token_lifetime_seconds: float = Field(
        default=540.0, gt=0, description="Octopus tokens live 10 minutes; renew a bit earlier"
    )

    # --- retrying orders from MongoDB -----------------------------------------
    retry_initial_seconds: float = Field(
        default=30.0, gt=0, description="Delay after the first transient failure"
    )
    retry_factor: float = Field(default=2.0, ge=1)
    retry_max_seconds: float = Field(default=3600.0, gt=0, description="Longest delay")
    persistent_after: timedelta = Field(
        default=timedelta(hours=24),
        description="Transient failures older than this become a persistent failure",
    )
    consumer_workers: int = Field(
        default=1,
        ge=1,
        description="Consumers of shop.orders per process, each owning whole partitions "
        "(order per key kept); 1 = one message at a time. >1 books orders of one "
        "connection concurrently, so e.g. two may both try a login that a hold would "
        "have saved (as with two replicas)",
    )
    scheduler_interval_seconds: float = Field(default=2.0, gt=0)
    scheduler_batch: int = Field(default=20, ge=1)
    sweep_interval_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="How often the scheduler reads all orders for due ones that lost their "
        "schedule hint, and for events a crash left unpublished. Also at every start, which "
        "covers a replica's own crash. A full read on FerretDB (measured with 100k-200k "
        "orders: booking slowed to a third for ~4 minutes per sweep), and for the outbox "
        "on MongoDB too",
    )
    lock_seconds: float = Field(
        default=300.0, gt=0, description="How long one worker owns an order it is booking"
    )
    settings_pending_recheck_seconds: float = Field(
        default=60.0, gt=0, description="Re-check of orders whose connection has no settings yet"
    )

    # --- caches ---------------------------------------------------------------
    settings_cache_seconds: float = Field(
        default=2.0,
        ge=0,
        description="Connection settings and holds are looked up once per order; answers "
        "are reused this long (a change made by another replica is seen this much later)",
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

    # --- booking ---------------------------------------------------------------
    financial_vat_account: int = Field(
        default=451000,
        description="Account of the VAT lines in financial mode (Octopus: te betalen btw)",
    )

    # --- exactly-once ---------------------------------------------------------
    always_look_up: bool = Field(
        default=False,
        description="Look every order up in Octopus before creating it. Off: look up only "
        "when a create may already have happened (an intent was recorded) — one call less",
    )

    # --- tests only -----------------------------------------------------------
    crash_after_create: bool = Field(
        default=False,
        description="TEST HOOK: kill -9 this process right after Octopus accepted a create, "
        "before the ids are recorded (proves exactly-once across a crash)",
    )
