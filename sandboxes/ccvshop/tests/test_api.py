"""The sandbox's REST API behaves as ccvshop.md documents it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from koppel_sandbox_ccvshop import request_signature

from .conftest import Sandbox, decoded

ORDERS = "/api/rest/v1/orders"


@pytest.mark.parametrize(
    "date_style",
    ["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S+00:00", "%Y-%m-%dT%H:%M:%S+0000"],
    ids=["zulu", "php-c", "php-iso8601"],
)
async def test_signed_requests_are_accepted_in_every_date_style(
    sandbox: Sandbox, date_style: str
) -> None:
    order = await sandbox.control.seed_order()
    date = datetime.now(UTC).strftime(date_style)
    response = await sandbox.call("GET", f"{ORDERS}/{order['id']}", date=date)
    assert response.status_code == 200, response.text
    assert decoded(response)["id"] == order["id"]


async def test_responses_are_signed_over_their_body(sandbox: Sandbox) -> None:
    order = await sandbox.control.seed_order()
    uri = f"{ORDERS}/{order['id']}/"
    response = await sandbox.call("GET", uri)
    key = sandbox.key
    expected = request_signature(
        key.secret, key.public, "GET", uri, response.text, response.headers["x-date"]
    )
    assert response.headers["x-hash"] == expected


async def test_wrong_missing_and_stale_signatures_are_refused_with_a_json_error(
    sandbox: Sandbox,
) -> None:
    key = sandbox.key
    date = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    forged = {
        "x-public": key.public,
        "x-date": date,
        "x-hash": request_signature("not-the-secret", key.public, "GET", ORDERS, "", date),
    }
    wrong = await sandbox.http.get(ORDERS, headers=forged)
    assert wrong.status_code == 401
    assert decoded(wrong) == {
        "code": "401.10",
        "status": 401,
        "developermessage": "The x-hash does not match the request.",
    }
    assert "x-hash" not in wrong.headers, "a refused caller gets no signed answer"

    missing = await sandbox.http.get(ORDERS)
    assert missing.status_code == 401 and decoded(missing)["code"] == "401.10"

    # A signature made an hour ago is valid HMAC but stale: the date is part of
    # what is signed, so it cannot be refreshed without the secret.
    stale = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    old = await sandbox.call("GET", ORDERS, date=stale)
    assert old.status_code == 401
    assert decoded(old)["code"] == "401.20" and "stale" in decoded(old)["developermessage"]

    # The signed URI includes the query string: signing the bare path does not pass.
    headers = {
        "x-public": key.public,
        "x-date": date,
        "x-hash": request_signature(key.secret, key.public, "GET", ORDERS, "", date),
    }
    tampered = await sandbox.http.get(ORDERS + "?size=1", headers=headers)
    assert tampered.status_code == 401
    assert (await sandbox.control.counters())["auth_refused"] == 4


async def test_revoked_and_changed_keys_are_refused(sandbox: Sandbox) -> None:
    other = await sandbox.control.create_api_key()
    assert (await sandbox.call("GET", ORDERS, key=other)).status_code == 200
    await sandbox.control.revoke_api_key(other.public)
    assert (await sandbox.call("GET", ORDERS, key=other)).status_code == 401

    changed = await sandbox.control.change_secret(sandbox.key.public)
    assert (await sandbox.call("GET", ORDERS)).status_code == 401, "old secret"
    assert (await sandbox.call("GET", ORDERS, key=changed)).status_code == 200

    await sandbox.control.configure(auth_failure_status=403)
    refused = await sandbox.call("GET", ORDERS)
    assert refused.status_code == 403 and decoded(refused)["code"] == "403.10"


async def test_orders_page_through_next_links(sandbox: Sandbox) -> None:
    seeded = [(await sandbox.control.seed_order())["id"] for _ in range(5)]
    await sandbox.control.seed_order(is_completed=False)
    uri: str | None = f"{ORDERS}?size=2&orderby=id_desc"
    pages = []
    while uri:
        page = decoded(await sandbox.call("GET", uri))
        pages.append(page)
        # Clients re-sign every next link with its own path and query.
        uri = page["next"].removeprefix(sandbox.url) if page["next"] else None
    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    assert [p["start"] for p in pages] == [0, 2, 4] and pages[0]["size"] == 2
    assert pages[0]["previous"] is None and pages[1]["previous"].endswith("start=0&size=2")
    assert pages[0]["first"] == f"{sandbox.url}{ORDERS}?orderby=id_desc&start=0&size=2"
    listed = [item["id"] for page in pages for item in page["items"]]
    assert listed == sorted(seeded, reverse=True), "unfinished checkouts are hidden by default"

    baskets = decoded(await sandbox.call("GET", f"{ORDERS}?is_completed=false"))["items"]
    assert len(baskets) == 1 and baskets[0]["ordernumber"] is None and baskets[0]["status"] is None


async def test_order_filters(sandbox: Sandbox) -> None:
    first = await sandbox.control.seed_order(paid=True)
    second = await sandbox.control.seed_order()
    await sandbox.control.set_status(second["id"], 5)

    async def ids(query: str) -> list[int]:
        return [o["id"] for o in decoded(await sandbox.call("GET", f"{ORDERS}?{query}"))["items"]]

    assert await ids("is_paid=true") == [first["id"]]
    assert await ids("status=5") == [second["id"]]
    assert await ids(f"ordernumber={second['ordernumber']}") == [second["id"]]
    today = datetime.now(UTC).date()
    assert await ids(f"min_create_date={today}") == [first["id"], second["id"]]
    assert await ids(f"max_create_date={today - timedelta(days=1)}") == []


async def test_order_and_rows_carry_the_documented_fields_and_decimal_money(
    sandbox: Sandbox,
) -> None:
    order = await sandbox.control.seed_order(
        rows=[
            {"product_name": "Thee", "count": 3, "price": "4.95", "tax": 9},
            {"product_name": "Theepot", "count": 1, "price": "29.95", "discount": "5.00"},
        ],
        coupon={"code": "WELKOM", "type": "price", "discount": "5.00"},
        shipping="4.95",
        paymethod_costs="0.29",
        paid=True,
    )
    got = decoded(await sandbox.call("GET", f"{ORDERS}/{order['id']}"))
    assert got["href"].endswith(f"/orders/{order['id']}/")
    assert got["total_orderrow_price"] == Decimal("39.80")  # 14.85 + 24.95
    assert got["total_discounts"] == 5 and got["total_shipping"] == Decimal("4.95")
    assert got["total_price"] == Decimal("40.04")  # 39.80 - 5 + 4.95 + 0.29
    assert got["customer"]["billingaddress"]["country_code"] == "NL"
    assert got["discountcoupon"]["code"] == "WELKOM"
    assert got["create_date"].endswith("Z") and got["paid"] is True
    rows = decoded(await sandbox.call("GET", f"{ORDERS}/{order['id']}/orderrows"))["items"]
    assert [(r["tax"], r["total_price"]) for r in rows] == [
        (9, Decimal("14.85")),
        (21, Decimal("24.95")),
    ]
    one = decoded(await sandbox.call("GET", f"/api/rest/v1/orderrows/{rows[1]['id']}/"))
    assert one["discount"] == 5 and one["order_id"] == order["id"]


async def test_every_field_the_mapping_reads_can_be_seeded(sandbox: Sandbox) -> None:
    order = await sandbox.control.seed_order(
        rows=[
            {
                "product_name": "Koffiemolen",
                "product_number": "MOLEN",
                "sub_product_number": "MOLEN-RVS",
                "sub_sku_number": "SKU-RVS",
                "sub_ean_number": "8712345000011",
                "count": 2,
                "price": "89.00",
                "discount": "4.00",
                "tax": 21,
                "attributes": [
                    {"option_name": "Kleur", "value_name": "RVS", "price": "10.00"},
                    {"option_name": "Garantie", "value_name": "3 jaar"},
                ],
            }
        ],
        shipping="6.95",
        shipping_taxes_included=False,
        create_date="2026-10-01T08:30:00Z",
    )
    got = decoded(await sandbox.call("GET", f"{ORDERS}/{order['id']}"))
    assert got["create_date"] == "2026-10-01T08:30:00Z"
    assert got["shipping_taxes_included"] is False
    # 2 x (89 - 4 + 10) = 190 with 21 % inside: 32.98; shipping 6.95 without VAT.
    assert (got["total_price"], got["total_tax"]) == (Decimal("196.95"), Decimal("32.98"))
    [row] = decoded(await sandbox.call("GET", f"{ORDERS}/{order['id']}/orderrows"))["items"]
    assert (row["sub_product_number"], row["sub_sku_number"]) == ("MOLEN-RVS", "SKU-RVS")
    assert row["total_price"] == 190 and row["total_extra_option_price"] == 20
    assert row["price_with_attributes"] == 95
    assert [(a["option_name"], a["value_name"], a["price"]) for a in row["attributes"]] == [
        ("Kleur", "RVS", 10),
        ("Garantie", "3 jaar", 0),
    ]
    assert len({a["id"] for a in row["attributes"]}) == 2
    edited = await sandbox.control.edit_order(order["id"], shipping="0")
    [kept] = await sandbox.control.rows(edited["id"])
    assert kept["attributes"][0]["value_name"] == "RVS", "an edit keeps the options"


async def test_unknown_ids_resources_and_methods(sandbox: Sandbox) -> None:
    missing = await sandbox.call("GET", f"{ORDERS}/1")
    assert missing.status_code == 404 and decoded(missing)["status"] == 404
    bad_resource = await sandbox.call("GET", "/api/rest/v1/nonsense")
    assert decoded(bad_resource)["code"] == "404.20"
    not_allowed = await sandbox.call("DELETE", ORDERS)
    assert not_allowed.status_code == 405 and decoded(not_allowed)["code"] == "405.10"
    not_modelled = await sandbox.call("POST", ORDERS, {"orderrows": []})
    assert not_modelled.status_code == 501 and decoded(not_modelled)["code"] == "501.10"


async def test_patch_changes_status_and_paid_without_a_body(sandbox: Sandbox) -> None:
    order = await sandbox.control.seed_order()
    patched = await sandbox.call("PATCH", f"{ORDERS}/{order['id']}", {"status": 5, "paid": True})
    assert patched.status_code == 204 and patched.text == ""
    now = await sandbox.control.order(order["id"])
    assert (now["status"], now["paid"]) == (5, True)


async def test_rate_limit_per_resource_and_method_then_reset(sandbox: Sandbox) -> None:
    await sandbox.control.set_rate_limits(get=3, total=5)
    order = await sandbox.control.seed_order()
    statuses = [(await sandbox.call("GET", ORDERS)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = decoded(await sandbox.call("GET", ORDERS))
    assert limited["code"] == "429.10" and limited["status"] == 429
    # Another resource has its own window, until the total cap is reached.
    rows = f"{ORDERS}/{order['id']}/orderrows"
    answers = [await sandbox.call("GET", rows) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert decoded(answers[2])["code"] == "429.11"
    await sandbox.control.reset_rate_limits()
    assert (await sandbox.call("GET", ORDERS)).status_code == 200
    assert (await sandbox.control.counters())["rate_limited"] == 3


async def test_injected_faults_come_before_the_api(sandbox: Sandbox) -> None:
    await sandbox.control.inject_fault(
        503, path="/orders", body={"code": "503", "status": 503, "developermessage": "down"}
    )
    assert (await sandbox.call("GET", ORDERS)).status_code == 503
    assert (await sandbox.call("GET", ORDERS)).status_code == 200
