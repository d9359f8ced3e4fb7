"""The store contract: one suite, run against the in-memory twins and the real
MongoDB-compatible server. Subclass `StoreContract` and provide the fixtures
`order_store(clock)` and `hold_store(clock)`."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from koppel_contracts import LEDGER_BOOKINGS, OrderEventKind
from koppel_testkit import make_order, make_order_event

from ..clock import ManualClock
from ..events import Events
from ..holds import HoldStore
from ..records import Change, Received, State
from ..store import LostLock, OrderStore, RetrySelection, lock_of

CONNECTION = "store-contract"
EVENTS = Events("ledger-test", "octopus")  # type: ignore[arg-type]


def order_event(ref: str = "1", revision: int = 1, kind: OrderEventKind = OrderEventKind.CREATED):
    return make_order_event(
        make_order(order_id=ref), connection_id=CONNECTION, revision=revision, kind=kind
    )


def booking_item(ref: str = "1") -> Any:
    from koppel_contracts import BookingStatus, LedgerRef

    return EVENTS.booking(
        order_event(ref),
        1,
        BookingStatus.BOOKED,
        LedgerRef(booking_id=f"b-{ref}"),
        ManualClock()(),
    )


class StoreContract:
    """Behaviour every order store and hold store must show."""

    @pytest.fixture
    def clock(self) -> ManualClock:
        return ManualClock()

    # --- receiving ----------------------------------------------------------------------

    async def test_a_revision_is_stored_once_and_older_or_equal_ones_are_duplicates(
        self, order_store: OrderStore
    ) -> None:
        received, record = await order_store.receive(order_event("1", 1))
        assert received == Received.NEW and record is not None and record.revision == 1
        assert (await order_store.receive(order_event("1", 1)))[0] == Received.DUPLICATE
        received, record = await order_store.receive(order_event("1", 2, OrderEventKind.AMENDED))
        assert received == Received.NEWER and record is not None
        assert record.kind == OrderEventKind.AMENDED
        assert (await order_store.receive(order_event("1", 1)))[0] == Received.DUPLICATE
        stored = await order_store.get(record.id)
        assert stored is not None and stored.revision == 2 and stored.state == State.RECEIVED

    # --- owning ---------------------------------------------------------------------------

    async def test_one_worker_owns_an_order_until_its_lock_expires(
        self, order_store: OrderStore, clock: ManualClock
    ) -> None:
        _, record = await order_store.receive(order_event("2"))
        assert record is not None
        first = await order_store.claim(record.id)
        assert first is not None
        assert await order_store.claim(record.id) is None, "owned: nobody else gets it"
        clock.advance(seconds=order_store.lock.total_seconds() + 1)
        second = await order_store.claim(record.id)
        assert second is not None and second.lock_owner != first.lock_owner
        with pytest.raises(LostLock):
            await order_store.write(record.id, lock_of(first), Change(state=State.BOOKING))

    async def test_of_many_concurrent_claims_exactly_one_wins(
        self, order_store: OrderStore
    ) -> None:
        _, record = await order_store.receive(order_event("3"))
        assert record is not None
        results = await asyncio.gather(*(order_store.claim(record.id) for _ in range(8)))
        assert sum(r is not None for r in results) == 1

    async def test_released_locks_leave_nothing_behind_after_many_cycles(
        self, order_store: OrderStore, clock: ManualClock
    ) -> None:
        _, record = await order_store.receive(order_event("4"))
        assert record is not None
        for cycle in range(30):
            claimed = await order_store.claim(record.id)
            assert claimed is not None, f"cycle {cycle}"
            if cycle % 2:
                await order_store.release(record.id, lock_of(claimed))
            else:
                change = Change(next_attempt_at=None)
                assert await order_store.write(
                    record.id, lock_of(claimed), change, revision=claimed.revision, release=True
                )
        assert await order_store.count_locks() == 0
        # A worker that died holding the lock leaves one, which the purge removes.
        assert await order_store.claim(record.id) is not None
        assert await order_store.count_locks() == 1
        clock.advance(seconds=order_store.lock.total_seconds() * 3)
        assert await order_store.purge_locks(order_store.lock * 2) == 1
        assert await order_store.count_locks() == 0

    async def test_a_state_for_an_old_revision_is_not_written_over_a_newer_one(
        self, order_store: OrderStore
    ) -> None:
        _, record = await order_store.receive(order_event("5", 1))
        assert record is not None
        claimed = await order_store.claim(record.id)
        assert claimed is not None
        await order_store.receive(order_event("5", 2, OrderEventKind.AMENDED))
        written = await order_store.write(
            record.id, lock_of(claimed), Change(state=State.FAILED), revision=1, release=True
        )
        assert written is False
        stored = await order_store.get(record.id)
        assert stored is not None and stored.state == State.RECEIVED and stored.lock_owner

    async def test_a_write_keeps_fields_it_does_not_name_and_counts_calls(
        self, order_store: OrderStore
    ) -> None:
        _, record = await order_store.receive(order_event("6"))
        assert record is not None
        claimed = await order_store.claim(record.id)
        assert claimed is not None
        lock = lock_of(claimed)
        await order_store.write(record.id, lock, Change(state=State.BOOKING, calls=2))
        await order_store.write(record.id, lock, Change(reason_code="x", calls=1))
        stored = await order_store.get(record.id)
        assert stored is not None
        assert (stored.state, stored.reason_code, stored.calls) == (State.BOOKING, "x", 3)

    # --- batch mode ------------------------------------------------------------------------

    async def test_a_new_order_is_stored_and_owned_by_its_insert_and_a_known_one_is_not(
        self, order_store: OrderStore
    ) -> None:
        await order_store.receive(order_event("n0"))
        new, known = await order_store.receive_new([order_event("n1"), order_event("n0")])
        assert known is None, "a known order goes the way of receive() and claim()"
        assert new is not None and new.lock_owner and new.revision == 1
        assert await order_store.claim(new.id) is None, "owned since its insert"
        assert await order_store.receive_new([order_event("n1", 2)]) == [None]
        change = Change(next_attempt_at=None)
        assert await order_store.write(new.id, lock_of(new), change, revision=1, release=True)
        assert await order_store.count_locks() == 0, "the insert needs no lock document"
        again = await order_store.claim(new.id)
        assert again is not None and again.lock_generation == 1

    async def test_of_many_concurrent_inserts_of_a_new_order_exactly_one_owns_it(
        self, order_store: OrderStore
    ) -> None:
        results = await asyncio.gather(
            *(order_store.receive_new([order_event("n2")]) for _ in range(6))
        )
        assert sum(owned is not None for [owned] in results) == 1

    async def test_writes_of_many_orders_at_once_each_get_their_own_answer(
        self, order_store: OrderStore, clock: ManualClock
    ) -> None:
        events = [order_event(f"w{i}") for i in range(40)]
        owned = [r for r in await order_store.receive_new(events) if r is not None]
        assert len(owned) == 40
        newer, lost = owned[3], owned[7]
        await order_store.receive(order_event(newer.order_ref, 2, OrderEventKind.AMENDED))
        clock.advance(seconds=order_store.lock.total_seconds() + 1)
        taken = await order_store.claim(lost.id)  # its lock expired: someone else's now
        assert taken is not None

        async def finish(record: Any) -> bool | str:
            change = Change(state=State.VERIFIED, next_attempt_at=None, calls=1)
            try:
                return await order_store.write(
                    record.id, lock_of(record), change, revision=1, release=True
                )
            except LostLock:
                return "lost"

        answers = await asyncio.gather(*(finish(r) for r in owned))
        expected = [True] * 40
        expected[3], expected[7] = False, "lost"
        assert answers == expected
        stored = [await order_store.get(r.id) for r in owned]
        assert [s.state if s else None for s in stored].count(State.VERIFIED) == 38
        assert all(s and s.calls == 1 for i, s in enumerate(stored) if i not in (3, 7))

    # --- the outbox -----------------------------------------------------------------------

    async def test_events_wait_in_the_outbox_until_published(
        self, order_store: OrderStore, clock: ManualClock
    ) -> None:
        _, record = await order_store.receive(order_event("7"))
        assert record is not None
        claimed = await order_store.claim(record.id)
        assert claimed is not None
        item = booking_item("7")
        await order_store.write(record.id, lock_of(claimed), Change(outbox=(item,)))
        stored = await order_store.get(record.id)
        assert stored is not None
        assert [e.event.event_id for _, e in stored.outbox_items()] == [item.event.event_id]
        assert [t.topic for _, t in stored.outbox_items()] == [LEDGER_BOOKINGS]
        clock.advance(seconds=30)
        assert [r.id for r in await order_store.with_unpublished(timedelta(seconds=10), 10)] == [
            record.id
        ]
        await order_store.published(record.id, [item.event.event_id])
        assert await order_store.with_unpublished(timedelta(seconds=10), 10) == []

    # --- the scheduler's view -------------------------------------------------------------

    async def test_the_scheduler_sees_hinted_orders_when_due_and_settles_them(
        self, order_store: OrderStore, clock: ManualClock
    ) -> None:
        _, record = await order_store.receive(order_event("8"))
        assert record is not None
        later = clock() + timedelta(seconds=60)
        await order_store.schedule(record.id, later)
        assert await order_store.due(10) == []
        clock.advance(seconds=61)
        due = await order_store.due(10)
        assert [order_id for order_id, _ in due] == [record.id]
        claimed = await order_store.claim(record.id)
        assert claimed is not None
        await order_store.write(
            record.id, lock_of(claimed), Change(next_attempt_at=None), revision=1, release=True
        )
        await order_store.settle(record.id, due[0][1])
        assert await order_store.due(10) == []

    async def test_a_hint_is_only_brought_forward_by_others(
        self, order_store: OrderStore, clock: ManualClock
    ) -> None:
        _, record = await order_store.receive(order_event("9"))
        assert record is not None
        soon, late = clock() + timedelta(seconds=5), clock() + timedelta(seconds=500)
        await order_store.schedule(record.id, soon)
        await order_store.schedule(record.id, late, unless_sooner=True)
        clock.advance(seconds=6)
        assert [i for i, _ in await order_store.due(10)] == [record.id]

    async def test_the_safety_net_finds_due_orders_without_a_hint(
        self, order_store: OrderStore, clock: ManualClock
    ) -> None:
        _, record = await order_store.receive(order_event("10"))
        assert record is not None
        clock.advance(seconds=1)
        assert [i for i, _ in await order_store.unscheduled(10)] == [record.id]
        await order_store.schedule_if_missing(record.id, clock())
        assert await order_store.unscheduled(10) == []

    async def test_new_settings_resume_held_waiting_and_fixable_failed_orders(
        self, order_store: OrderStore, clock: ManualClock
    ) -> None:
        cases = {
            "held": Change(state=State.HELD, reason_code="credentials_refused"),
            "pending": Change(state=State.WAITING, reason_code="settings_pending"),
            "fixable": Change(state=State.FAILED, reason_code="unknown_journal", done_revision=1),
            "vat": Change(
                state=State.FAILED, reason_code="icp_without_vat_number", done_revision=1
            ),
            "outage": Change(state=State.WAITING, reason_code="ledger_unavailable"),
        }
        for ref, change in cases.items():
            _, record = await order_store.receive(order_event(ref))
            assert record is not None
            claimed = await order_store.claim(record.id)
            assert claimed is not None
            await order_store.write(record.id, lock_of(claimed), change, revision=1, release=True)
        resumed = await order_store.resume_connection(
            CONNECTION, frozenset({"unknown_journal", "credentials_refused"})
        )
        assert resumed == 3
        due = {i.split(":", 1)[1] for i, _ in await order_store.due(10)}
        assert due == {"held", "pending", "fixable"}
        fixable = await order_store.get(f"{CONNECTION}:fixable")
        assert fixable is not None and fixable.done_revision == 0

    async def test_a_retry_selects_one_order_or_a_filter_and_never_a_booked_one(
        self, order_store: OrderStore, clock: ManualClock
    ) -> None:
        cases = {
            "old-failed": Change(state=State.FAILED, reason_code="x", done_revision=1),
            "failed": Change(state=State.FAILED, reason_code="x", done_revision=1, attempts=5),
            "held": Change(state=State.HELD, reason_code="credentials_refused"),
            "waiting": Change(state=State.WAITING, reason_code="ledger_unavailable"),
            "booked": Change(state=State.BOOKED, done_revision=1, next_attempt_at=None),
        }
        since = None
        for ref, change in cases.items():
            _, record = await order_store.receive(order_event(ref))
            assert record is not None
            claimed = await order_store.claim(record.id)
            assert claimed is not None
            await order_store.write(record.id, lock_of(claimed), change, revision=1, release=True)
            clock.advance(seconds=60)
            since = since or clock()  # every order after the first
        failed_since = RetrySelection(CONNECTION, states=frozenset({State.FAILED}), since=since)
        assert [i.split(":", 1)[1] for i in await order_store.retry(failed_since)] == ["failed"]
        retried = await order_store.get(f"{CONNECTION}:failed")
        assert retried is not None and retried.attempts == 0 and retried.done_revision == 0
        assert f"{CONNECTION}:failed" in {i for i, _ in await order_store.due(10)}

        everything = RetrySelection(CONNECTION, states=frozenset(State))
        picked = {i.split(":", 1)[1] for i in await order_store.retry(everything)}
        assert picked == {"old-failed", "failed", "held", "waiting"}, "never a booked order"
        one = RetrySelection(CONNECTION, order_ref="booked", states=frozenset(State))
        assert await order_store.retry(one) == []
        other = RetrySelection("another-connection", states=frozenset(State))
        assert await order_store.retry(other) == []

    # --- holds ----------------------------------------------------------------------------

    async def test_a_connection_is_held_once_per_settings_version(
        self, hold_store: HoldStore
    ) -> None:
        alert = booking_item("h")
        assert await hold_store.hold("c1", 1, "refused", [alert]) is True
        assert await hold_store.hold("c1", 1, "refused again", [alert]) is False
        held = await hold_store.get("c1")
        assert held is not None and held.held and held.settings_version == 1
        assert await hold_store.release("c1", 1) is False, "same version: still held"
        assert await hold_store.release("c1", 2) is True
        released = await hold_store.get("c1")
        assert released is not None and not released.held and released.restore_pending

    async def test_a_restore_is_announced_once(self, hold_store: HoldStore) -> None:
        await hold_store.hold("c2", 1, "refused", [booking_item("a")])
        await hold_store.release("c2", 2)
        restored = booking_item("r")
        results = [await hold_store.restored("c2", [restored]) for _ in range(3)]
        assert results == [True, False, False]

    async def test_a_quota_makes_a_connection_quiet_until_the_latest_time(
        self, hold_store: HoldStore, clock: ManualClock
    ) -> None:
        await hold_store.quiet("c3", clock() + timedelta(hours=2))
        await hold_store.quiet("c3", clock() + timedelta(hours=1))
        quiet = await hold_store.get("c3")
        assert quiet is not None and quiet.quiet_until == clock() + timedelta(hours=2)
