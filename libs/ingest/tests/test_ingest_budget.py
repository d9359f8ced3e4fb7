"""Request budgets: at most the budget in any window, one bucket per resource and method."""

from __future__ import annotations

import time

import pytest
from koppel_ingest import RequestBudget, budget_limiter


@pytest.mark.parametrize(("per_window", "window"), [(140, 60.0), (90, 60.0), (10, 2.0), (2, 1.0)])
def test_budget_limiter_admits_at_most_the_budget_in_any_window(
    per_window: int, window: float
) -> None:
    limiter = budget_limiter(per_window, window)
    # A leaky bucket admits its capacity at once, then capacity/period per second.
    worst = limiter.max_rate * (1 + window / limiter.time_period)
    assert worst <= per_window + 1e-9
    assert worst >= per_window * 0.95, "and does not waste the budget"


def test_a_budget_below_two_requests_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        budget_limiter(1, 60.0)


async def test_each_resource_and_method_spends_its_own_budget() -> None:
    # 20 per second per resource: a burst of 2, then one every 1/18 s.
    budget = RequestBudget(20, 4, 1.0, resource_of=lambda path: path.strip("/").split("/")[0])
    for _ in range(2):
        await budget.acquire("GET", "https://shop.example/orders/1")
    started = time.monotonic()
    await budget.acquire("GET", "https://shop.example/webhooks")
    await budget.acquire("post", "https://shop.example/orders")
    others = time.monotonic() - started
    started = time.monotonic()
    for _ in range(4):
        await budget.acquire("GET", "https://shop.example/orders/2")
    busy = time.monotonic() - started
    assert busy >= 0.15, "the busy resource waited for its bucket"
    assert others < busy / 2, "other resources and methods did not wait for it"
