"""The bol client against the sandbox: one token for many calls, bol's 429 and Retry-After
honoured, problem answers classified, calls counted per endpoint group."""

from __future__ import annotations

import pytest
from koppel_chassis import CredentialsError, PermanentError
from koppel_ingest.testing import CONNECTION
from koppel_ingest_bol.calls import group_of
from koppel_ingest_bol.client import token_url

from .bol_harness import BolHarness


async def _client(harness: BolHarness):  # type: ignore[no-untyped-def]
    return (await harness.adapter.session(CONNECTION, harness.settings())).client


async def test_one_token_serves_many_calls_and_every_call_is_counted_per_group(
    harness: BolHarness,
) -> None:
    client = await _client(harness)
    order_id = await harness.place_order(bookable=False)
    for _ in range(3):
        assert await client.order(order_id) is not None
    assert [o async for o in client.orders()]
    calls = (await harness.control.calls())["calls"]
    assert calls == {
        "POST /token": 1,
        "GET /retailer/orders/{order-id}": 3,
        "GET /retailer/orders": 1,
    }
    counted = harness.metrics.calls
    assert counted.labels("order-detail")._value.get() == 3
    assert counted.labels("token")._value.get() == 1


async def test_a_429_waits_bols_retry_after_and_succeeds(harness: BolHarness) -> None:
    client = await _client(harness)
    await harness.control.set_rate_limit("orders-list", 1, 2)
    await harness.control.reset_rate_limits()
    assert [o async for o in client.orders()] == []
    assert [o async for o in client.orders()] == [], "refused once, then served"
    assert (await harness.control.calls())["rateLimited"] == {"GET /retailer/orders": 1}
    assert harness.metrics.rate_limited.labels("orders-list")._value.get() == 1


async def test_a_refused_request_names_bols_reason(harness: BolHarness) -> None:
    client = await _client(harness)
    with pytest.raises(PermanentError, match="latest-change-date: Only the last 3 months"):
        [o async for o in client.orders(latest_change_date="2001-01-01")]


async def test_replaced_credentials_are_a_credentials_error_naming_the_client_id(
    harness: BolHarness,
) -> None:
    client = await _client(harness)
    assert await client.order("1") is None  # a token is cached
    old = harness.credentials.client_id
    await harness.refuse_credentials()
    with pytest.raises(CredentialsError, match=old):
        await client.order("1")


def test_the_token_server_is_bols_login_host_for_bols_api_and_the_same_host_elsewhere() -> None:
    assert token_url("https://api.bol.com/") == "https://login.bol.com/token"
    assert token_url("https://api.bol.com/retailer") == "https://login.bol.com/token"
    assert token_url("http://127.0.0.1:8112") == "http://127.0.0.1:8112/token"
    assert token_url("https://proxy.example/bol", "https://auth.example") == (
        "https://auth.example/token"
    )


def test_requests_are_counted_against_bols_endpoint_groups() -> None:
    assert group_of("GET", "/retailer/shipments/invoices/requests") == "invoice-requests"
    assert group_of("POST", "/retailer/shipments/invoices/871000001") == "invoice-upload"
    assert group_of("GET", "/retailer/shipments/871000001") == "shipment-detail"
    assert group_of("GET", "/bol/retailer/orders") == "orders-list", "under a path prefix too"
    assert group_of("POST", "/token") == "token"


def test_a_limit_set_in_the_environment_replaces_bols_for_that_group_only(monkeypatch) -> None:
    from koppel_ingest_bol.settings import IngestBolSettings

    monkeypatch.setenv("KOPPEL_INGEST_BOL_RATE_LIMITS", '{"orders-list": [10, 60]}')
    budgets = IngestBolSettings(budget_share=0.5).budgets()
    assert budgets["orders-list"] == (5, 60.0)
    assert budgets["order-detail"] == (12, 1.0), "bol's 25 a second, half of it"
    assert budgets["token"] == (30, 60.0)
