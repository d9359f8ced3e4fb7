"""Operational alerts on `ops.alerts.v1`, keyed by connection id."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from .booking import OrderSummary
from .envelope import Envelope


class AlertKind(StrEnum):
    CONNECTION_BROKEN = "connection_broken"
    CONNECTION_RESTORED = "connection_restored"
    PERSISTENT_FAILURE = "persistent_failure"
    INGEST_FAILURE = "ingest_failure"


class AlertEvent(Envelope):
    event_type: Literal["alert"] = "alert"
    schema_version: Literal[1] = 1
    kind: AlertKind
    component: str = Field(description="Service that raised it, e.g. ledger-octopus")
    reason_code: str = Field(min_length=1)
    reason: str
    suggestion: str
    order_ref: str | None = None
    order: OrderSummary | None = None
    cause_id: str = Field(
        description="Identifies the cause: one alert per cause, however often it is re-sent"
    )
