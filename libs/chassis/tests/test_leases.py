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


async def test_expired_leases_and_tickets_are_purged(mongo_db) -> None:
    clock = Clock()
    a = LeaseStore(mongo_db["leases"], holder="a", clock=clock)
    b = LeaseStore(mongo_db["leases"], holder="b", clock=clock)
    await a.acquire("old", timedelta(seconds=1))
    clock.now += timedelta(seconds=2)
    assert await b.acquire("old", timedelta(seconds=1))  # leaves a takeover ticket
    clock.now += timedelta(hours=2)
    assert await a.purge_expired(grace=timedelta(hours=1)) == 2
    assert await mongo_db["leases"].count_documents({}) == 0


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
