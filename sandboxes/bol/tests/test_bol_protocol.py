"""What every call goes through: the v10 media type (bol.md §1), problem-format
errors (§8), request ids, rate limits per endpoint group with Retry-After (§7),
call counting, and injected faults."""

from __future__ import annotations

from koppel_sandbox_bol import VENDOR_TYPE


async def test_missing_or_other_accept_is_a_406_problem(bol) -> None:
    for accept in ("application/json", "application/vnd.retailer.v9+json", "*/*"):
        response = await bol.api.call("GET", "/retailer/orders", headers={"Accept": accept})
        assert response.status_code == 406, accept
        assert response.json()["title"] == "Not Acceptable"
        assert response.headers["content-type"] == f"{VENDOR_TYPE};charset=UTF-8"
    request = bol.http.build_request(
        "GET", "/retailer/orders", headers={"Authorization": f"Bearer {bol.api.token}"}
    )
    del request.headers["accept"]
    assert (await bol.http.send(request)).status_code == 406


async def test_v10_among_several_accepted_types_is_fine(bol) -> None:
    accept = f"application/json;q=0.5, {VENDOR_TYPE}"
    response = await bol.api.call("GET", "/retailer/orders", headers={"Accept": accept})
    assert response.status_code == 200


async def test_wildcard_accept_can_be_allowed(bol) -> None:
    await bol.control.configure(accept_wildcard=True)
    response = await bol.api.call("GET", "/retailer/orders", headers={"Accept": "*/*"})
    assert response.status_code == 200


async def test_every_answer_carries_request_ids(bol) -> None:
    ok = await bol.api.get("/retailer/orders")
    missing = await bol.api.get("/retailer/orders/1")
    for response in (ok, missing):
        assert response.headers["X-Request-ID"] == response.headers["X-RID"]
        assert len(response.headers["X-Request-ID"]) == 36


async def test_unknown_path_and_wrong_method_are_problems(bol) -> None:
    await bol.api.login()
    headers = {"Authorization": f"Bearer {bol.api.token}", "Accept": VENDOR_TYPE}
    unknown = await bol.http.get("/retailer/nothing-here", headers=headers)
    wrong = await bol.http.delete("/retailer/orders", headers=headers)
    assert unknown.status_code == 404 and unknown.json()["type"] == "https://api.bol.com/problems"
    assert wrong.status_code == 405 and wrong.json()["title"] == "Method Not Allowed"


async def test_rate_limit_headers_count_down_per_group(bol) -> None:
    first = await bol.api.get("/retailer/orders")
    second = await bol.api.get("/retailer/orders")
    detail = await bol.api.get("/retailer/orders/1")
    assert first.headers["X-RateLimit-Limit"] == "25"
    assert int(first.headers["X-RateLimit-Remaining"]) == 24
    assert int(second.headers["X-RateLimit-Remaining"]) == 23
    assert int(second.headers["X-RateLimit-Reset"]) == 60
    assert int(detail.headers["X-RateLimit-Remaining"]) == 24  # its own bucket


async def test_exhausted_group_answers_429_with_retry_after_until_the_window_ends(bol) -> None:
    await bol.control.set_rate_limit("orders-list", 2, 60)
    for _ in range(2):
        assert (await bol.api.get("/retailer/orders")).status_code == 200
    bol.clock.advance(seconds=15)
    limited = await bol.api.get("/retailer/orders")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "45"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert limited.json() == {
        "title": "Too Many Requests",
        "status": 429,
        "detail": "Too many requests, retry in 45 seconds.",
    }
    assert (await bol.api.get("/retailer/orders/1")).status_code == 404  # other group
    bol.clock.advance(seconds=45)
    assert (await bol.api.get("/retailer/orders")).status_code == 200


async def test_rate_limits_are_per_account(bol) -> None:
    await bol.control.set_rate_limit("orders-list", 1, 60)
    assert (await bol.api.get("/retailer/orders")).status_code == 200
    assert (await bol.api.get("/retailer/orders")).status_code == 429
    other = bol.api_for(await bol.control.create_account())
    assert (await other.get("/retailer/orders")).status_code == 200


async def test_token_requests_are_limited_too(bol) -> None:
    await bol.control.set_rate_limit("token", 2, 60)
    for _ in range(2):
        await bol.api.login()
    response = await bol.http.post(
        "/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": bol.api.basic()},
    )
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1


async def test_calls_are_counted_per_endpoint(bol) -> None:
    await bol.control.set_rate_limit("orders-list", 2, 60)
    placed = await bol.control.place_order()
    for _ in range(3):
        await bol.api.get("/retailer/orders")
    await bol.api.get(f"/retailer/orders/{placed['orderId']}")
    counted = await bol.control.calls()
    assert counted["calls"] == {
        "POST /token": 1,
        "GET /retailer/orders": 3,
        "GET /retailer/orders/{order-id}": 1,
    }
    assert counted["rateLimited"] == {"GET /retailer/orders": 1}
    assert counted["total"] == 5
    await bol.control.reset_calls()
    assert (await bol.control.calls())["total"] == 0


async def test_default_groups_are_the_published_numbers(bol) -> None:
    limits = await bol.control.rate_limits()
    published = {
        "orders-list": (25, 60),
        "order-detail": (25, 1),
        "shipments-list": (25, 60),
        "shipment-detail": (50, 60),
        "returns-list": (20, 60),
        "return-detail": (20, 60),
    }
    for group, (capacity, window) in published.items():
        assert (limits[group]["capacity"], limits[group]["windowSeconds"]) == (capacity, window)


async def test_injected_faults_come_before_the_api(bol) -> None:
    await bol.control.inject_fault(503, path="^/retailer/orders$", times=1)
    failed = await bol.api.call("GET", "/retailer/orders", check=False)
    assert failed.status_code == 503
    assert (await bol.api.get("/retailer/orders")).status_code == 200
    await bol.control.inject_fault(500, path="^/token$")
    token = await bol.http.post(
        "/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": bol.api.basic()},
    )
    assert token.status_code == 500
    # bol's edge answers a 500 with an HTML page (bol.md §8); the kit's rules can say so.
    await bol.control.inject_fault(
        500,
        path="^/retailer/orders$",
        body="Internal Server Error",
        headers={"content-type": "text/html; charset=UTF-8"},
    )
    html = await bol.api.call("GET", "/retailer/orders", check=False)
    assert (html.status_code, html.headers["content-type"]) == (500, "text/html; charset=UTF-8")


async def test_reset_forgets_orders_limits_and_config_but_keeps_tokens(bol) -> None:
    await bol.control.place_order()
    await bol.control.set_rate_limit("orders-list", 1, 60)
    await bol.control.configure(empty_list_shape="array")
    assert len(await bol.api.orders()) == 1
    await bol.control.reset()
    assert (await bol.api.get("/retailer/orders")).json() == {}
    assert (await bol.control.rate_limits())["orders-list"]["capacity"] == 25
