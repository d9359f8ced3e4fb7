"""Fixtures: a bol sandbox per test (its own state, real sockets) and the harness the
ingest runtime's contract suite drives; `timed`, the same on a clock the test moves
together with the runtime's."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from koppel_chassis import SecretBox
from koppel_ingest import SetClock
from koppel_ingest.testing import Driver
from koppel_sandbox_bol import (
    DEMO_PRODUCTS,
    BolControl,
    BolState,
    Credentials,
    ManualClock,
    create_app,
)
from koppel_sandbox_kit import serve

from .bol_harness import BolHarness

# A Monday morning in winter time: bol's timestamps carry +01:00.
START = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)


@contextlib.asynccontextmanager
async def sandbox_harness(state: BolState, secrets_key: str) -> AsyncIterator[BolHarness]:
    account = state.add_account(name="Boekhandel De Bladwijzer")
    account.products = {p.ean: p for p in DEMO_PRODUCTS}
    credentials = Credentials(account.retailer_id, account.client_id, account.client_secret)
    async with serve(create_app(state)) as url, BolControl(url) as control:
        harness = BolHarness(url, control, credentials, SecretBox(secrets_key))
        try:
            yield harness
        finally:
            await harness.adapter.aclose()


@pytest.fixture
async def harness(secrets_key: str) -> AsyncIterator[BolHarness]:
    async with sandbox_harness(BolState(), secrets_key) as harness:
        yield harness


@dataclass
class Timed:
    """A sandbox and a runtime on one clock the test moves (`advance`)."""

    harness: BolHarness
    clock: ManualClock
    driver: Driver

    def advance(self, **delta: float) -> None:
        self.clock.advance(**delta)
        self.driver.clock.at = self.clock.now

    async def poll(self) -> None:
        """The poll interval passes on both clocks, and the poller runs."""
        self.advance(seconds=self.driver.policy.interval.total_seconds())
        await self.driver.runtime.run_once()

    async def connect(self, **options: object) -> None:
        await self.driver.connect(self.harness.settings(**options))


@pytest.fixture
async def timed(secrets_key: str) -> AsyncIterator[Timed]:
    clock = ManualClock(START)
    async with sandbox_harness(BolState(clock), secrets_key) as harness:
        harness.trigger = ["paid"]
        driver = Driver(harness.adapter, box=harness.box, clock=SetClock(START))
        yield Timed(harness, clock, driver)
        await driver.aclose()
