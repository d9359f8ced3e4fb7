"""The control client drives the shop; hosting limits, gateway faults and
PrestaShop's own 500s reach clients as they would in production."""

from __future__ import annotations

import logging

import httpx
import pytest
from koppel_sandbox_prestashop.logs import RedactKeys, redact

from .conftest import Shop, decoded, error_codes


async def test_reset_brings_back_the_demo_shop(shop: Shop) -> None:
    await shop.control.create_order()
    await shop.control.disable_webservice()
    await shop.control.reset()
    assert (await shop.control.config())["webservice_enabled"] is True
    assert await shop.json("/api/orders") == {"orders": [{"id": n} for n in (1, 2, 3, 4)]}


async def test_the_demo_shop_has_its_documented_states_and_orders(shop: Shop) -> None:
    states = await shop.control.order_states()
    assert len(states) == 13
    assert {s["id"]: s["name"][1]["value"] for s in states}[10] == "Awaiting bank wire payment"
    orders = (await shop.json("/api/orders", display="[id,current_state]"))["orders"]
    assert [(o["id"], o["current_state"]) for o in orders] == [(1, 2), (2, 2), (3, 4), (4, 6)]


async def test_a_key_with_given_permissions_can_be_changed_and_deleted(shop: Shop) -> None:
    key = await shop.control.create_key({"orders": ["GET"]}, key="K" * 32)
    assert key == "K" * 32
    assert (await shop.get("/api/orders", key=key)).status_code == 200
    await shop.control.change_key(key, permissions={"customers": ["GET"]})
    assert (await shop.get("/api/orders", key=key)).status_code == 401
    await shop.control.delete_key(key)
    assert error_codes(await shop.get("/api/customers", key=key)) == [20, 21]


async def test_replacing_the_order_states_changes_what_the_api_lists(shop: Shop) -> None:
    await shop.control.set_order_states(
        [
            {"id": 1, "name": {"nl": "Open", "en": "Open"}},
            {"id": 2, "name": "Betaald", "paid": True, "logable": True, "invoice": True},
        ]
    )
    states = (await shop.json("/api/order_states", display="full", language="1"))["order_states"]
    assert [(s["id"], s["name"], s["paid"]) for s in states] == [
        (1, "Open", "0"),
        (2, "Betaald", "1"),
    ]


@pytest.mark.parametrize("fmt", ["XML", "JSON"])
async def test_an_injected_prestashop_error_is_a_500_error_document(shop: Shop, fmt: str) -> None:
    await shop.control.inject_error(500, 3, "[PHP Warning #2] Undefined array key", path="^orders")
    failed = await shop.get("/api/orders/1", output_format=fmt)
    assert failed.status_code == 500
    assert error_codes(failed) == [3]
    assert "[PHP Warning #2] Undefined array key" in failed.text
    assert (await shop.get("/api/orders/1")).status_code == 200, "used up"


async def test_the_hosting_limit_answers_429_with_retry_after(shop: Shop) -> None:
    await shop.control.set_host_limit(2, window_seconds=30)
    assert [(await shop.get("/api/orders")).status_code for _ in range(2)] == [200, 200]
    limited = await shop.get("/api/orders")
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 30
    assert limited.headers["Content-Type"].startswith("text/html"), "not a PrestaShop answer"
    assert (await shop.control.counters())["rate_limited"] == 1
    await shop.control.clear_host_limit()
    assert (await shop.get("/api/orders")).status_code == 200


async def test_gateway_faults_come_before_the_shop(shop: Shop) -> None:
    await shop.control.inject_fault(502, path="^/api/orders", times=1)
    await shop.control.inject_fault(200, timeout=True, path="^/api/customers")
    assert (await shop.get("/api/orders")).status_code == 502
    assert (await shop.get("/api/orders")).status_code == 200
    with pytest.raises(httpx.ReadTimeout):
        await shop.http.get("/api/customers", auth=(shop.key, ""), timeout=0.3)


async def test_the_clock_is_shop_local_and_can_be_frozen(shop: Shop) -> None:
    assert await shop.control.set_clock("2031-02-03 04:05:06") == "2031-02-03 04:05:06"
    assert await shop.control.advance_clock(60) == "2031-02-03 04:06:06"
    created = await shop.control.create_order()
    assert created["order"]["date_add"] == "2031-02-03 04:06:06"
    await shop.control.real_clock()


async def test_tracking_numbers_show_as_the_getter_field_shipping_number(shop: Shop) -> None:
    await shop.control.set_tracking(1, "3SABCD1234567")
    assert (await shop.json("/api/orders/1"))["order"]["shipping_number"] == "3SABCD1234567"
    carriers = await shop.json("/api/order_carriers", display="full", **{"filter[id_order]": "[1]"})
    assert carriers["order_carriers"][0]["tracking_number"] == "3SABCD1234567"


async def test_control_errors_are_json_with_the_reason(shop: Shop) -> None:
    response = await shop.http.post("/_control/orders/999/state", json={"state": 2})
    assert response.status_code == 404 and "order 999" in decoded(response)["error"]
    with pytest.raises(RuntimeError, match="quantity of at least 1"):
        await shop.control.create_order(rows=[{"quantity": 0}])


def test_webservice_keys_are_masked_in_access_logs() -> None:
    assert (
        redact("GET /api/orders?ws_key=SECRET&display=full")
        == "GET /api/orders?ws_key=***&display=full"
    )
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "",
        0,
        '%s - "%s %s"',
        ("1.2.3.4", "GET", "/api?ws_key=SECRET"),
        None,
    )
    assert RedactKeys().filter(record)
    assert "SECRET" not in record.getMessage()
