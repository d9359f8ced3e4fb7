"""Leases against the real MongoDB-compatible server."""

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


async def test_expired_leases_are_purged(mongo_db) -> None:
    clock = Clock()
    store = LeaseStore(mongo_db["leases"], holder="a", clock=clock)
    await store.acquire("old", timedelta(seconds=1))
    clock.now += timedelta(hours=2)
    assert await store.purge_expired(grace=timedelta(hours=1)) == 1
    assert await mongo_db["leases"].count_documents({}) == 0
