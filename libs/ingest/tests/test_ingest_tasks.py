"""Work spawned by webhooks runs a bounded number at a time and never leaks."""

import asyncio

import pytest
from koppel_ingest import BackgroundTasks
from koppel_ingest.webhooks import Busy


async def test_no_more_than_max_running_at_once() -> None:
    tasks = BackgroundTasks(max_running=3)
    running = 0
    peak = 0
    release = asyncio.Event()

    async def work() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1

    for _ in range(10):
        tasks.spawn(work())
    await asyncio.sleep(0.05)
    assert running == 3
    release.set()
    await tasks.drain(timeout=5)
    assert peak == 3
    assert running == 0


async def test_drain_closes_work_that_never_started() -> None:
    # A coroutine that is never awaited nor closed warns at garbage collection and keeps
    # its frame (and what it refers to) alive until then.
    tasks = BackgroundTasks(max_running=1)
    started: list[int] = []
    blocked = asyncio.Event()

    async def work(n: int) -> None:
        started.append(n)
        await blocked.wait()

    coroutines = [work(n) for n in range(3)]
    for coroutine in coroutines:
        tasks.spawn(coroutine)
    await asyncio.sleep(0.05)
    await tasks.drain(timeout=0.1)
    assert started == [0]
    assert [coroutine.cr_frame for coroutine in coroutines] == [None, None, None]


async def test_work_for_an_order_already_waiting_is_not_queued_twice() -> None:
    tasks = BackgroundTasks(max_running=1)
    ran: list[str] = []
    blocked = asyncio.Event()

    async def work(name: str) -> None:
        ran.append(name)
        await blocked.wait()

    assert tasks.spawn(work("busy"), key="other")
    await asyncio.sleep(0.01)  # "busy" runs; the next ones wait
    first, second = work("paid"), work("paid again")
    assert tasks.spawn(first, key=("c", "1001")) is True
    assert tasks.spawn(second, key=("c", "1001")) is False, "coalesced"
    assert second.cr_frame is None, "the dropped work is closed, not leaked"
    assert tasks.coalesced == 1
    blocked.set()
    await tasks.drain(timeout=5)
    assert ran == ["busy", "paid"]
    # once it ran, the same key queues again (a later change needs a later fetch)
    assert tasks.spawn(work("later"), key=("c", "1001")) is True
    await tasks.drain(timeout=5)
    assert ran[-1] == "later"


async def test_waiting_work_is_bounded() -> None:
    tasks = BackgroundTasks(max_running=1, max_waiting=3)
    blocked = asyncio.Event()

    async def work() -> None:
        await blocked.wait()

    for n in range(3):
        tasks.spawn(work(), key=n)
    refused = work()
    with pytest.raises(Busy):
        tasks.spawn(refused, key=99)
    assert refused.cr_frame is None
    blocked.set()
    await tasks.drain(timeout=5)
