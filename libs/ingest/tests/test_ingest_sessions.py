"""The session cache: a session replaced by new settings stays open while work that holds
it finishes (found by the e2e migration test: a dry run failed with "the client has been
closed" when the connection's settings were published again meanwhile)."""

from __future__ import annotations

import asyncio

import pytest
from koppel_ingest import SessionCache, adapter


class Session:
    def __init__(self, name: str) -> None:
        self.name = name
        self.closed = False


async def close(session: Session) -> None:
    session.closed = True


async def test_a_replaced_session_is_closed_only_after_the_grace(monkeypatch) -> None:
    monkeypatch.setattr(adapter, "RETIRE_AFTER_SECONDS", 0.2)
    cache = SessionCache(close)
    old = await cache.get("c1", ("url", "key-1"), lambda: Session("old"))
    assert await cache.get("c1", ("url", "key-1"), lambda: Session("other")) is old, "kept"
    new = await cache.get("c1", ("url", "key-2"), lambda: Session("new"))
    assert new is not old and not old.closed, "still usable by work that holds it"
    await asyncio.sleep(0.4)
    assert old.closed and not new.closed
    await cache.drop("c1")
    assert not new.closed
    await asyncio.sleep(0.4)
    assert new.closed


@pytest.mark.parametrize("replaced", [True, False], ids=["retiring", "current"])
async def test_at_shutdown_every_session_is_closed_at_once(replaced: bool) -> None:
    cache = SessionCache(close)
    first = await cache.get("c1", "one", lambda: Session("first"))
    if replaced:
        await cache.get("c1", "two", lambda: Session("second"))
    await cache.aclose()
    assert first.closed
