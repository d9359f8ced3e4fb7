"""Work spawned by webhooks runs a bounded number at a time and never leaks."""

import asyncio

from koppel_ingest import BackgroundTasks


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
