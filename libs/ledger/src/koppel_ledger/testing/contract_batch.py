"""The ledger contract, part three: batch mode — what one Kafka fetch delivers, booked
concurrently — against the ledger's sandbox, including a crash in the middle of a batch."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from koppel_contracts import BookingStatus, OrderEventKind
from koppel_testkit import line

from ..adapter import DraftRequest, LedgerAdapter, LedgerSession, ReadBack
from ..records import LedgerDoc, State
from .driver import Driver, LedgerHarness, event, ours


class SimulatedCrash(BaseException):
    """The process died (not an Exception: nothing in the runtime may catch it)."""


@dataclass
class _Death:
    """After the `at`-th create the process is dead: every ledger call still in flight
    loses its answer and no later call is made."""

    at: int
    creates: int = 0
    dead: bool = False

    def check(self) -> None:
        if self.dead:
            raise SimulatedCrash()


@dataclass
class _DyingSession:
    inner: LedgerSession
    death: _Death

    async def prepare(self, request: DraftRequest, *, number: str | None = None) -> LedgerDoc:
        self.death.check()
        found = await self.inner.prepare(request, number=number)
        self.death.check()
        return found

    async def create(self, draft: LedgerDoc) -> LedgerDoc:
        self.death.check()
        created = await self.inner.create(draft)
        self.death.creates += 1
        self.death.dead = self.death.dead or self.death.creates >= self.death.at
        self.death.check()
        return created

    async def read(self, doc: LedgerDoc) -> ReadBack | None:
        self.death.check()
        found = await self.inner.read(doc)
        self.death.check()
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@dataclass
class _DiesAfterCreates:
    inner: LedgerAdapter
    death: _Death = field(default_factory=lambda: _Death(at=1))

    def session(self, connection_id: str, settings: Any) -> Any:
        return _DyingSession(self.inner.session(connection_id, settings), self.death)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _booked_per_order(driver: Driver) -> Counter[str]:
    """Booking events per order, each event id once (a re-publish repeats its id)."""
    unique = {b.event_id: b for b in driver.bookings()}
    return Counter(b.order_ref for b in unique.values() if b.status == BookingStatus.BOOKED)


class BatchContract:
    async def test_a_batch_books_every_order_once_at_its_latest_revision(
        self, driver: Driver, harness: LedgerHarness
    ) -> None:
        amended = event(
            "b1", revision=2, kind=OrderEventKind.AMENDED, lines=[line("Mok", "2", "12.10", "21")]
        )
        refs = [f"b{i}" for i in range(1, 7)]
        # One fetch: six new orders, a newer revision of the first, a duplicate of another.
        events = [*(event(ref) for ref in refs), amended, event("b2")]
        records = await driver.batch(events)
        assert [r.state for r in records] == [State.VERIFIED] * 6, [r.failure for r in records]
        documents = await harness.documents()
        assert all(len(ours(documents, f"WEB-{ref}")) == 1 for ref in refs), documents
        [first] = ours(documents, "WEB-b1")
        assert first.total_incl_vat == amended.order.totals.total_incl_vat, "booked at rev 2"
        assert _booked_per_order(driver) == Counter(refs)

        await driver.batch(events)  # Kafka delivers the same batch again
        driver.restart()
        await driver.batch(events)  # ... and again to a restarted process
        await driver.later(120)
        assert await harness.documents() == documents
        assert _booked_per_order(driver) == Counter(refs)

    async def test_a_crash_in_the_middle_of_a_batch_leaves_one_document_per_order(
        self, driver: Driver, harness: LedgerHarness
    ) -> None:
        refs = [f"m{i}" for i in range(1, 9)]
        events = [event(ref) for ref in refs]
        dying = _DiesAfterCreates(harness.adapter, _Death(at=3))
        driver.adapter = dying  # type: ignore[assignment]
        driver.restart()
        with pytest.raises(SimulatedCrash):
            await driver.batch(events)
        assert dying.death.creates >= 3, "crashed after the third create"
        made = {ref: len(ours(await harness.documents(), f"WEB-{ref}")) for ref in refs}
        assert max(made.values()) == 1 and sum(made.values()) >= 3, made

        driver.adapter = harness.adapter
        driver.restart()
        await driver.batch(events)  # Kafka redelivers the uncommitted batch
        await driver.later(120)
        records = [await driver.record(ref) for ref in refs]
        assert [r.state for r in records] == [State.VERIFIED] * len(refs)
        documents = await harness.documents()
        assert {ref: len(ours(documents, f"WEB-{ref}")) for ref in refs} == dict.fromkeys(refs, 1)
        assert _booked_per_order(driver) == Counter(refs)
