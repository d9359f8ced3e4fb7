"""The runtime's knobs, shared by every ingest service. A service subclasses
`PolledIngestSettings` (or `IngestSettings` with its own names for the poll knobs and a
`poll_policy()`) with its own env prefix, and adds its shop's own settings."""

from __future__ import annotations

from datetime import timedelta

from koppel_chassis import ServiceSettings
from pydantic import Field

from .poller import PollPolicy


class IngestSettings(ServiceSettings):
    public_base_url: str = Field(
        default="http://127.0.0.1:8080",
        description="Where the shop reaches this service (shops with webhooks); webhooks are"
        " registered under it",
    )
    settings_cache_seconds: float = Field(
        default=2.0,
        ge=0,
        description="Each webhook looks its connection up; answers are reused this long",
    )
    webhook_workers: int = Field(
        default=16, ge=1, description="Webhook deliveries processed at once per process"
    )
    webhook_signature_alarm: int = Field(
        default=3,
        ge=1,
        description="Deliveries refused for their signature whose orders the poll finds,"
        " before operators are alerted that the signature check is what fails",
    )
    drain_seconds: float = Field(
        default=5.0, ge=0, description="How long a stopping service lets webhook work finish"
    )

    def poll_policy(self) -> PollPolicy:
        raise NotImplementedError("subclass PolledIngestSettings, or give a poll_policy()")

    def policy(self, interval: float, window_days: int, lease: float) -> PollPolicy:
        return PollPolicy(
            interval=timedelta(seconds=interval),
            window=timedelta(days=window_days),
            lease=timedelta(seconds=lease),
            signature_threshold=self.webhook_signature_alarm,
        )


class PolledIngestSettings(IngestSettings):
    poll_interval_seconds: float = Field(
        default=300.0, gt=0, description="How often each connection's shop is polled"
    )
    poll_window_days: int = Field(
        default=14, ge=1, description="How far back (by placing date) a full listing looks"
    )
    poll_lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Lease per connection poll, renewed every third of it while polling; what"
        " a replica that dies mid-poll holds the connection up for",
    )

    def poll_policy(self) -> PollPolicy:
        return self.policy(
            self.poll_interval_seconds, self.poll_window_days, self.poll_lease_seconds
        )
