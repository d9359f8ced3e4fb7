"""ControlApi (server side), ControlClient (client side) and the test fixtures, over a real
socket with a small shop sandbox."""

from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

import httpx
import pytest
from koppel_sandbox_kit import (
    ControlApi,
    ControlClient,
    ControlError,
    ControlRefusal,
    DecimalJson,
    ErrorStatus,
    FaultMiddleware,
    ManualClock,
    SeededState,
    ServedSandbox,
    at_least_cents,
    served_sandbox,
    typed_text,
)
from koppel_sandbox_kit.fixtures import sandbox_fixtures
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SHOP_JSON = DecimalJson(at_least_cents)
START = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)


class ShopState(SeededState):
    def _init_data(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.base_url = ""

    @classmethod
    def demo(cls, clock: ManualClock | None = None) -> "ShopState":
        def seed(state: ShopState) -> None:
            state.orders["1001"] = {"total": D("9.9")}

        return cls(clock, seed)


def create_app(state: ShopState) -> Starlette:
    def learn_base_url(request: Request) -> None:
        state.base_url = str(request.base_url)

    api = ControlApi(
        SHOP_JSON,
        errors=[ErrorStatus(KeyError, 404), ErrorStatus(ValueError, 400, typed_text)],
        on_request=learn_base_url,
    )

    async def order(request: Request) -> Response:
        return api.json(state.orders[request.path_params["id"]])

    async def add(request: Request) -> Response:
        data = await api.body(request)
        order_id = str(int(data["id"]))
        state.orders[order_id] = {"total": D(str(data["total"]))}
        return api.json(state.orders[order_id], 201)

    async def taken(_: Request) -> Response:
        raise ControlRefusal(409, "nummer bestaat al")

    async def crash(_: Request) -> Response:
        raise RuntimeError("boom")

    async def clock(_: Request) -> Response:
        return api.json({"now": state.now().isoformat()})

    async def api_orders(_: Request) -> Response:
        return api.json(list(state.orders))

    routes = api.routes(
        [
            ("/orders/{id}", order, "GET"),
            ("/orders", add, "POST"),
            ("/taken", taken, "POST"),
            ("/crash", crash, "GET"),
            ("/clock", clock, "GET"),
        ],
        state.faults,
    )
    app = Starlette(routes=[*routes, Route("/api/orders", api_orders)])
    app.add_middleware(FaultMiddleware, injector=state.faults)
    return app


class ShopControl(ControlClient):
    codec = SHOP_JSON

    def _fault_body(self, status: int) -> Any:
        return {"fout": f"geïnjecteerd {status}"}


class Shop(ServedSandbox[ShopState, ShopControl]):
    pass


clock, sandbox = sandbox_fixtures(ShopState.demo, create_app, ShopControl, START, Shop)


async def test_the_fixtures_serve_the_demo_state_on_the_test_clock(sandbox: Shop, clock) -> None:
    assert isinstance(sandbox, Shop) and sandbox.clock is clock
    assert await sandbox.control._call("GET", "/orders/1001") == {"total": D("9.90")}
    clock.advance(hours=1)
    assert await sandbox.control._call("GET", "/clock") == {"now": "2026-03-14T10:00:00+00:00"}
    assert sandbox.state.base_url == sandbox.url + "/"


async def test_bodies_travel_in_the_sandbox_dialect_both_ways(sandbox: Shop) -> None:
    answer = await sandbox.control._call("POST", "/orders", {"id": 7, "total": D("12.5")})
    assert answer == {"total": D("12.50")}
    assert sandbox.state.orders["7"]["total"] == D("12.5")


async def test_handler_errors_become_error_answers_by_the_first_matching_rule(
    sandbox: Shop,
) -> None:
    missing = await sandbox.http.get("/_control/orders/9")
    assert (missing.status_code, missing.json()) == (404, {"error": "'9'"})
    bad = await sandbox.http.post("/_control/orders", content=b'{"id": "x", "total": 1}')
    assert (bad.status_code, bad.json()) == (
        400,
        {"error": "ValueError: invalid literal for int() with base 10: 'x'"},
    )
    refused = await sandbox.http.post("/_control/taken")
    assert (refused.status_code, refused.json()) == (409, {"error": "nummer bestaat al"})


async def test_a_body_that_is_no_object_is_refused_and_an_empty_one_is_empty(
    sandbox: Shop,
) -> None:
    listed = await sandbox.http.post("/_control/orders", content=b"[1]")
    assert (listed.status_code, listed.json()) == (
        400,
        {"error": "ValueError: the body must be a JSON object"},
    )
    empty = await sandbox.http.post("/_control/orders", content=b"  ")
    assert empty.status_code == 404 and empty.json() == {"error": "'id'"}


async def test_an_exception_no_rule_matches_is_not_swallowed(sandbox: Shop) -> None:
    crashed = await sandbox.http.get("/_control/crash")
    assert crashed.status_code == 500 and "error" not in crashed.text


async def test_a_refused_control_call_raises_an_error_both_kinds_of_caller_catch(
    sandbox: Shop,
) -> None:
    with pytest.raises(ControlError) as raised:
        await sandbox.control._call("GET", "/orders/404")
    error = raised.value
    assert isinstance(error, httpx.HTTPStatusError) and isinstance(error, RuntimeError)
    assert raised.value.response.status_code == 404
    assert str(raised.value) == 'sandbox control GET /orders/404: 404 {"error":"\'404\'"}'


async def test_faults_get_the_vendor_body_and_a_429_a_retry_after(sandbox: Shop) -> None:
    await sandbox.control.add_fault(status=503, path="^/api/orders")
    await sandbox.control.add_fault(status=429, headers={"X-Limit": "1"})
    first = await sandbox.http.get("/api/orders")
    assert (first.status_code, first.json()) == (503, {"fout": "geïnjecteerd 503"})
    second = await sandbox.http.get("/api/orders")
    assert second.status_code == 429
    assert (second.headers["Retry-After"], second.headers["X-Limit"]) == ("1", "1")
    assert (await sandbox.control.faults())["injected"] == 2
    await sandbox.control.add_fault(status=500)
    await sandbox.control.clear_faults()
    assert (await sandbox.http.get("/api/orders")).status_code == 200


async def test_a_client_sharing_a_connection_leaves_it_open_for_its_owner() -> None:
    async with served_sandbox(ShopState.demo(), create_app, ShopControl) as served:
        assert type(served) is ServedSandbox and served.clock is None
        async with ShopControl(served.url, http=served.control._http) as borrower:
            assert await borrower._call("GET", "/orders/1001") == {"total": D("9.90")}
        assert await served.control._call("GET", "/orders/1001") == {"total": D("9.90")}
    assert served.control._http.is_closed and served.http.is_closed
