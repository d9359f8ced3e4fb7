"""The demo retailer: its credentials work, its products are realistic, its orders
cover what an ingest meets; and the standalone server starts."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator

import httpx
import pytest
from koppel_sandbox_bol import (
    DEMO,
    DEMO_PRODUCTS,
    BolControl,
    BolState,
    Credentials,
    ManualClock,
    create_app,
)
from koppel_sandbox_kit import free_port, serve


def ean_check_digit_ok(ean: str) -> bool:
    digits = [int(c) for c in ean]
    return (
        sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits[:12])) % 10
        == (10 - digits[12]) % 10
    )


def test_demo_products_have_valid_eans_and_prices() -> None:
    assert all(len(p.ean) == 13 and ean_check_digit_ok(p.ean) for p in DEMO_PRODUCTS)
    books = [p for p in DEMO_PRODUCTS if p.category == "book"]
    electronics = [p for p in DEMO_PRODUCTS if p.category == "electronics"]
    assert len(books) == 3 and len(electronics) == 3
    assert all(p.ean.startswith("978") for p in books)
    assert all(p.price.as_tuple().exponent == -2 for p in DEMO_PRODUCTS)


@pytest.fixture
async def demo(clock: ManualClock) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    async with (
        serve(create_app(BolState.demo(clock))) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        yield url, http


async def test_demo_credentials_list_the_demo_orders(demo, bol) -> None:
    _, http = demo
    api = bol.api_for(Credentials(DEMO.retailer_id, DEMO.client_id, DEMO.client_secret))
    api.http = http
    open_orders = await api.orders()
    everything = await api.orders(status="ALL", **{"fulfilment-method": "ALL"})
    assert len(open_orders) == 3  # consumer, partly shipped promotion, cancellation request
    assert len(everything) == 5
    requested = [i["cancellationRequest"] for o in open_orders for i in o["orderItems"]]
    assert requested.count(True) == 1
    requests = await api.get("/retailer/shipments/invoices/requests", state="OPEN")
    assert len(requests.json()["invoiceRequests"]) == 1


async def test_reset_with_demo_seeds_the_demo_orders_again(demo) -> None:
    url, _ = demo
    async with BolControl(url, retailer_id=DEMO.retailer_id) as control:
        await control.place_order()
        await control.reset(demo=True)
        accounts = await control.accounts()
    assert [a["retailerId"] for a in accounts] == [DEMO.retailer_id]


async def test_standalone_server_prints_the_demo_credentials() -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "koppel_sandbox_bol",
        "--port",
        str(port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        printed = b""
        async with asyncio.timeout(20):
            while DEMO.client_secret.encode() not in printed:
                line = await process.stdout.readline()
                assert line, printed
                printed += line
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                while True:
                    try:
                        response = await http.get("/_control/accounts")
                        break
                    except httpx.ConnectError:
                        await asyncio.sleep(0.1)
        assert DEMO.client_id.encode() in printed
        assert response.json()[0]["retailerId"] == DEMO.retailer_id
    finally:
        process.terminate()
        await process.wait()
