"""The webservice client on its own, against the sandbox: paging with `limit=offset,n`,
PrestaShop's empty list, a missing object, answers that are not the webservice, and the
key kept out of every URL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from koppel_ingest_prestashop.client import NotTheWebservice, PrestashopClient
from koppel_sandbox_kit import redirect_app, serve
from pydantic import SecretStr

from .prestashop_harness import KEY, PrestashopHarness


def client(url: str, page_size: int = 100) -> PrestashopClient:
    return PrestashopClient(url, SecretStr(KEY), page_size=page_size, max_attempts=1)


async def test_lists_are_read_page_by_page_until_a_short_page(harness: PrestashopHarness) -> None:
    placed = [await harness.place_order() for _ in range(5)]
    shop = client(harness.url, page_size=2)
    before = (await harness.control.counters())["requests"]
    found = await shop.all("orders", display="[id]", sort="[id_ASC]")
    assert [str(o["id"]) for o in found] == placed
    assert (await harness.control.counters())["requests"] - before == 3  # 2 + 2 + 1
    await shop.aclose()


async def test_an_empty_list_and_a_missing_object_read_as_nothing(
    harness: PrestashopHarness,
) -> None:
    shop = client(harness.url)
    assert await shop.all("orders", filters={"id": "[999]"}) == []  # PrestaShop answers []
    assert await shop.get("orders", 999) is None  # 404 with an empty body
    await shop.aclose()


async def test_an_address_that_redirects_is_not_taken_for_the_webservice() -> None:
    async with serve(redirect_app()) as url:
        shop = client(url)
        with pytest.raises(NotTheWebservice, match="HTTP 302"):
            await shop.all("orders")
        await shop.aclose()


async def test_the_key_travels_in_the_authorization_header_only(
    harness: PrestashopHarness,
) -> None:
    seen: list[str] = []
    shop = client(harness.url)
    shop.http.client.event_hooks["request"].append(_remember(seen))
    await harness.place_order()
    await shop.all(
        "orders", filters={"date_upd": "[2000-01-01 00:00:00,2100-01-01 00:00:00]"}, dates=True
    )
    assert seen and all(KEY not in url for url in seen)
    assert all("output_format=JSON" in url and "limit=0%2C100" in url for url in seen)
    await shop.aclose()


def _remember(seen: list[str]) -> Callable[[httpx.Request], Awaitable[None]]:
    async def hook(request: httpx.Request) -> None:
        seen.append(str(request.url))

    return hook
