"""The key store and the ingest's subject store: MongoDB and the in-memory twin behave alike."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from koppel_chassis import SecretBox, generate_key
from koppel_contracts import CustomerKeyEvent, ErasureReason, SourceSystem
from koppel_privacy import (
    CustomerKey,
    MemoryKeyStore,
    MemorySubjectStore,
    MongoKeyStore,
    MongoSubjectStore,
    Subject,
)

BOX = SecretBox(generate_key())
T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.fixture(params=["memory", "mongodb"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def key_store(backend: str, request: pytest.FixtureRequest):
    if backend == "memory":
        return MemoryKeyStore()
    return MongoKeyStore(request.getfixturevalue("mongo_db"))


@pytest.fixture
def subject_store(backend: str, request: pytest.FixtureRequest):
    if backend == "memory":
        return MemorySubjectStore()
    return MongoSubjectStore(request.getfixturevalue("mongo_db"))


def active(key: CustomerKey, connection_id: str = "shop-1") -> CustomerKeyEvent:
    return CustomerKeyEvent.active(
        connection_id, key.key_id, key.wrapped(BOX), BOX.encrypt("digest"), SourceSystem.CCVSHOP
    )


def erased(key: CustomerKey, connection_id: str = "shop-1") -> CustomerKeyEvent:
    return CustomerKeyEvent.erased(
        connection_id, key.key_id, ErasureReason.REQUEST, SourceSystem.KOPPEL
    )


async def test_a_stored_key_unwraps_to_the_same_key(key_store) -> None:
    key = CustomerKey.generate()
    assert await key_store.apply(active(key))
    stored = await key_store.get(key.key_id)
    assert stored is not None and not stored.erased and stored.connection_id == "shop-1"
    assert stored.wrapped is not None
    assert key.secret.get_secret_value() not in stored.wrapped, "kept wrapped"
    assert CustomerKey.unwrap(key.key_id, stored.wrapped, BOX).secret == key.secret


async def test_an_erasure_is_final_even_when_the_key_is_replayed_after_it(key_store) -> None:
    key = CustomerKey.generate()
    await key_store.apply(active(key))
    assert await key_store.apply(erased(key))
    assert not await key_store.apply(active(key)), "a replayed key is refused"
    stored = await key_store.get(key.key_id)
    assert stored is not None and stored.erased and stored.wrapped is None


async def test_an_erasure_of_a_key_never_seen_is_remembered(key_store) -> None:
    key = CustomerKey.generate()
    await key_store.erase("shop-1", key.key_id)
    stored = await key_store.get(key.key_id)
    assert stored is not None and stored.erased
    assert await key_store.get("unknown") is None


def subject(digest: str = "d1", at: datetime = T0, connection_id: str = "shop-1") -> Subject:
    key = CustomerKey.generate()
    return Subject(connection_id, digest, key.key_id, key.wrapped(BOX), at)


async def test_two_workers_meeting_a_new_customer_keep_one_key(subject_store) -> None:
    first, second = subject(), subject()
    kept = await asyncio.gather(subject_store.add(first), subject_store.add(second))
    assert kept[0].key_id == kept[1].key_id
    stored = await subject_store.get("shop-1", "d1")
    assert stored is not None and stored.key_id == kept[0].key_id and not stored.published
    await subject_store.mark_published(stored)
    stored = await subject_store.get("shop-1", "d1")
    assert stored is not None and stored.published


async def test_the_last_order_only_moves_forward(subject_store) -> None:
    stored = await subject_store.add(subject())
    await subject_store.touch(stored, T0 + timedelta(days=3))
    await subject_store.touch(stored, T0 + timedelta(days=1))
    found = await subject_store.get("shop-1", "d1")
    assert found is not None and found.last_order_at == T0 + timedelta(days=3)


async def test_customers_past_a_moment_are_found_per_connection(subject_store) -> None:
    old = await subject_store.add(subject("old", T0 - timedelta(days=400)))
    await subject_store.add(subject("new", T0))
    await subject_store.add(subject("other", T0 - timedelta(days=400), "shop-2"))
    found = await subject_store.expired("shop-1", T0 - timedelta(days=1), 10)
    assert [s.digest for s in found] == ["old"]
    await subject_store.remove(old)
    assert await subject_store.expired("shop-1", T0 - timedelta(days=1), 10) == []


async def test_forgetting_a_key_forgets_its_customer_only(subject_store) -> None:
    one = await subject_store.add(subject("one"))
    await subject_store.add(subject("two"))
    assert await subject_store.forget_key("shop-1", one.key_id) == 1
    assert await subject_store.get("shop-1", "one") is None
    assert await subject_store.get("shop-1", "two") is not None
    assert await subject_store.forget_key("shop-1", one.key_id) == 0
