"""The state machine's store on the real MongoDB-compatible server (FerretDB or MongoDB)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from koppel_chassis import ensure_indexes
from koppel_contracts import (
    LEDGER_BOOKINGS,
    BookingEvent,
    BookingStatus,
    OrderEventKind,
    OrderSummary,
    SourceSystem,
)
from koppel_ledger_octopus.state import (
    INDEXES,
    HoldStore,
    LostLock,
    OrderStore,
    OutboxItem,
    Received,
    State,
    outbox_items,
)
from koppel_testkit import make_order, make_order_event
from pymongo.errors import DuplicateKeyError


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store(mongo_db, clock) -> OrderStore:
    await ensure_indexes(mongo_db, INDEXES)
    return OrderStore(mongo_db, lock_seconds=60, clock=clock, owner="test")


def event(revision: int = 1, ref: str = "1001", kind=OrderEventKind.CREATED):
    return make_order_event(
        make_order(order_id=ref), connection_id="c1", order_ref=ref, revision=revision, kind=kind
    )


def booking(event_id: str) -> OutboxItem:
    return OutboxItem(
        LEDGER_BOOKINGS,
        BookingEvent(
            event_id=event_id,
            occurred_at=datetime.now(UTC),
            connection_id="c1",
            source_system=SourceSystem.OCTOPUS,
            order_ref="1001",
            order_revision=1,
            status=BookingStatus.BOOKED,
            order=OrderSummary(
                order_number="WEB-1001",
                placed_on=datetime(2026, 11, 20).date(),
                total_incl_vat="62.00",
                currency="EUR",
            ),
        ),
    )


async def test_a_revision_is_stored_once_and_older_or_equal_ones_are_duplicates(store) -> None:
    assert await store.receive(event(1)) == Received.NEW
    assert await store.receive(event(1)) == Received.DUPLICATE
    assert await store.receive(event(2, kind=OrderEventKind.AMENDED)) == Received.NEWER
    assert await store.receive(event(1)) == Received.DUPLICATE
    doc = await store.get("c1:1001")
    assert doc["revision"] == 2 and doc["kind"] == "amended"
    assert doc["state"] == State.RECEIVED and doc["next_attempt_at"] == store.clock()
    assert doc["done_revision"] == 0 and doc["outbox"] == {}


async def test_connection_and_order_are_unique(store) -> None:
    await store.receive(event(1))
    with pytest.raises(DuplicateKeyError):
        await store.orders.insert_one({"_id": "other", "connection_id": "c1", "order_ref": "1001"})


async def test_one_worker_owns_an_order_until_its_lock_expires(store, clock) -> None:
    await store.receive(event(1))
    first = await store.claim("c1:1001")
    assert first is not None
    assert await store.claim("c1:1001") is None
    owner = first["lock_owner"]
    await store.update("c1:1001", owner, set_={"state": State.BOOKING.value})
    clock.advance(61)
    second = await store.claim("c1:1001")
    assert second is not None and second["lock_owner"] != owner
    with pytest.raises(LostLock):
        await store.update("c1:1001", owner, set_={"state": State.BOOKED.value})
    await store.release("c1:1001", owner)  # not ours any more: no effect
    assert (await store.get("c1:1001"))["lock_owner"] == second["lock_owner"]
    await store.release("c1:1001", second["lock_owner"])
    assert await store.claim("c1:1001") is not None


async def test_a_state_for_an_old_revision_is_not_written_over_a_newer_one(store) -> None:
    await store.receive(event(1))
    owner = (await store.claim("c1:1001"))["lock_owner"]
    await store.receive(event(2, kind=OrderEventKind.AMENDED))  # arrives meanwhile
    written = await store.update_revision(
        "c1:1001", owner, 1, set_={"state": State.WAITING.value, "next_attempt_at": None}
    )
    assert written is False
    assert await store.finish("c1:1001", owner, 1) is False
    doc = await store.get("c1:1001")
    assert doc["state"] == State.RECEIVED and doc["next_attempt_at"] is not None
    assert await store.finish("c1:1001", owner, 2) is True
    assert (await store.get("c1:1001"))["next_attempt_at"] is None


async def test_events_wait_in_the_outbox_until_published(store) -> None:
    await store.receive(event(1))
    owner = (await store.claim("c1:1001"))["lock_owner"]
    await store.update(
        "c1:1001", owner, set_={"state": State.BOOKED.value}, outbox=[booking("e-1")]
    )
    doc = await store.get("c1:1001")
    [(event_id, item)] = outbox_items(doc)
    assert event_id == "e-1" and item.topic == LEDGER_BOOKINGS
    assert item.event.status == BookingStatus.BOOKED
    store.clock.advance(10)
    assert [d["_id"] for d in await store.with_unpublished(timedelta(seconds=5), 10)] == ["c1:1001"]
    await store.published("c1:1001", "e-1")
    assert outbox_items(await store.get("c1:1001")) == []
    assert await store.with_unpublished(timedelta(seconds=5), 10) == []


async def test_the_scheduler_sees_hinted_orders_when_due_and_settles_them(store, clock) -> None:
    for ref in ("a", "b", "c"):
        await store.receive(event(1, ref=ref))
    # c waits 30 s: the hint is written with the state that needs it
    c = await store.claim("c1:c")
    later = clock() + timedelta(seconds=30)
    await store.schedule("c1:c", later)
    assert await store.update_revision(
        "c1:c", c["lock_owner"], 1, set_={"next_attempt_at": later}, release=True
    )
    assert (await store.get("c1:c"))["lock_owner"] is None, "released in the same write"
    # a: a worker could not claim it (b's owner, say) and left a hint for when the lock ends
    await store.schedule("c1:a", clock())
    assert [doc_id for doc_id, _ in await store.due(10)] == ["c1:a"]
    clock.advance(31)
    due = dict(await store.due(10))
    assert sorted(due) == ["c1:a", "c1:c"]
    # a is finished now: its hint goes; c still waits (a newer attempt time): moved there
    a = await store.claim("c1:a")
    assert await store.finish("c1:a", a["lock_owner"], 1)
    await store.settle("c1:a", due["c1:a"])
    even_later = clock() + timedelta(seconds=60)
    await store.orders.update_one({"_id": "c1:c"}, {"$set": {"next_attempt_at": even_later}})
    await store.settle("c1:c", due["c1:c"])
    assert await store.due(10) == []
    clock.advance(61)
    assert [doc_id for doc_id, _ in await store.due(10)] == ["c1:c"]


async def test_settling_keeps_a_hint_someone_wrote_meanwhile(store, clock) -> None:
    await store.receive(event(1))
    doc = await store.claim("c1:1001")
    await store.finish("c1:1001", doc["lock_owner"], 1)
    await store.schedule("c1:1001", clock())
    [(doc_id, seen)] = await store.due(10)
    await store.schedule("c1:1001", clock() + timedelta(seconds=5))  # another worker
    await store.settle(doc_id, seen)
    clock.advance(6)
    assert [d for d, _ in await store.due(10)] == ["c1:1001"]


async def test_the_safety_net_finds_due_orders_without_a_hint(store, clock) -> None:
    for ref in ("a", "b"):
        await store.receive(event(1, ref=ref))  # due now, no hint (a crash, say)
    await store.schedule("c1:b", clock())
    [(doc_id, seen)] = await store.unscheduled(10)
    assert doc_id == "c1:a"
    # Meanwhile the owner of a found it must wait 30 s: the net's stale view loses.
    await store.schedule("c1:a", clock() + timedelta(seconds=30))
    await store.schedule_if_missing("c1:a", seen)
    await store.schedule("c1:a", clock() + timedelta(seconds=600), unless_sooner=True)
    assert [d for d, _ in await store.due(10)] == ["c1:b"]
    clock.advance(31)
    assert sorted(d for d, _ in await store.due(10)) == ["c1:a", "c1:b"]


async def test_receive_returns_the_stored_document_for_a_claim_without_reading(store) -> None:
    received, doc = await store.receive_doc(event(1))
    assert received == Received.NEW and doc["revision"] == 1
    claimed = await store.claim("c1:1001", doc)
    assert claimed is not None and claimed["event"] == doc["event"]
    assert (await store.get("c1:1001"))["lock_owner"] == claimed["lock_owner"]
    assert await store.receive_doc(event(1)) == (Received.DUPLICATE, None)
    received, newer = await store.receive_doc(event(2, kind=OrderEventKind.AMENDED))
    assert received == Received.NEWER and newer["revision"] == 2
    assert await store.claim("c1:1001", newer) is None, "still owned"


async def test_new_settings_resume_held_and_settings_pending_orders(store, clock) -> None:
    for ref, state, reason in [
        ("held", State.HELD, "credentials_refused"),
        ("pending", State.WAITING, "settings_pending"),
        ("outage", State.WAITING, "octopus_unavailable"),
    ]:
        await store.receive(event(1, ref=ref))
        owner = (await store.claim(f"c1:{ref}"))["lock_owner"]
        await store.update_revision(
            f"c1:{ref}",
            owner,
            1,
            set_={"state": state.value, "reason_code": reason, "next_attempt_at": None},
        )
        await store.release(f"c1:{ref}", owner)
    assert await store.due(10) == []
    assert await store.resume_connection("c1") == 2
    assert sorted(doc_id for doc_id, _ in await store.due(10)) == ["c1:held", "c1:pending"]


async def test_a_connection_is_held_once_per_settings_version(mongo_db, clock) -> None:
    holds = HoldStore(mongo_db, clock)
    assert await holds.hold("c1", 1, "wrong password", [booking("alert-1")])
    assert not await holds.hold("c1", 1, "wrong password", [booking("alert-1")])
    held = await holds.held("c1")
    assert held["settings_version"] == 1 and held["reason"] == "wrong password"
    assert [i for i, _ in outbox_items(held)] == ["alert-1"]
    assert not await holds.release("c1", 1), "the same settings do not release it"
    assert await holds.release("c1", 2)
    assert await holds.held("c1") is None
    assert await holds.hold("c1", 2, "still wrong", [booking("alert-2")])
    assert (await holds.held("c1"))["settings_version"] == 2
    assert not await holds.hold("c1", 1, "stale settings", [booking("alert-1")])
    assert (await holds.held("c1"))["settings_version"] == 2


async def test_of_many_concurrent_claims_exactly_one_wins(mongo_db, clock) -> None:
    # Several clients, as replicas would be: FerretDB 1.x applies conditional updates
    # non-atomically under concurrency, so the claim must not rely on one.
    await ensure_indexes(mongo_db, INDEXES)
    stores = [OrderStore(mongo_db, lock_seconds=60, clock=clock, owner=f"w{i}") for i in range(8)]
    await stores[0].receive(event(1))
    for _ in range(10):
        won = await asyncio.gather(*(store.claim("c1:1001") for store in stores))
        winners = [doc for doc in won if doc is not None]
        assert len(winners) == 1
        await stores[0].release("c1:1001", winners[0]["lock_owner"])


async def test_a_restore_is_announced_once(mongo_db, clock) -> None:
    holds = HoldStore(mongo_db, clock)
    await holds.hold("c1", 1, "wrong password", [booking("broken-1")])
    assert not await holds.restored("c1", [booking("restored-2")]), "still held"
    await holds.release("c1", 2)
    restore = [holds.restored("c1", [booking("restored-2")]) for _ in range(6)]
    results = await asyncio.gather(*restore)
    assert results.count(True) == 1
    assert not await holds.restored("c1", [booking("restored-2")])
