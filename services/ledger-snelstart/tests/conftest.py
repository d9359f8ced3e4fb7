"""Fixtures: the SnelStart sandbox on a real port; the adapter against it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from koppel_chassis import SecretBox
from koppel_ledger_snelstart import LedgerSnelStartSettings
from koppel_ledger_snelstart.adapter import SnelStartAdapter
from koppel_sandbox_kit import serve
from koppel_sandbox_snelstart import DEMO, UNLIMITED, SnelStartControl, SnelStartState, create_app


@dataclass
class SnelStart:
    url: str
    state: SnelStartState
    control: SnelStartControl


@pytest.fixture
async def snelstart() -> AsyncIterator[SnelStart]:
    state = SnelStartState.demo(limits=UNLIMITED)
    async with serve(create_app(state)) as url, SnelStartControl(url) as control:
        yield SnelStart(url, state, control)


FAST: dict[str, Any] = {
    "subscription_key": DEMO.subscription_key,
    "http_timeout_seconds": 1.0,
    "http_max_attempts": 2,
    "http_max_retry_seconds": 1.0,
    "http_initial_backoff_seconds": 0.01,
    "http_max_backoff_seconds": 0.05,
    "requests_per_minute": 60_000,
}


@pytest.fixture
async def adapter_for(secrets_key: str):
    made: list[SnelStartAdapter] = []

    def make(**overrides: Any) -> SnelStartAdapter:
        settings = LedgerSnelStartSettings(**{**FAST, **overrides})
        adapter = SnelStartAdapter(settings, None, SecretBox(secrets_key))
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        await adapter.aclose()
