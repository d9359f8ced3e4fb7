"""The store contract against the in-memory twins and the real MongoDB-compatible server."""

from __future__ import annotations

import pytest
from koppel_chassis import ensure_indexes
from koppel_ledger.clock import ManualClock
from koppel_ledger.holds import MongoHoldStore
from koppel_ledger.memory import MemoryHoldStore, MemoryOrderStore
from koppel_ledger.store import INDEXES, MongoOrderStore
from koppel_ledger.testing import StoreContract


class TestMemoryStores(StoreContract):
    @pytest.fixture
    def order_store(self, clock: ManualClock) -> MemoryOrderStore:
        return MemoryOrderStore(lock_seconds=30, clock=clock)

    @pytest.fixture
    def hold_store(self, clock: ManualClock) -> MemoryHoldStore:
        return MemoryHoldStore(clock=clock)


class TestMongoStores(StoreContract):
    @pytest.fixture
    async def order_store(self, mongo_db, clock: ManualClock) -> MongoOrderStore:
        await ensure_indexes(mongo_db, INDEXES)
        return MongoOrderStore(mongo_db, lock_seconds=30, clock=clock)

    @pytest.fixture
    def hold_store(self, mongo_db, clock: ManualClock) -> MongoHoldStore:
        return MongoHoldStore(mongo_db, clock=clock)
