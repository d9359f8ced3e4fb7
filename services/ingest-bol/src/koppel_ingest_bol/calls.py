"""What bol counts a call against, our budget per endpoint group, and the call counters.

bol limits every endpoint group separately (bol.md §7: the orders list 25 a minute, an
order's detail 25 a second, …). `GroupBudget` keeps one leaky bucket per group, sized by
`koppel_ingest.budget_limiter` so that no window of the group's length ever sees more
than the budget — retries included, because bol counts them too. `BolMetrics` counts
every request that leaves (token requests too), per group, for the Prometheus endpoint
and the benchmark's "bol calls per ingested order".
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
from aiolimiter import AsyncLimiter
from koppel_ingest import RequestBudget, budget_limiter
from prometheus_client import CollectorRegistry, Counter

# (method, path pattern, group) — literal paths before templates: `…/invoices/requests`
# is not a shipment id. Searched, not matched, so an API root with a path prefix works.
GROUPS: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (method, re.compile(pattern), group)
    for method, pattern, group in (
        ("POST", r"/token$", "token"),
        ("GET", r"/retailer/orders$", "orders-list"),
        ("GET", r"/retailer/orders/[^/]+$", "order-detail"),
        ("GET", r"/retailer/shipments$", "shipments-list"),
        ("GET", r"/retailer/shipments/invoices/requests$", "invoice-requests"),
        ("POST", r"/retailer/shipments/invoices/[^/]+$", "invoice-upload"),
        ("GET", r"/retailer/shipments/[^/]+$", "shipment-detail"),
        ("GET", r"/retailer/returns$", "returns-list"),
    )
)


def group_of(method: str, path: str) -> str:
    """bol's endpoint group of a request ("other" for what this service never calls)."""
    method = method.upper()
    for wanted, pattern, group in GROUPS:
        if wanted == method and pattern.search(path):
            return group
    return "other"


class GroupBudget(RequestBudget):
    """Requests per bol endpoint group; `limits` is {group: (requests, window seconds)}."""

    def __init__(self, limits: Mapping[str, tuple[int, float]]) -> None:
        super().__init__(2, 2, 1.0, lambda path: path)
        self.limits = dict(limits)
        self._groups: dict[str, AsyncLimiter] = {}

    async def acquire(self, method: str, url: str) -> None:
        group = group_of(method, urlsplit(url).path)
        limit = self.limits.get(group)
        if limit is None:
            return  # a group we have no number for: bol's 429 + Retry-After still holds us
        limiter = self._groups.get(group)
        if limiter is None:
            limiter = self._groups[group] = budget_limiter(*limit)
        await limiter.acquire()


class BolMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.calls = Counter(
            "koppel_bol_api_calls_total",
            "Requests sent to bol (token requests and retries included), by endpoint group",
            ["group"],
            registry=registry,
        )
        self.rate_limited = Counter(
            "koppel_bol_api_rate_limited_total",
            "Requests bol refused with 429 (its rate limit), by endpoint group",
            ["group"],
            registry=registry,
        )
        self.orders_read = Counter(
            "koppel_bol_orders_read_total",
            "Orders read, by source: the order's detail, or rebuilt from its shipments (bol"
            " no longer showed the order)",
            ["source"],
            registry=registry,
        )
        self.invoices = Counter(
            "koppel_bol_invoice_requests_total",
            "Invoice requests of business buyers, by what became of them",
            ["outcome"],
            registry=registry,
        )

    def hooks(self) -> dict[str, list[Callable[[Any], Awaitable[None]]]]:
        """httpx event hooks: every request that leaves is counted, per group."""

        async def on_request(request: httpx.Request) -> None:
            self.calls.labels(group_of(request.method, request.url.path)).inc()

        async def on_response(response: httpx.Response) -> None:
            if response.status_code == 429:
                request = response.request
                self.rate_limited.labels(group_of(request.method, request.url.path)).inc()

        return {"request": [on_request], "response": [on_response]}
