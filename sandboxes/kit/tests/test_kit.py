import httpx
import pytest
from koppel_sandbox_kit import (
    FaultInjector,
    FaultMiddleware,
    FixedWindowLimiter,
    fault_routes,
    serve,
)
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


def _app() -> Starlette:
    injector = FaultInjector()

    async def orders(_):
        return JSONResponse({"items": []})

    app = Starlette(routes=[Route("/orders", orders), *fault_routes(injector)])
    app.add_middleware(FaultMiddleware, injector=injector)
    return app


async def test_injected_faults_are_consumed_in_order_over_a_real_socket() -> None:
    async with serve(_app()) as url, httpx.AsyncClient(base_url=url) as http:
        await http.post("/_control/faults", json={"status": 429, "headers": {"Retry-After": "1"}})
        await http.post("/_control/faults", json={"status": 503, "path": "^/orders", "times": 2})
        first = await http.get("/orders")
        assert first.status_code == 429 and first.headers["Retry-After"] == "1"
        assert [(await http.get("/orders")).status_code for _ in range(3)] == [503, 503, 200]
        assert (await http.get("/_control/faults")).json()["injected"] == 3


async def test_a_timeout_fault_hangs_until_the_client_gives_up() -> None:
    async with serve(_app()) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            await http.post("/_control/faults", json={"timeout": True})
            with pytest.raises(httpx.ReadTimeout):
                await http.get("/orders", timeout=0.5)
            assert (await http.get("/orders")).status_code == 200
    # leaving `serve` returned: the hanging request did not block the shutdown


def test_fixed_window_limiter() -> None:
    now = [0.0]
    limiter = FixedWindowLimiter(2, 60, clock=lambda: now[0])
    assert limiter.hit("a").allowed and limiter.hit("a").allowed
    blocked = limiter.hit("a")
    assert not blocked.allowed and blocked.reset_seconds == 60
    assert limiter.hit("b").allowed, "windows are per key"
    now[0] = 60.0
    assert limiter.hit("a").allowed
