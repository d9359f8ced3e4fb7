"""KeyedLocks: one holder per key, other keys run alongside, nothing kept afterwards."""

from __future__ import annotations

import asyncio

from koppel_chassis import KeyedLocks


async def test_one_holder_per_key_and_keys_run_side_by_side() -> None:
    locks = KeyedLocks()
    inside: dict[str, int] = {"a": 0, "b": 0}
    most: dict[str, int] = {"a": 0, "b": 0}
    both_keys_at_once = asyncio.Event()

    async def work(key: str) -> None:
        async with locks.hold(key):
            inside[key] += 1
            most[key] = max(most[key], inside[key])
            if inside["a"] and inside["b"]:
                both_keys_at_once.set()
            await asyncio.sleep(0.01)
            inside[key] -= 1

    await asyncio.gather(*(work(key) for key in "abababab"))
    assert most == {"a": 1, "b": 1}
    assert both_keys_at_once.is_set()
    assert len(locks) == 0, "no lock is kept for a key nobody holds"


async def test_a_failing_holder_lets_the_next_one_in() -> None:
    locks = KeyedLocks()
    order: list[str] = []

    async def fails() -> None:
        async with locks.hold("order-1"):
            order.append("first")
            raise RuntimeError("boom")

    async def waits() -> None:
        async with locks.hold("order-1"):
            order.append("second")

    results = await asyncio.gather(fails(), waits(), return_exceptions=True)
    assert isinstance(results[0], RuntimeError)
    assert order == ["first", "second"] and len(locks) == 0
