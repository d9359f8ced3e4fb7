"""Rate limits per administration, injected faults, call counts, reset."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from koppel_sandbox_snelstart import DEMO, TEST_TIER

MAIN = DEMO.main.administratie_id


def assert_throttled(response: httpx.Response, retry_after: int) -> None:
    assert response.status_code == 429
    assert response.headers["Retry-After"] == str(retry_after)
    assert response.json() == {
        "statusCode": 429,
        "message": f"Rate limit is exceeded. Try again in {retry_after} seconds.",
    }


async def test_default_is_the_test_tier_100_per_minute(sandbox) -> None:
    assert sandbox.state.limits == TEST_TIER
    api = sandbox.api
    for _ in range(100):
        assert (await api.call("GET", "/btwtarieven")).status_code == 200
    assert_throttled(await api.call("GET", "/btwtarieven"), 60)
    await api.fetch_token(DEMO.oss.koppelsleutel)  # another administration, its own window
    assert (await api.call("GET", "/btwtarieven")).status_code == 200


async def test_minute_and_hour_windows_on_the_sandbox_clock(sandbox) -> None:
    api, clock = sandbox.api, sandbox.clock
    await sandbox.control.set_rate_limits(per_minute=2, per_hour=3, concurrent=None)
    assert [(await api.call("GET", "/landen")).status_code for _ in range(2)] == [200, 200]
    clock.advance(seconds=20)
    assert_throttled(await api.call("GET", "/landen"), 40)
    clock.advance(seconds=40)
    assert (await api.call("GET", "/landen")).status_code == 200
    assert_throttled(await api.call("GET", "/landen"), 3540)  # the hour: 3 calls were used
    clock.advance(hours=1)
    await api.fetch_token()  # the token outlived its 3599 s; token calls are not limited
    assert (await api.call("GET", "/landen")).status_code == 200


async def test_limits_per_administration_via_control(sandbox) -> None:
    api, control = sandbox.api, sandbox.control
    await control.set_rate_limits(per_minute=1, administratie_id=DEMO.oss.administratie_id)
    await api.fetch_token(DEMO.oss.koppelsleutel)
    assert (await api.call("GET", "/landen")).status_code == 200
    assert (await api.call("GET", "/landen")).status_code == 429
    await api.fetch_token(DEMO.main.koppelsleutel)
    assert [(await api.call("GET", "/landen")).status_code for _ in range(3)] == [200] * 3


async def test_concurrent_calls_over_the_limit_are_429(sandbox) -> None:
    api, control = sandbox.api, sandbox.control
    await control.set_rate_limits(per_minute=None, per_hour=None, concurrent=2)
    await control.set_latency(0.5)
    await api.fetch_token()
    statuses = await asyncio.gather(*(api.call("GET", "/landen") for _ in range(3)))
    assert sorted(r.status_code for r in statuses) == [200, 200, 429]
    await control.set_latency(0)
    assert (await api.call("GET", "/landen")).status_code == 200


async def test_injected_faults_answer_before_the_api(sandbox, booking) -> None:
    api, control = sandbox.api, sandbox.control
    await control.add_fault(status=503, path="verkoopboekingen", method="POST")
    await control.add_fault(status=429, path="verkoopfacturen")
    failed = await api.call("POST", "/verkoopboekingen", booking())
    assert failed.status_code == 503 and failed.json()["statusCode"] == 503
    throttled = await api.call("GET", "/verkoopfacturen")
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "1"
    assert (await api.call("POST", "/verkoopboekingen", booking())).status_code == 201
    assert await control.bookings(MAIN) != []
    assert (await control.faults())["injected"] == 2


async def test_slow_answers_and_timeouts(sandbox) -> None:
    api, control = sandbox.api, sandbox.control
    await api.fetch_token()
    await control.add_fault(status=200, path="companyInfo", delay_seconds=0.3, body={})
    started = time.monotonic()
    slow = await api.http.get(
        "/v2/companyInfo",
        headers={
            "Authorization": f"Bearer {api.token}",
            "Ocp-Apim-Subscription-Key": DEMO.subscription_key,
        },
    )
    assert slow.status_code == 200 and time.monotonic() - started >= 0.3
    await control.add_fault(timeout=True, path="relaties")
    with pytest.raises(httpx.ReadTimeout):
        await api.http.get("/v2/relaties", timeout=0.3)
    assert (await api.call("GET", "/relaties")).status_code == 200


async def test_calls_are_counted_per_operation_and_administration(sandbox, booking) -> None:
    api, control = sandbox.api, sandbox.control
    await api.post("/verkoopboekingen", booking())
    await api.get("/verkoopfacturen", **{"$filter": "Factuurnummer eq 'WS-1042'"})
    await api.call("POST", "/verkoopboekingen", booking())  # BOE-0021 counts too
    await api.http.get("/v2/companyInfo")  # no credentials: counted, but for no administration
    assert await control.calls(MAIN) == {
        "GET /verkoopfacturen": 1,
        "POST /b2b/token": 1,
        "POST /verkoopboekingen": 2,
    }
    assert (await control.calls())["GET /companyInfo"] == 1
    await control.add_fault(status=500, path="companyInfo")
    await api.call("GET", "/companyInfo")
    assert "GET /companyInfo" not in await control.calls(MAIN)  # faults never reach the API


async def test_reset_restores_the_demo_state(sandbox, booking) -> None:
    api, control = sandbox.api, sandbox.control
    await api.post("/verkoopboekingen", booking())
    await control.add_fault(status=500, path="landen")
    await control.set_rate_limits(per_minute=1)
    await control.reset()
    assert await control.bookings(MAIN) == []
    assert await control.calls() == {}
    assert (await control.faults())["pending"] == []
    assert (await api.call("GET", "/landen")).status_code == 401  # tokens are gone
    await api.fetch_token()
    assert [(await api.call("GET", "/landen")).status_code for _ in range(2)] == [200, 200]
    identity = await control.identity()
    assert identity["main"]["koppelsleutel"] == DEMO.koppelsleutel
    assert identity["accounts"]["oss_sr"]["vatRateCode"] == "SR"
