"""The ledger contract, part two: what people do with a connection — "Verwerk" (book again
now), "Verwerk alle" and "Test verbinding" — against the ledger's sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest
from koppel_contracts import (
    AlertKind,
    ConnectionSettings,
    LedgerCommand,
    LedgerCommandKind,
    SourceSystem,
    make_event_id,
    order_key,
)

from ..commands import on_command
from ..connection_test import check_ledger
from ..records import State
from .driver import CONNECTION, Driver, LedgerHarness, event, ours


def command(
    now: datetime, order_ref: str | None = None, states: tuple[str, ...] = ("failed",)
) -> LedgerCommand:
    kind = LedgerCommandKind.RETRY_ORDER if order_ref else LedgerCommandKind.RETRY_ORDERS
    return LedgerCommand(
        event_id=make_event_id("test-command", str(order_ref), *states, now.isoformat()),
        occurred_at=now,
        connection_id=CONNECTION,
        source_system=SourceSystem.KOPPEL,
        kind=kind,
        order_ref=order_ref,
        states=list(states),
        requested_by="merchant@example.nl",
    )


@dataclass
class _SettingsStoredDuringTheLookUp:
    """The order's look-up finds no settings; right after it, and before the order is
    written as waiting, the settings are stored and their arrival handled — the race of
    the settings consumer and the orders consumer."""

    driver: Driver
    settings: ConnectionSettings
    version: int

    async def current(self, connection_id: str) -> tuple[ConnectionSettings, int] | None:
        if await self.driver.store.get(order_key(connection_id, "o0")) is not None:
            self.driver.runtime.connections = self.driver.connections  # once
            await self.driver.connect(self.settings, self.version)
        return None

    async def version_of(self, connection_id: str) -> int | None:
        return await self.driver.connections.version_of(connection_id)


class OperationsContract:
    not_applicable: frozenset[str] = frozenset()

    def _skip_unless_applicable(self, name: str) -> None:
        if name in self.not_applicable:
            pytest.xfail(f"{name}: does not apply to this ledger (see its README)")

    async def test_an_order_before_its_settings_is_booked_when_they_arrive(
        self, driver: Driver, harness: LedgerHarness
    ) -> None:
        settings, version = driver.connections.current_settings.pop(CONNECTION)
        record = await driver.order(event("o9"))
        assert record.state == State.WAITING and record.reason_code == "settings_pending"
        await driver.connect(settings, version)
        await driver.later(0)
        assert (await driver.record("o9")).state == State.VERIFIED, "no re-check awaited"

    async def test_settings_stored_while_an_order_decides_to_wait_book_it_without_delay(
        self, driver: Driver, harness: LedgerHarness
    ) -> None:
        settings, version = driver.connections.current_settings.pop(CONNECTION)
        race = _SettingsStoredDuringTheLookUp(driver, settings, version)
        driver.runtime.connections = race
        record = await driver.order(event("o0"))
        assert record.state == State.WAITING, "the order saw no settings"
        assert driver.runtime.connections is driver.connections, "the settings came meanwhile"
        await driver.later(0)
        assert (await driver.record("o0")).state == State.VERIFIED, "no re-check awaited"
        assert len(ours(await harness.documents(), "WEB-o0")) == 1

    async def test_verwerk_books_a_waiting_order_now_ahead_of_its_schedule(
        self, driver: Driver, harness: LedgerHarness
    ) -> None:
        self._skip_unless_applicable("unavailable")
        await harness.fail_creates(503, times=1)
        record = await driver.order(event("o1"))
        assert record.state == State.WAITING and record.next_attempt_at is not None
        assert record.next_attempt_at > driver.clock(), "scheduled for later"
        await on_command(driver.runtime, command(driver.clock(), "o1"))
        assert (await driver.record("o1")).state == State.VERIFIED, "no time passed"
        assert len(ours(await harness.documents(), "WEB-o1")) == 1
        await on_command(driver.runtime, command(driver.clock(), "o1"))  # pressed twice
        await driver.later(3600)
        assert len(ours(await harness.documents(), "WEB-o1")) == 1
        assert len(driver.bookings()) == 1

    async def test_verwerk_alle_takes_the_selected_orders_and_leaves_booked_ones(
        self, driver: Driver, harness: LedgerHarness
    ) -> None:
        self._skip_unless_applicable("unavailable")
        await driver.order(event("o2a"))
        await harness.fail_creates(503, times=2)
        for ref in ("o2b", "o2c"):
            assert (await driver.order(event(ref))).state == State.WAITING
        selected = await on_command(driver.runtime, command(driver.clock(), states=("waiting",)))
        assert sorted(s.split(":", 1)[1] for s in selected) == ["o2b", "o2c"]
        await driver.later(0)
        for ref in ("o2a", "o2b", "o2c"):
            assert (await driver.record(ref)).state == State.VERIFIED
            assert len(ours(await harness.documents(), f"WEB-{ref}")) == 1

    async def test_verwerk_on_a_held_order_tries_once_more_without_a_second_alert(
        self, driver: Driver, harness: LedgerHarness
    ) -> None:
        self._skip_unless_applicable("credentials")
        await harness.refuse_credentials()
        assert (await driver.order(event("o3"))).state == State.HELD
        await on_command(driver.runtime, command(driver.clock(), "o3"))
        assert (await driver.record("o3")).state == State.HELD, "still refused: held again"
        broken = [a for a in driver.alerts() if a.kind == AlertKind.CONNECTION_BROKEN]
        assert len(broken) == 1

    async def test_the_connection_test_lists_what_to_map_to(self, harness: LedgerHarness) -> None:
        problems, found = await check_ledger(harness.adapter, harness.settings())
        assert problems == [], problems
        assert found is not None and found.vat_codes
        mapped = {m.vat_code for m in harness.settings().ledger.booking.vat_accounts}
        assert mapped <= {c.code for c in found.vat_codes}

    async def test_the_connection_test_names_a_vat_code_of_another_percentage(
        self, harness: LedgerHarness
    ) -> None:
        problems, _ = await check_ledger(harness.adapter, harness.wrong_vat_code())
        assert problems and problems[0].code == "vat_code_rate_mismatch", problems
        assert problems[0].reason and problems[0].suggestion

    async def test_the_connection_test_names_a_missing_account(
        self, harness: LedgerHarness
    ) -> None:
        self._skip_unless_applicable("accounts")
        problems, _ = await check_ledger(harness.adapter, harness.unknown_account())
        expected = getattr(harness, "missing_account_code", "account_missing")
        assert expected in [p.code for p in problems], problems
        assert all(p.reason and p.suggestion for p in problems)

    async def test_the_connection_test_names_refused_credentials(
        self, harness: LedgerHarness
    ) -> None:
        self._skip_unless_applicable("credentials")
        refused = harness.settings()
        await harness.refuse_credentials()
        problems, found = await check_ledger(harness.adapter, refused)
        assert [p.code for p in problems] == ["credentials_refused"] and found is None
