"""Leases against the real MongoDB-compatible server."""

import asyncio
from datetime import UTC, datetime, timedelta

from koppel_chassis import LeaseStore


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_only_one_holder_at_a_time_and_expiry_frees_it(mongo_db) -> None:
    clock = Clock()
    a = LeaseStore(mongo_db["leases"], holder="replica-a", clock=clock)
    b = LeaseStore(mongo_db["leases"], holder="replica-b", clock=clock)
    ttl = timedelta(seconds=30)

    assert await a.acquire("poll:shop-1", ttl)
    assert not await b.acquire("poll:shop-1", ttl)
    assert await b.acquire("poll:shop-2", ttl), "other connections stay free"
    assert await a.acquire("poll:shop-1", ttl), "re-acquiring our own lease is a renewal"
    assert await a.holder_of("poll:shop-1") == "replica-a"

    clock.now += timedelta(seconds=20)
    assert await a.renew("poll:shop-1", ttl)
    clock.now += timedelta(seconds=29)
    assert not await b.acquire("poll:shop-1", ttl), "renewed lease still held"

    clock.now += timedelta(seconds=2)  # replica-a died and stopped renewing
    assert await b.acquire("poll:shop-1", ttl)
    assert not await a.renew("poll:shop-1", ttl), "a lost lease cannot be renewed"


async def test_release_lets_another_replica_in_at_once(mongo_db) -> None:
    a = LeaseStore(mongo_db["leases"], holder="a")
    b = LeaseStore(mongo_db["leases"], holder="b")
    assert await a.acquire("x", timedelta(minutes=5))
    await b.release("x")  # releasing someone else's lease does nothing
    assert not await b.acquire("x", timedelta(minutes=5))
    await a.release("x")
    assert await b.acquire("x", timedelta(minutes=5))


async def test_a_lease_a_dead_replica_left_behind_is_purged(mongo_db) -> None:
    clock = Clock()
    a = LeaseStore(mongo_db["leases"], holder="a", clock=clock)
    b = LeaseStore(mongo_db["leases"], holder="b", clock=clock)
    await a.acquire("old", timedelta(seconds=1))
    clock.now += timedelta(seconds=2)
    assert await b.acquire("old", timedelta(seconds=1)), "taken over"
    assert await a.count() == 1, "a takeover leaves no ticket behind"
    clock.now += timedelta(minutes=30)  # b died too
    assert await a.purge_expired(grace=timedelta(hours=1)) == 0, "within the grace"
    clock.now += timedelta(hours=1)
    assert await a.purge_expired(grace=timedelta(hours=1)) == 1
    assert await a.count() == 0


async def test_many_poll_cycles_leave_no_documents_behind(mongo_db) -> None:
    clock = Clock()
    ttl = timedelta(seconds=30)
    replicas = [LeaseStore(mongo_db["leases"], holder=f"r{i}", clock=clock) for i in range(3)]
    for cycle in range(100):
        holder = replicas[cycle % 3]
        others = [r for r in replicas if r is not holder]
        assert await holder.acquire("poll:shop-1", ttl), f"cycle {cycle}"
        assert not any([await r.acquire("poll:shop-1", ttl) for r in others])
        assert await holder.count() == 1
        if cycle % 5 == 4:
            clock.now += ttl + timedelta(seconds=1)  # the holder died: the next takes over
        else:
            await holder.release("poll:shop-1")
            assert await holder.count() == 0, f"cycle {cycle}: released means gone"
        clock.now += timedelta(seconds=300)  # the next poll
    # Whatever the last cycle left (an expired lease of a dead holder) is one document.
    assert await replicas[0].count() <= 1


async def test_a_late_release_does_not_remove_the_lease_of_whoever_took_over(mongo_db) -> None:
    clock = Clock()
    a = LeaseStore(mongo_db["leases"], holder="a", clock=clock)
    b = LeaseStore(mongo_db["leases"], holder="b", clock=clock)
    ttl = timedelta(seconds=30)
    assert await a.acquire("poll:shop-1", ttl)
    clock.now += ttl + timedelta(seconds=1)
    assert await b.acquire("poll:shop-1", ttl)
    await a.release("poll:shop-1")  # a was slow, not dead
    assert await a.holder_of("poll:shop-1") == "b"
    assert not await a.acquire("poll:shop-1", ttl)


async def test_a_stale_takeover_cannot_steal_a_lease_released_and_taken_anew(mongo_db) -> None:
    clock = Clock()
    a = LeaseStore(mongo_db["leases"], holder="a", clock=clock)
    late = LeaseStore(mongo_db["leases"], holder="late", clock=clock)
    ttl = timedelta(seconds=30)
    assert await a.acquire("poll:shop-1", ttl)
    clock.now += ttl + timedelta(seconds=1)
    stale_read = await mongo_db["leases"].find_one({"_id": "poll:shop-1"})  # expired, gen 1
    assert await a.acquire("poll:shop-1", ttl), "a takes its own expired lease back"
    await a.release("poll:shop-1")
    assert await a.acquire("poll:shop-1", ttl), "a new incarnation, generation 1 again"
    assert stale_read is not None
    assert not await late._take_over("poll:shop-1", stale_read, clock.now, ttl)
    assert await a.holder_of("poll:shop-1") == "a"
    assert await a.count() == 1, "the failed takeover removed its ticket"


async def test_concurrent_replicas_never_share_a_lease(mongo_db) -> None:
    clock = Clock()
    replicas = [LeaseStore(mongo_db["leases"], holder=f"r{i}", clock=clock) for i in range(8)]
    ttl = timedelta(seconds=30)
    for _round in range(5):
        won = await asyncio.gather(*(r.acquire("poll:shop-1", ttl) for r in replicas))
        assert sum(won) == 1, won
        holder = await replicas[0].holder_of("poll:shop-1")
        assert holder == replicas[won.index(True)].holder
        clock.now += ttl + timedelta(seconds=1)  # the winner dies; the lease expires
