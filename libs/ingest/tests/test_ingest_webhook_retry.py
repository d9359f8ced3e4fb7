"""An order a webhook announced is not left waiting for the next poll (5 minutes by default)
when its sync fails: it is tried again within minutes (found by the fault run, tests/faults)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from koppel_chassis import ExternalError, SecretBox, TransientError, generate_key
from koppel_ingest import webhooks
from koppel_ingest.clock import utcnow
from koppel_ingest.webhooks import BackgroundTasks, WebhookReceiver
from koppel_testkit import eventually
from starlette.applications import Starlette
from starlette.routing import Route


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhooks, "RETRY_DELAYS_SECONDS", (0.01, 0.01))


class Guard:
    """The connection guard's part: run the work; a shop failure is logged, not raised."""

    def __init__(self, fail_first: int, raise_instead: bool = False) -> None:
        self.fail_first = fail_first
        self.raise_instead = raise_instead
        self.calls = 0

    async def run(self, connection_id: str, what: str, work: Any, state: Any = None) -> None:
        self.calls += 1
        if self.raise_instead and self.calls <= self.fail_first:
            raise RuntimeError("KafkaConnectionError: the broker is down")
        try:
            await work(connection_id)
        except ExternalError:
            return  # "did not complete; the next poll retries"


class Sync:
    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        self.synced: list[str] = []

    async def sync(self, connection: Any, source_order_id: str) -> None:
        if not self.guard.raise_instead and self.guard.calls <= self.guard.fail_first:
            raise TransientError("the shop answered 503", status=503)
        self.synced.append(source_order_id)


def receiver(guard: Guard, sync: Sync, tasks: BackgroundTasks) -> WebhookReceiver:
    return WebhookReceiver(
        None,  # type: ignore[arg-type]  # not used once a delivery is accepted
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        SecretBox(generate_key()),
        None,  # type: ignore[arg-type]
        guard,  # type: ignore[arg-type]
        sync,  # type: ignore[arg-type]
        tasks,
        utcnow,
    )


@pytest.mark.parametrize("raise_instead", [False, True], ids=["shop failed", "kafka down"])
async def test_a_webhook_whose_order_could_not_be_synced_is_tried_again_soon(
    raise_instead: bool,
) -> None:
    guard = Guard(fail_first=2, raise_instead=raise_instead)
    sync = Sync(guard)
    tasks = BackgroundTasks()
    await receiver(guard, sync, tasks)._process("c", "1001", None)

    async def synced() -> bool:
        return sync.synced == ["1001"]

    await eventually(synced, timeout=5)
    assert guard.calls == 3
    await tasks.drain(1)


async def test_retries_end_and_leave_the_order_to_the_poll() -> None:
    guard = Guard(fail_first=100)
    sync = Sync(guard)
    tasks = BackgroundTasks()
    await receiver(guard, sync, tasks)._process("c", "1001", None)

    async def gave_up() -> bool:
        return guard.calls == 1 + len(webhooks.RETRY_DELAYS_SECONDS) and not tasks._later

    await eventually(gave_up, timeout=5)
    assert sync.synced == []


async def test_a_retry_waiting_does_not_hold_up_a_stop() -> None:
    tasks = BackgroundTasks()
    ran: list[str] = []

    async def work() -> None:
        ran.append("retry")

    tasks.later(3600, work)
    await tasks.drain(timeout=5)  # returns at once: nothing runs
    assert ran == [] and not tasks._later


class StoreDown:
    async def get(self, connection_id: str) -> None:
        raise ConnectionError("MongoDB: connection refused")


async def test_a_delivery_meeting_the_state_store_down_is_refused_503_and_polled_for_soon() -> None:
    guard = Guard(fail_first=0)
    hook = receiver(guard, Sync(guard), BackgroundTasks())
    hook.states = StoreDown()  # type: ignore[assignment]
    missed: list[str] = []
    hook.missed = missed.append
    app = Starlette(routes=[Route("/webhooks/{connection_id}", hook.handle, methods=["POST"])])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as http:
        answer = await http.post("/webhooks/shop-a", content=b'{"id": 1001}')
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "30"
    assert missed == ["shop-a"]
    assert guard.calls == 0


async def test_deferred_deliveries_are_logged_once_per_period_not_each(
    caplog: pytest.LogCaptureFixture,
) -> None:
    guard = Guard(fail_first=0)
    hook = receiver(guard, Sync(guard), BackgroundTasks())
    hook.states = StoreDown()  # type: ignore[assignment]
    app = Starlette(routes=[Route("/webhooks/{connection_id}", hook.handle, methods=["POST"])])
    transport = httpx.ASGITransport(app=app)
    with caplog.at_level("WARNING", logger="koppel_ingest.webhooks"):
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as http:
            for _ in range(25):
                await http.post("/webhooks/shop-a", content=b'{"id": 1001}')
    said = [r for r in caplog.records if "deferred" in r.getMessage()]
    assert len(said) == 1
