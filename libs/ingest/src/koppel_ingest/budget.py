"""Request budgets per API key: a shop's rate limit is never reached, retries included.

Shops limit each API key per resource and method (CCV: 150 GET / 100 writes a minute;
bol per endpoint group). A `RequestBudget` keeps one leaky bucket per (resource, method),
sized so that no window of that length ever sees more than the budget
(`budget_limiter`); `BudgetedPolicyClient` spends from it on every attempt, because the
shop counts retries too. One client per connection, so one budget per key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
from aiolimiter import AsyncLimiter
from koppel_chassis import PolicyClient

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def budget_limiter(per_window: int, window_seconds: float) -> AsyncLimiter:
    """A leaky bucket that admits at most `per_window` requests in ANY `window_seconds`.

    AsyncLimiter(capacity, period) lets a burst of `capacity` through and then
    `capacity / period` per second, so a window can see capacity * (1 + window/period).
    A tenth of the budget as burst and the period that makes that exactly `per_window`
    keeps us under the shop's fixed windows wherever they start.
    """
    if per_window < 2:
        raise ValueError("a request budget needs at least 2 requests per window")
    burst = max(1, per_window // 10)
    return AsyncLimiter(burst, window_seconds * burst / (per_window - burst))


class RequestBudget:
    """`resource_of(path)`: what the shop counts a request against (CCV: the last
    non-numeric path segment)."""

    def __init__(
        self,
        get_per_window: int,
        write_per_window: int,
        window_seconds: float,
        resource_of: Callable[[str], str],
    ) -> None:
        self.get_per_window = get_per_window
        self.write_per_window = write_per_window
        self.window_seconds = window_seconds
        self.resource_of = resource_of
        self._limiters: dict[tuple[str, str], AsyncLimiter] = {}

    async def acquire(self, method: str, url: str) -> None:
        method = method.upper()
        limiter_key = (self.resource_of(urlsplit(url).path), method)
        limiter = self._limiters.get(limiter_key)
        if limiter is None:
            per_window = self.write_per_window if method in WRITE_METHODS else self.get_per_window
            limiter = budget_limiter(per_window, self.window_seconds)
            self._limiters[limiter_key] = limiter
        await limiter.acquire()


class BudgetedPolicyClient(PolicyClient):
    """The chassis policy (retries, classification), with a budget per resource instead
    of one global rate. Every attempt — retries included — spends budget."""

    def __init__(self, client: httpx.AsyncClient, *, budget: RequestBudget, **options: Any):
        super().__init__(client, **options)
        self.budget = budget

    async def send_once(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        await self.budget.acquire(method, url)
        return await super().send_once(method, url, **kwargs)
