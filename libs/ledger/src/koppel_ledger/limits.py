"""How many ledger calls one connection has in flight at once.

In batch mode the runtime books many orders of one Kafka batch concurrently; a ledger
(and the merchant's administration in it) should not see all of them at the same moment.
Every session the runtime uses is wrapped: its document calls (create, read, replace,
find, renumber) wait for one of the connection's `connection_concurrency` slots.
Connections do not wait for each other. `prepare` takes no slot: it is mostly the
adapter's own work (its caches, MongoDB, drawing a number), and holding a slot through
it made the ledger wait for our database (measured: a realtime batch at a tenth of the
replay's speed when MongoDB answered slowly); the look-ups it makes in the ledger are
rare (a new customer, reference data) and the adapter's client limits them with
everything else. Rate limits are the ledger's own and live in its client (SnelStart's
per-minute budget and calls at once, Octopus' quotas answered with 429s, which quiet the
connection).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from koppel_chassis import ExternalError
from koppel_contracts import LedgerRef

from .adapter import DraftRequest, LedgerSession, ReadBack, Refusal
from .records import LedgerDoc


class ConnectionLimits:
    def __init__(self, per_connection: int) -> None:
        self.per_connection = per_connection
        self._slots: dict[str, asyncio.Semaphore] = {}

    def slots(self, connection_id: str) -> asyncio.Semaphore:
        found = self._slots.get(connection_id)
        if found is None:
            found = self._slots[connection_id] = asyncio.Semaphore(self.per_connection)
        return found

    def session(self, connection_id: str, session: LedgerSession) -> LedgerSession:
        return LimitedSession(session, self.slots(connection_id))


@dataclass
class LimitedSession:
    """A session whose calls take one of the connection's slots."""

    inner: LedgerSession
    slots: asyncio.Semaphore

    async def prepare(self, request: DraftRequest, *, number: str | None = None) -> LedgerDoc:
        return await self.inner.prepare(request, number=number)

    async def renumber(self, draft: LedgerDoc) -> LedgerDoc:
        async with self.slots:
            return await self.inner.renumber(draft)

    async def create(self, draft: LedgerDoc) -> LedgerDoc:
        async with self.slots:
            return await self.inner.create(draft)

    async def replace(self, current: LedgerDoc, draft: LedgerDoc) -> LedgerDoc:
        async with self.slots:
            return await self.inner.replace(current, draft)

    async def read(self, doc: LedgerDoc) -> ReadBack | None:
        async with self.slots:
            return await self.inner.read(doc)

    async def find(self, doc: LedgerDoc) -> list[ReadBack]:
        async with self.slots:
            return await self.inner.find(doc)

    async def forget_reference(self) -> None:
        await self.inner.forget_reference()

    def explain(self, error: ExternalError) -> Refusal | None:
        return self.inner.explain(error)

    def ledger_ref(self, doc: LedgerDoc) -> LedgerRef:
        return self.inner.ledger_ref(doc)

    def __getattr__(self, name: str) -> Any:
        # whatever else a session offers (tests, adapters' own helpers)
        return getattr(self.inner, name)
