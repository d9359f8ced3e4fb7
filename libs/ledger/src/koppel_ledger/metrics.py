"""Counting ledger calls: per operation (Prometheus) and per order being booked.

Ledgers have quotas (Octopus' are daily and low; SnelStart's per minute and hour), so
every call is counted where it is made: an adapter's HTTP client installs `http_hooks()`
and names each call with `operation(...)`. The hooks run in the task that makes the
request, so the meter is the one of the order being worked on — retries included.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, Counter, Histogram

_meter: contextvars.ContextVar[CallMeter | None] = contextvars.ContextVar(
    "ledger_call_meter", default=None
)
_operation: contextvars.ContextVar[str] = contextvars.ContextVar(
    "ledger_operation", default="other"
)


@dataclass
class CallMeter:
    """Ledger calls made while one order was being worked on."""

    calls: int = 0
    operations: list[str] = field(default_factory=list)

    def count(self, operation: str) -> None:
        self.calls += 1
        self.operations.append(operation)


@contextmanager
def metered() -> Iterator[CallMeter]:
    meter = CallMeter()
    token = _meter.set(meter)
    try:
        yield meter
    finally:
        _meter.reset(token)


def current_meter() -> CallMeter | None:
    return _meter.get()


@contextmanager
def operation(name: str) -> Iterator[None]:
    """Name the ledger calls made inside (for the counters)."""
    token = _operation.set(name)
    try:
        yield
    finally:
        _operation.reset(token)


class LedgerMetrics:
    def __init__(self, registry: CollectorRegistry, ledger: str) -> None:
        self.ledger = ledger
        self.calls = Counter(
            "koppel_ledger_calls_total",
            "HTTP calls made to the ledger (retries included), by operation",
            ["ledger", "operation"],
            registry=registry,
        )
        self.responses = Counter(
            "koppel_ledger_responses_total",
            "Responses from the ledger, by operation and HTTP status",
            ["ledger", "operation", "status"],
            registry=registry,
        )
        self.booking_calls = Counter(
            "koppel_ledger_booking_calls_total",
            "Ledger calls spent on orders that reached a final ledger effect",
            ["ledger"],
            registry=registry,
        )
        self.bookings = Counter(
            "koppel_ledger_bookings_total",
            "Orders whose ledger effect was recorded, by outcome",
            ["ledger", "status"],
            registry=registry,
        )
        self.calls_per_booking = Histogram(
            "koppel_ledger_calls_per_booking",
            "Ledger calls used to book one order (including its read-back check)",
            ["ledger"],
            buckets=(1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30),
            registry=registry,
        )

    def booked(self, status: str) -> None:
        self.bookings.labels(self.ledger, status).inc()

    def observe_calls(self, calls: int) -> None:
        self.calls_per_booking.labels(self.ledger).observe(calls)
        self.booking_calls.labels(self.ledger).inc(calls)

    def http_hooks(self) -> dict[str, list[Callable[[Any], Awaitable[None]]]]:
        return call_hooks(self)


def call_hooks(
    metrics: LedgerMetrics | None = None,
) -> dict[str, list[Callable[[Any], Awaitable[None]]]]:
    """httpx `event_hooks` that count every request (per order being booked, and in
    Prometheus when `metrics` is given) and every response status."""

    async def on_request(_: httpx.Request) -> None:
        name = _operation.get()
        meter = _meter.get()
        if meter is not None:
            meter.count(name)
        if metrics is not None:
            metrics.calls.labels(metrics.ledger, name).inc()

    async def on_response(response: httpx.Response) -> None:
        if metrics is not None:
            status = str(response.status_code)
            metrics.responses.labels(metrics.ledger, _operation.get(), status).inc()

    return {"request": [on_request], "response": [on_response]}
