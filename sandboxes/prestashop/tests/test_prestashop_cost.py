"""What a request costs does not grow with the shop: a single id, or a list narrowed by id,
order or a window of dates, computes the amounts of the orders it shows and no others.
Counted as record builds (calls of the amount functions), not as time."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from koppel_sandbox_prestashop import DEMO_KEY, PrestaShopState, create_app, demo_shop, records
from koppel_sandbox_prestashop.aftersales import malform
from koppel_sandbox_prestashop.orders import create_order

EXTRA_ORDERS_FROM = datetime(2030, 6, 1, 10, 0, 0)


def shop_with(extra_orders: int) -> PrestaShopState:
    """The demo shop (orders 1–4) and `extra_orders` more, one an hour from
    EXTRA_ORDERS_FROM."""
    state = demo_shop()
    state.set_clock(EXTRA_ORDERS_FROM)
    for _ in range(extra_orders):
        create_order(state, {"rows": [{"name": "Thee", "price_tax_incl": "6.49", "tax_rate": "9"}]})
        state.advance_clock(3600)
    return state


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often a request computed an order's amounts or a line's."""
    counted: Counter[str] = Counter()

    def counting(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any) -> Any:
            counted[name] += 1
            return function(*args)

        return wrapper

    for name in ("order_amounts", "amounts_of_line"):
        monkeypatch.setattr(records, name, counting(name, getattr(records, name)))
    return counted


@pytest.fixture
def client() -> Callable[[PrestaShopState], Any]:
    def opened(state: PrestaShopState) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(state)),
            base_url="http://shop.test",
            auth=(DEMO_KEY, ""),
        )

    return opened


async def answer(http: httpx.AsyncClient, path: str, **params: str) -> Any:
    response = await http.get(path, params={"output_format": "JSON", **params})
    assert response.status_code == 200, response.text
    return json.loads(response.text, parse_float=Decimal)


@pytest.fixture
async def small_and_large(
    client: Callable[[PrestaShopState], httpx.AsyncClient],
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    async with client(shop_with(0)) as small, client(shop_with(150)) as large:
        yield small, large


async def test_one_order_is_built_alone_whatever_the_number_of_orders(
    small_and_large: tuple[httpx.AsyncClient, httpx.AsyncClient], builds: Counter[str]
) -> None:
    shown = []
    for http in small_and_large:
        builds.clear()
        shown.append(await answer(http, "/api/orders/3"))
        assert builds["order_amounts"] == 1
    assert shown[0] == shown[1], "order 3 reads the same in a shop of 4 and of 154 orders"
    assert shown[0]["order"]["id"] == 3


async def test_the_lines_of_one_order_are_built_for_that_order_only(
    small_and_large: tuple[httpx.AsyncClient, httpx.AsyncClient], builds: Counter[str]
) -> None:
    for http in small_and_large:
        builds.clear()
        details = await answer(
            http, "/api/order_details", display="full", **{"filter[id_order]": "[3]"}
        )
        assert {d["id_order"] for d in details["order_details"]} == {3}
        assert builds["amounts_of_line"] == len(details["order_details"]) == 2
        builds.clear()
        rules = await answer(
            http, "/api/order_cart_rules", display="full", **{"filter[id_order]": "[3]"}
        )
        assert [r["name"] for r in rules["order_cart_rules"]] == ["WELKOM5"]
        assert builds["order_amounts"] == 1


async def test_a_window_of_dates_builds_the_orders_inside_it(
    client: Callable[[PrestaShopState], httpx.AsyncClient], builds: Counter[str]
) -> None:
    async with client(shop_with(150)) as http:
        builds.clear()
        listed = await answer(
            http,
            "/api/orders",
            display="full",
            date="1",
            **{"filter[date_upd]": "[2030-06-01 11:00:00,2030-06-01 13:00:00]"},
        )
    assert [o["date_upd"] for o in listed["orders"]] == [
        "2030-06-01 11:00:00",
        "2030-06-01 12:00:00",
        "2030-06-01 13:00:00",
    ]
    assert builds["order_amounts"] == 3


async def test_narrowing_sees_the_values_a_malformed_order_serves(
    client: Callable[[PrestaShopState], httpx.AsyncClient],
) -> None:
    state = shop_with(20)
    malform(state, 3, {"order": {"reference": "RAWVALUE"}})
    moved = state.orders[3].lines[0].id
    malform(state, 3, {"order_details": {moved: {"id_order": 7}}})
    async with client(state) as http:
        by_reference = await answer(http, "/api/orders", **{"filter[reference]": "[RAWVALUE]"})
        assert by_reference == {"orders": [{"id": 3}]}
        of_seven = await answer(http, "/api/order_details", **{"filter[id_order]": "[7]"})
        assert moved in [d["id"] for d in of_seven["order_details"]]
        of_three = await answer(http, "/api/order_details", **{"filter[id_order]": "[3]"})
        assert moved not in [d["id"] for d in of_three["order_details"]]
