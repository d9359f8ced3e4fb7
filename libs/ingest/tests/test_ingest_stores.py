"""The store contract against the in-memory twins and the real MongoDB-compatible server."""

from __future__ import annotations

import pytest
from koppel_chassis import LeaseStore, ensure_indexes
from koppel_ingest import SetClock
from koppel_ingest.memory import MemoryLeases, MemoryOrderStore, MemoryStateStore
from koppel_ingest.states import INDEXES as STATE_INDEXES
from koppel_ingest.states import MongoStateStore
from koppel_ingest.store import INDEXES, MongoOrderStore
from koppel_ingest.testing import StoreContract


class TestMemoryStores(StoreContract):
    @pytest.fixture
    def order_store(self) -> MemoryOrderStore:
        return MemoryOrderStore()

    @pytest.fixture
    def state_store(self) -> MemoryStateStore:
        return MemoryStateStore()

    @pytest.fixture
    def leases(self, clock: SetClock) -> MemoryLeases:
        return MemoryLeases("replica-a", clock)

    @pytest.fixture
    def other_leases(self, leases: MemoryLeases) -> MemoryLeases:
        return leases.replica("replica-b")


class TestMongoStores(StoreContract):
    @pytest.fixture
    async def order_store(self, mongo_db) -> MongoOrderStore:
        await ensure_indexes(mongo_db, [*INDEXES, *STATE_INDEXES])
        return MongoOrderStore(mongo_db)

    @pytest.fixture
    def state_store(self, mongo_db) -> MongoStateStore:
        return MongoStateStore(mongo_db)

    @pytest.fixture
    def leases(self, mongo_db, clock: SetClock) -> LeaseStore:
        return LeaseStore(mongo_db["leases"], holder="replica-a", clock=clock)

    @pytest.fixture
    def other_leases(self, mongo_db, clock: SetClock) -> LeaseStore:
        return LeaseStore(mongo_db["leases"], holder="replica-b", clock=clock)
