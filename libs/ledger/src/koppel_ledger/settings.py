"""The runtime's knobs, shared by every ledger service. A service subclasses
`LedgerSettings` with its own env prefix and adds its ledger's own settings."""

from __future__ import annotations

from datetime import timedelta

from koppel_chassis import ServiceSettings
from pydantic import Field

from .decide import RetryPolicy


class LedgerSettings(ServiceSettings):
    # --- HTTP to the ledger ---------------------------------------------------------------
    http_timeout_seconds: float = Field(default=20.0, gt=0)
    http_max_attempts: int = Field(
        default=3, ge=1, description="Attempts per read call inside one processing run"
    )
    http_max_retry_seconds: float = Field(default=10.0, ge=0)
    http_initial_backoff_seconds: float = Field(default=0.5, ge=0)
    http_max_backoff_seconds: float = Field(default=4.0, ge=0)

    # --- retrying orders from MongoDB -------------------------------------------------------
    retry_initial_seconds: float = Field(
        default=30.0, gt=0, description="Delay after the first transient failure"
    )
    retry_factor: float = Field(default=2.0, ge=1)
    retry_max_seconds: float = Field(default=3600.0, gt=0, description="Longest delay")
    persistent_after: timedelta = Field(
        default=timedelta(hours=24),
        description="Transient failures older than this become a persistent failure",
    )
    batch_max_records: int = Field(
        default=200,
        ge=1,
        description="Batch mode: order events taken from one Kafka fetch at once and booked "
        "concurrently, offsets committed after the whole batch; 1 = one message at a time "
        "(then CONSUMER_WORKERS applies)",
    )
    batch_timeout_ms: int = Field(
        default=20,
        ge=1,
        description="Batch mode: how long an idle consumer waits for records (FastStream "
        "then pauses as long again); a fetch with records returns at once",
    )
    batch_linger_ms: int = Field(
        default=100,
        ge=0,
        description="Batch mode: how long the broker holds a fetch to gather more order "
        "events (Kafka's fetch.max.wait with a fetch.min.bytes no trickle reaches): at a "
        "realtime trickle a batch is what arrived in this time, not one event, so one "
        "round of writes, one offset commit and one fetch serve many orders; a replay's "
        "full fetches return at once. Adds at most this much latency; 0 = fetch per event",
    )
    connection_concurrency: int = Field(
        default=8,
        ge=1,
        description="Ledger calls in flight at once per connection (batch mode books many "
        "orders of one connection at the same time); the ledger client's own rate limits "
        "apply on top",
    )
    consumer_workers: int = Field(
        default=1,
        ge=1,
        description="Without batch mode: consumers of shop.orders per process, each owning "
        "whole partitions (order per key kept); 1 = one message at a time",
    )
    scheduler_interval_seconds: float = Field(default=2.0, gt=0)
    scheduler_batch: int = Field(default=20, ge=1)
    sweep_interval_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="How often the scheduler reads all orders for due ones that lost their "
        "schedule hint, and for events a crash left unpublished (also at every start). A "
        "full read on FerretDB, and for the outbox on MongoDB too",
    )
    lock_seconds: float = Field(
        default=300.0, gt=0, description="How long one worker owns an order it is booking"
    )
    settings_pending_recheck_seconds: float = Field(
        default=60.0, gt=0, description="Re-check of orders whose connection has no settings yet"
    )
    settings_cache_seconds: float = Field(
        default=2.0,
        ge=0,
        description="Connection settings and holds are looked up once per order; answers "
        "are reused this long (a change made by another replica is seen this much later)",
    )

    # --- exactly-once ---------------------------------------------------------------------
    always_look_up: bool = Field(
        default=False,
        description="Look every order up in the ledger before creating it (for ledgers where "
        "orders may have been booked by hand or by a previous koppeling). Off: look up only "
        "when a create may already have happened (an intent was recorded)",
    )

    # --- tests only -------------------------------------------------------------------------
    crash_after_create: bool = Field(
        default=False,
        description="TEST HOOK: kill -9 this process right after the ledger accepted a create, "
        "before the ids are recorded (proves exactly-once across a crash)",
    )
    crash_after_creates: int = Field(
        default=0,
        ge=0,
        description="TEST HOOK: the same after that many creates (in batch mode: in the "
        "middle of a batch, other orders at every step); 0 = never",
    )

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            initial_seconds=self.retry_initial_seconds,
            factor=self.retry_factor,
            max_seconds=self.retry_max_seconds,
            persistent_after=self.persistent_after,
            settings_recheck_seconds=self.settings_pending_recheck_seconds,
        )
