"""The ledger contract: what every ledger adapter must do against its own sandbox, driven
by the real runtime. Subclass `LedgerContract` in a ledger service's tests and provide
the fixture `harness` (a `LedgerHarness`); file ledgers mark the cases that do not apply
with `not_applicable` (and say why in their README)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from koppel_contracts import (
    AlertKind,
    BookingStatus,
    CheckOutcome,
    FailureKind,
    OrderEventKind,
)
from koppel_testkit import line

from ..adapter import DraftRequest, LedgerAdapter, LedgerSession
from ..records import LedgerDoc, State
from .contract_batch import BatchContract, SimulatedCrash
from .contract_ops import OperationsContract
from .driver import Driver, LedgerHarness, event, ours


@dataclass
class _CrashingSession:
    inner: LedgerSession

    async def create(self, draft: LedgerDoc) -> LedgerDoc:
        await self.inner.create(draft)
        raise SimulatedCrash()

    async def prepare(self, request: DraftRequest, *, number: str | None = None) -> LedgerDoc:
        return await self.inner.prepare(request, number=number)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@dataclass
class _CrashAfterCreate:
    inner: LedgerAdapter

    def session(self, connection_id: str, settings: Any) -> Any:
        return _CrashingSession(self.inner.session(connection_id, settings))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class LedgerContract(OperationsContract, BatchContract):
    """Exactly once, whatever the ledger does. Each test starts with an empty ledger."""

    not_applicable: frozenset[str] = frozenset()

    @pytest.fixture
    async def driver(self, harness: LedgerHarness) -> AsyncIterator[Driver]:
        driver = Driver(harness.adapter)
        await driver.connect(harness.settings())
        yield driver

    def _skip_unless_applicable(self, name: str) -> None:
        if name in self.not_applicable:
            pytest.xfail(f"{name}: does not apply to this ledger (see its README)")

    # ---- the happy path and replays -------------------------------------------------------

    async def test_an_order_becomes_one_document_with_a_matching_check(
        self, driver: Driver, harness: LedgerHarness
    ) -> None:
        record = await driver.order(event("c1"))
        assert record.state == State.VERIFIED, record.failure
        [booking] = driver.bookings()
        assert booking.status == BookingStatus.BOOKED and booking.ledger_ref is not None
        [check] = driver.checks()
        assert check.outcome == CheckOutcome.MATCHED, check.details
        assert check.expected_total_incl_vat == check.booked_total_incl_vat
        [held] = ours(await harness.documents(), "WEB-c1")
        assert held.total_incl_vat == record.event.order.totals.total_incl_vat

    async def test_the_same_events_replayed_book_nothing_twice(
        self, driver: Driver, harness: LedgerHarness
    ) -> None:
        for _ in range(3):
            await driver.order(event("c2"))
        driver.restart()  # a replay after a restart (or on another replica)
        await driver.order(event("c2"))
        await driver.later(120)
        assert len(ours(await harness.documents(), "WEB-c2")) == 1
        assert [b.status for b in driver.bookings()] == [BookingStatus.BOOKED]

    async def test_a_crash_after_create_and_before_record_leaves_one_document(
        self, driver: Driver, harness: LedgerHarness
    ) -> None:
        driver.adapter = _CrashAfterCreate(harness.adapter)  # type: ignore[assignment]
        driver.restart()
        with pytest.raises(SimulatedCrash):
            await driver.order(event("c3"))
        assert len(ours(await harness.documents(), "WEB-c3")) == 1
        assert driver.bookings() == [], "nothing recorded, nothing published"
        driver.adapter = harness.adapter
        driver.restart()
        record = await driver.order(event("c3"))  # Kafka redelivers the uncommitted event
        assert record.state == State.VERIFIED
        assert len(ours(await harness.documents(), "WEB-c3")) == 1
        assert [b.status for b in driver.bookings()] == [BookingStatus.BOOKED]

    async def test_a_number_someone_else_holds_is_never_booked_over(
        self, driver: Driver, harness: LedgerHarness
    ) -> None:
        self._skip_unless_applicable("number_taken")
        await driver.order(event("c4a"))
        await harness.take_number_of("WEB-c4b")
        before = await harness.documents()
        record = await driver.order(event("c4b"))
        after = await harness.documents()
        assert [d for d in before if d not in after] == [], "nothing overwritten"
        if harness.numbers_are_ours:
            assert record.state == State.VERIFIED
            assert len(ours(after, "WEB-c4b")) == 1
        else:
            assert record.state == State.FAILED and record.reason_code == "number_taken"
            assert record.failure is not None and record.failure.suggestion

    async def test_a_read_back_difference_is_a_mismatch(
        self, driver: Driver, harness: LedgerHarness
    ) -> None:
        self._skip_unless_applicable("read_back_difference")
        await harness.tamper_next(Decimal("1.00"))
        record = await driver.order(event("c5"))
        assert record.state == State.MISMATCH
        [check] = driver.checks()
        assert check.outcome == CheckOutcome.MISMATCH and check.difference == Decimal("1.00")
        assert check.details

    # ---- the ledger refusing or unavailable -----------------------------------------------

    async def test_refused_credentials_hold_the_connection_until_new_settings(
        self, driver: Driver, harness: LedgerHarness
    ) -> None:
        self._skip_unless_applicable("credentials")
        await driver.order(event("c6a"))
        fixed = await harness.refuse_credentials()
        first = await driver.order(event("c6b"))
        second = await driver.order(event("c6c"))
        assert (first.state, second.state) == (State.HELD, State.HELD)
        broken = [a for a in driver.alerts() if a.kind == AlertKind.CONNECTION_BROKEN]
        assert len(broken) == 1 and broken[0].order_ref is None
        await driver.connect(fixed, version=2)
        await driver.later(1)
        for ref in ("c6b", "c6c"):
            assert (await driver.record(ref)).state == State.VERIFIED
        assert len(ours(await harness.documents(), "WEB-c6b")) == 1
        restored = [a for a in driver.alerts() if a.kind == AlertKind.CONNECTION_RESTORED]
        assert len(restored) == 1

    async def test_a_429_with_retry_after_waits_that_long(
        self, driver: Driver, harness: LedgerHarness
    ) -> None:
        self._skip_unless_applicable("unavailable")
        await harness.fail_creates(429, times=1, retry_after=40)
        record = await driver.order(event("c7"))
        assert record.state == State.WAITING
        assert record.next_attempt_at is not None
        assert (record.next_attempt_at - driver.clock()).total_seconds() >= 40
        await driver.later(41)
        assert (await driver.record("c7")).state == State.VERIFIED
        assert len(ours(await harness.documents(), "WEB-c7")) == 1

    async def test_5xx_and_timeouts_wait_and_end_as_a_persistent_failure(
        self, driver: Driver, harness: LedgerHarness
    ) -> None:
        self._skip_unless_applicable("unavailable")
        await harness.fail_creates(503, times=1)
        await harness.time_out_creates(times=1)
        record = await driver.order(event("c8a"))
        assert record.state == State.WAITING and record.reason_code == "ledger_unavailable"
        await driver.later(61)  # the second attempt times out
        await driver.later(121)  # the third books
        assert (await driver.record("c8a")).state == State.VERIFIED
        assert len(ours(await harness.documents(), "WEB-c8a")) == 1

        await harness.fail_creates(503, times=1000)
        await driver.order(event("c8b"))
        for _ in range(8):
            await driver.later(900)
        failed = await driver.record("c8b")
        assert failed.state == State.FAILED and failed.failure is not None
        assert failed.failure.kind == FailureKind.TRANSIENT and failed.failure.persistent
        alerts = [a for a in driver.alerts() if a.kind == AlertKind.PERSISTENT_FAILURE]
        assert [a.order_ref for a in alerts] == ["c8b"]
        assert ours(await harness.documents(), "WEB-c8b") == []

    async def test_a_permanent_refusal_has_a_reason_and_a_suggestion(
        self, driver: Driver, harness: LedgerHarness
    ) -> None:
        await driver.connect(harness.unknown_account(), version=2)
        record = await driver.order(event("c9"))
        assert record.state == State.FAILED and record.failure is not None
        assert record.failure.kind == FailureKind.PERMANENT
        assert record.failure.reason and record.failure.suggestion
        assert record.failure.reason != record.failure.suggestion
        assert ours(await harness.documents(), "WEB-c9") == []

    async def test_a_vat_code_of_another_percentage_is_refused_before_booking(
        self, driver: Driver, harness: LedgerHarness
    ) -> None:
        await driver.connect(harness.wrong_vat_code(), version=2)
        order = event("c10", lines=[line("Koffiebonen", "2", "9.95", "9")])
        record = await driver.order(order)
        assert record.state == State.FAILED
        assert record.reason_code == "vat_code_rate_mismatch", record.failure
        assert record.failure is not None and "9" in record.failure.reason
        assert ours(await harness.documents(), "WEB-c10") == []

    # ---- revisions ------------------------------------------------------------------------

    async def test_an_amendment_is_booked_as_the_new_total(
        self, driver: Driver, harness: LedgerHarness
    ) -> None:
        await driver.order(event("c11"))
        amended = event(
            "c11", revision=2, kind=OrderEventKind.AMENDED, lines=[line("Mok", "2", "12.10", "21")]
        )
        record = await driver.order(amended)
        assert record.state == State.VERIFIED
        net = sum(d.total_incl_vat for d in ours(await harness.documents(), "WEB-c11"))
        assert net == amended.order.totals.total_incl_vat
        assert driver.bookings()[-1].status == BookingStatus.REPLACED

    async def test_a_cancellation_is_credited(self, driver: Driver, harness: LedgerHarness) -> None:
        await driver.order(event("c12"))
        record = await driver.order(event("c12", revision=2, kind=OrderEventKind.CANCELLED))
        assert record.state == State.CREDITED
        documents = ours(await harness.documents(), "WEB-c12")
        assert sum(d.total_incl_vat for d in documents) == 0
        assert any(d.credit for d in documents)
        assert driver.bookings()[-1].status == BookingStatus.CREDITED
        [credit_check] = driver.checks()[1:]
        assert credit_check.outcome == CheckOutcome.MATCHED
