"""The CCV client against the sandbox: signing, paging, retries, budget, clear errors."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

import pytest
from koppel_chassis import CredentialsError, TransientError
from koppel_ingest_ccv.client import (
    CcvClient,
    ResponseSignatureError,
    api_root,
    rate_limit_resource,
)
from koppel_ingest_ccv.signing import webhook_signature_valid
from koppel_sandbox_ccvshop import webhook_signature
from pydantic import SecretStr

from .conftest import Shop


def client(shop: Shop, secret: str | None = None, **options: Any) -> CcvClient:
    return CcvClient(shop.url, shop.key.public, SecretStr(secret or shop.key.secret), **options)


async def test_orders_and_their_rows_are_paged(shop: Shop) -> None:
    rows = [{"product_name": f"Thee {n}", "price": "3.10", "tax": 9} for n in range(5)]
    order = await shop.control.seed_order(rows=rows)
    for _ in range(2):
        await shop.control.seed_order()
    ccv = client(shop, page_size=2)
    try:
        before = (await shop.control.counters())["requests"]
        fetched = await ccv.order_rows(order["id"])
        assert [r["product_name"] for r in fetched] == [f"Thee {n}" for n in range(5)]
        assert (await shop.control.counters())["requests"] - before == 3, "3 pages of 2"
        assert isinstance(fetched[0]["price"], Decimal), "no float, ever"
        listed = [o["id"] async for o in ccv.orders(orderby="create_date")]
        assert len(listed) == 3 and listed[0] == order["id"]
        assert (await ccv.order(order["id"]))["total_price"] == Decimal("20.45")
        assert await ccv.order(1) is None, "404: no such order"
    finally:
        await ccv.aclose()


async def test_refused_credentials_raise_a_clear_error_without_retrying(shop: Shop) -> None:
    ccv = client(shop, secret="wrong")
    try:
        with pytest.raises(CredentialsError) as refused:
            await ccv.webhooks()
    finally:
        await ccv.aclose()
    message = str(refused.value)
    assert shop.key.public in message and "HTTP 401" in message
    assert "401.10 The x-hash does not match the request." in message
    assert (await shop.control.counters())["auth_refused"] == 1


async def test_transient_failures_are_retried(shop: Shop) -> None:
    order = await shop.control.seed_order()
    await shop.control.inject_fault(502, path="/orders/", times=2)
    await shop.control.inject_fault(429, path="/orders/", body={"code": "429.10", "status": 429})
    ccv = client(shop)
    try:
        assert (await ccv.order(order["id"]))["id"] == order["id"]
    finally:
        await ccv.aclose()
    assert (await shop.control.faults())["injected"] == 3

    await shop.control.inject_fault(503, path="/orders/", times=10)
    ccv = client(shop, max_attempts=2)
    try:
        with pytest.raises(TransientError):
            await ccv.order(order["id"])
    finally:
        await ccv.aclose()


async def test_an_unsigned_answer_is_not_trusted(shop: Shop) -> None:
    await shop.control.configure(sign_responses=False)
    ccv = client(shop)
    try:
        with pytest.raises(ResponseSignatureError):
            await ccv.webhooks()
    finally:
        await ccv.aclose()


async def _burst(shop: Shop, order_id: int, requests: int, **options: Any) -> list[Any]:
    ccv = client(shop, max_attempts=1, **options)
    try:
        return await asyncio.gather(
            *(ccv.order(order_id) for _ in range(requests)), return_exceptions=True
        )
    finally:
        await ccv.aclose()


async def test_the_request_budget_stays_under_the_rate_limit(shop: Shop) -> None:
    order = await shop.control.seed_order()
    await shop.control.set_rate_limits(get=10, window_seconds=2)

    started = time.monotonic()
    answers = await _burst(shop, order["id"], 15, get_budget=10, budget_window_seconds=2)
    assert all(isinstance(a, dict) for a in answers)
    assert (await shop.control.counters())["rate_limited"] == 0
    assert time.monotonic() - started > 2.0, "15 requests at 10 per 2 s take more than 2 s"

    # The same burst without a budget is refused: the test above can fail.
    await shop.control.reset_rate_limits()
    answers = await _burst(shop, order["id"], 15, get_budget=1000, budget_window_seconds=2)
    assert any(isinstance(a, TransientError) and a.status == 429 for a in answers)


def test_urls_and_resources() -> None:
    assert api_root("https://shop.nl/") == "https://shop.nl/api/rest/v1"
    assert api_root("https://shop.nl/api/rest/v1/") == "https://shop.nl/api/rest/v1"
    assert rate_limit_resource("/api/rest/v1/orders/12/orderrows") == "orderrows"
    assert rate_limit_resource("/api/rest/v1/orders/12/") == "orders"


def test_webhook_signatures() -> None:
    body = b'{"id":1}'
    address = "https://koppel.example/webhooks/ccvshop/c1"
    keys = ["key-orders-created", "key-orders-paid"]
    assert webhook_signature_valid(keys, body, address, webhook_signature(keys[1], body))
    assert webhook_signature_valid(keys, body, address, webhook_signature(keys[0], body, address))
    assert not webhook_signature_valid(keys, body, address, webhook_signature("other", body))
    assert not webhook_signature_valid(keys, body + b" ", address, webhook_signature(keys[0], body))
    assert not webhook_signature_valid(keys, body, address, None)
    assert not webhook_signature_valid([], body, address, webhook_signature(keys[0], body))
