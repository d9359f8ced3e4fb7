"""Group commit (`bulk.GroupCommit`) and the ledger calls per connection (`limits`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
from koppel_ledger.bulk import GroupCommit
from koppel_ledger.limits import ConnectionLimits
from koppel_ledger.runtime import latest_revisions
from koppel_testkit import make_order, make_order_event


@dataclass
class Runs:
    sizes: list[list[int]] = field(default_factory=list)
    gate: asyncio.Event | None = None
    fail_next: Exception | None = None

    async def __call__(self, ops: list[int]) -> list[int | BaseException]:
        self.sizes.append(list(ops))
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        return [ValueError(op) if op < 0 else op * 10 for op in ops]


async def test_writes_issued_together_travel_in_runs_of_at_most_max_ops_each_with_its_answer():
    runs = Runs()
    commit = GroupCommit(runs, max_ops=25)
    answers = await asyncio.gather(*(commit.submit(i) for i in range(60)))
    assert answers == [i * 10 for i in range(60)]
    assert [len(ops) for ops in runs.sizes] == [25, 25, 10]


async def test_a_write_issued_while_a_run_is_in_flight_goes_in_the_next_run():
    runs = Runs(gate=asyncio.Event())
    commit = GroupCommit(runs, max_ops=25)
    first = asyncio.ensure_future(commit.submit(1))
    await asyncio.sleep(0.01)
    later = [asyncio.ensure_future(commit.submit(i)) for i in (2, 3)]
    await asyncio.sleep(0.01)
    assert runs.sizes == [[1]], "the second run waits for the first"
    runs.gate.set()
    assert await first == 10 and [await f for f in later] == [20, 30]
    assert runs.sizes == [[1], [2, 3]]


async def test_one_failed_write_or_run_fails_only_its_own_waiters():
    runs = Runs()
    commit = GroupCommit(runs, max_ops=25)
    answers = await asyncio.gather(*(commit.submit(i) for i in (1, -2, 3)), return_exceptions=True)
    assert answers[0] == 10 and isinstance(answers[1], ValueError) and answers[2] == 30
    runs.fail_next = ConnectionError("server gone")
    with pytest.raises(ConnectionError):
        await commit.submit(4)
    assert await commit.submit(5) == 50, "the next write goes on"


async def test_a_stopped_group_commit_leaves_nobody_waiting_for_ever():
    runs = Runs(gate=asyncio.Event())
    commit = GroupCommit(runs, max_ops=25)
    waiting = [asyncio.ensure_future(commit.submit(i)) for i in range(3)]
    await asyncio.sleep(0.01)
    assert commit._flusher is not None
    commit._flusher.cancel()  # the service stops while a run is in flight
    done, pending = await asyncio.wait(waiting, timeout=1)
    assert not pending and all(f.cancelled() for f in done)


@dataclass
class SlowSession:
    gate: asyncio.Event
    in_flight: int = 0
    most: int = 0

    async def create(self, draft: Any) -> Any:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        await self.gate.wait()
        self.in_flight -= 1
        return draft


async def test_a_connection_has_at_most_its_slots_of_calls_in_flight_and_others_do_not_wait():
    limits = ConnectionLimits(per_connection=3)
    gate = asyncio.Event()
    busy, other = SlowSession(gate), SlowSession(asyncio.Event())
    a = limits.session("shop-a", busy)  # type: ignore[arg-type]
    b = limits.session("shop-b", other)  # type: ignore[arg-type]
    calls = [asyncio.ensure_future(a.create(i)) for i in range(10)]  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    assert busy.in_flight == 3
    elsewhere = asyncio.ensure_future(b.create("x"))  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    assert other.in_flight == 1, "another connection does not wait for shop-a's slots"
    gate.set()
    assert [await c for c in calls] == list(range(10))
    assert busy.most == 3
    other.gate.set()
    await elsewhere


def test_a_batch_keeps_the_latest_revision_of_each_order_in_order_of_appearance():
    def ev(ref: str, revision: int) -> Any:
        return make_order_event(make_order(order_id=ref), connection_id="c", revision=revision)

    events = [ev("a", 1), ev("b", 1), ev("a", 3), ev("c", 1), ev("a", 2), ev("b", 1)]
    latest = latest_revisions(events)
    assert [(e.order_ref, e.revision) for e in latest] == [("a", 3), ("b", 1), ("c", 1)]
