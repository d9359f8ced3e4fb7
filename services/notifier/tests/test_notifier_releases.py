"""Which held orders a restore released, counted on the real MongoDB-compatible server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from koppel_chassis import ensure_indexes
from koppel_contracts import BookingStatus, FailureKind
from koppel_notifier.releases import INDEXES, Releases, Tally
from koppel_notifier.state import INDEXES as OUTBOX_INDEXES
from koppel_notifier.state import Channel, NewNotification, Outbox

from .support import booking_event

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HELD, BOOKED, FAILED = BookingStatus.HELD, BookingStatus.BOOKED, BookingStatus.FAILED


class ManualClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def _releases(mongo_db) -> tuple[Releases, Outbox, ManualClock]:
    await ensure_indexes(mongo_db, OUTBOX_INDEXES + INDEXES)
    clock = ManualClock()
    return Releases(mongo_db, clock), Outbox(mongo_db, clock), clock


async def _restore(outbox: Outbox, cause: str, occurred_at: datetime, due_at: datetime) -> str:
    note = NewNotification(
        connection_id="c1",
        cause_key=f"connection_restored:{cause}",
        kind="connection_restored",
        event_id=cause,
        occurred_at=occurred_at,
        item={"source_system": "octopus", "reason": "r", "suggestion": "s"},
        channel=Channel.SETTLE,
    )
    assert await outbox.record(note, due_at)
    return f"c1|{note.cause_key}"


async def test_held_orders_booked_afterwards_count_and_others_do_not(mongo_db) -> None:
    releases, _, _ = await _releases(mongo_db)
    for ref in ("1", "2", "3"):
        await releases.booking(booking_event("c1", ref, HELD, occurred_at=at(0)))
    await releases.booking(booking_event("c1", "1", HELD, occurred_at=at(5)))  # held again
    for ref in ("1", "2"):
        await releases.booking(booking_event("c1", ref, BOOKED, occurred_at=at(60)))
    await releases.booking(booking_event("c1", "9", BOOKED, occurred_at=at(60)))  # never held
    await releases.booking(booking_event("c2", "1", HELD, occurred_at=at(0)))  # other connection

    assert await releases.tally("c1", at(30)) == Tally(held=3, booked=2, waiting=1)
    assert await releases.tally("c1", at(-1)) == Tally(held=0, booked=0, waiting=0)


async def test_an_order_that_fails_for_good_stops_the_wait_a_transient_failure_does_not(
    mongo_db,
) -> None:
    releases, _, _ = await _releases(mongo_db)
    for ref in ("1", "2"):
        await releases.booking(booking_event("c1", ref, HELD, occurred_at=at(0)))
    await releases.booking(
        booking_event("c1", "1", FAILED, occurred_at=at(60), failure_kind=FailureKind.TRANSIENT)
    )
    await releases.booking(
        booking_event("c1", "2", FAILED, occurred_at=at(60), failure_kind=FailureKind.PERMANENT)
    )
    tally = await releases.tally("c1", at(30))
    assert tally == Tally(held=2, booked=0, waiting=1) and not tally.settled
    await releases.booking(booking_event("c1", "1", BOOKED, occurred_at=at(90)))
    tally = await releases.tally("c1", at(30))
    assert tally == Tally(held=2, booked=1, waiting=0) and tally.settled


async def test_a_later_restore_counts_only_the_orders_held_since_the_one_before(mongo_db) -> None:
    releases, outbox, _ = await _releases(mongo_db)
    await releases.booking(booking_event("c1", "1", HELD, occurred_at=at(0)))
    await _restore(outbox, "v2", at(10), at(20))
    await releases.booking(booking_event("c1", "1", BOOKED, occurred_at=at(11)))
    # Broken again: order 1 (amended) and order 2 are held, then released by v3.
    await releases.booking(booking_event("c1", "1", HELD, occurred_at=at(100)))
    await releases.booking(booking_event("c1", "2", HELD, occurred_at=at(101)))
    await _restore(outbox, "v3", at(110), at(120))
    for ref in ("1", "2"):
        await releases.booking(booking_event("c1", ref, BOOKED, occurred_at=at(111)))
    assert await releases.tally("c1", at(110)) == Tally(held=2, booked=2, waiting=0)


async def test_a_due_restore_waits_for_its_held_orders_then_gets_its_count(mongo_db) -> None:
    releases, outbox, clock = await _releases(mongo_db)
    await releases.booking(booking_event("c1", "1", HELD, occurred_at=at(-10)))
    await releases.booking(booking_event("c1", "2", HELD, occurred_at=at(-10)))
    note_id = await _restore(outbox, "v2", at(0), at(0))
    await releases.booking(booking_event("c1", "1", BOOKED, occurred_at=at(1)))
    notes = mongo_db["notifications"]
    wait, recheck = timedelta(seconds=600), timedelta(seconds=5)

    clock.now = at(1)
    await releases.settle("c1", wait=wait, recheck=recheck)
    note = await notes.find_one({"_id": note_id})
    assert "held_orders_booked" not in note["item"], "order 2 is still held"
    assert note["due_at"] == at(6)
    assert not await outbox.has_due("c1", clock.now)

    await releases.booking(booking_event("c1", "2", BOOKED, occurred_at=at(3)))
    clock.now = at(6)
    await releases.settle("c1", wait=wait, recheck=recheck)
    note = await notes.find_one({"_id": note_id})
    assert note["item"]["held_orders_booked"] == 2 and note["item"]["held_orders_waiting"] == 0


async def test_a_restore_stops_waiting_after_the_longest_wait(mongo_db) -> None:
    releases, outbox, clock = await _releases(mongo_db)
    await releases.booking(booking_event("c1", "1", HELD, occurred_at=at(-10)))
    note_id = await _restore(outbox, "v2", at(0), at(0))  # recorded at T0
    clock.now = at(601)
    await releases.settle("c1", wait=timedelta(seconds=600), recheck=timedelta(seconds=5))
    note = await mongo_db["notifications"].find_one({"_id": note_id})
    assert note["item"]["held_orders_booked"] == 0 and note["item"]["held_orders_waiting"] == 1
    assert await outbox.has_due("c1", clock.now)


async def test_held_orders_are_forgotten_with_the_history(mongo_db) -> None:
    releases, _, _ = await _releases(mongo_db)
    await releases.booking(booking_event("c1", "1", HELD, occurred_at=at(0)))
    await releases.booking(booking_event("c1", "2", HELD, occurred_at=at(100)))
    assert await releases.purge(at(50)) == 1
    assert await releases.tally("c1", at(200)) == Tally(held=1, booked=0, waiting=1)
