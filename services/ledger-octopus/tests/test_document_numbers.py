"""Document numbers: no two workers, in any replica, book under the same number."""

import asyncio
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from koppel_ledger_octopus.reference import NUMBERS, ReferenceCache

DOSSIER = "35493"
KEY = f"{DOSSIER}:1:V1"


def replica(mongo_db: Any) -> ReferenceCache:
    return ReferenceCache(mongo_db, refresh=timedelta(hours=6))


async def test_two_replicas_drawing_at_once_never_get_the_same_number(mongo_db) -> None:
    # The counter exists, so no journal is read: the client only names the dossier.
    await mongo_db[NUMBERS].insert_one({"_id": KEY, "last": 0})
    client: Any = SimpleNamespace(account=SimpleNamespace(dossier_key=DOSSIER))
    replicas = [replica(mongo_db) for _ in range(3)]

    async def draws(cache: ReferenceCache, n: int) -> list[int]:
        return [await cache.next_document_nr(client, 1, "V1") for _ in range(n)]

    drawn = await asyncio.gather(*(draws(cache, 30) for cache in replicas))
    numbers = [number for one in drawn for number in one]
    assert len(numbers) == 90
    assert len(set(numbers)) == 90, sorted(numbers)


async def test_orders_of_a_batch_drawing_at_once_share_draws_and_never_share_a_number(
    mongo_db,
) -> None:
    await mongo_db[NUMBERS].insert_one({"_id": KEY, "last": 0})
    client: Any = SimpleNamespace(account=SimpleNamespace(dossier_key=DOSSIER))
    replicas = [replica(mongo_db) for _ in range(2)]
    increments: list[int] = []
    for cache in replicas:
        draw = cache.numbers.find_one_and_update

        async def counted(query: Any, update: Any, *args: Any, _draw: Any = draw, **kw: Any):
            increments.append(update["$inc"]["last"])
            return await _draw(query, update, *args, **kw)

        cache.numbers.find_one_and_update = counted  # type: ignore[method-assign]

    drawn = await asyncio.gather(
        *(cache.next_document_nr(client, 1, "V1") for cache in replicas for _ in range(40))
    )
    assert len(set(drawn)) == 80, sorted(drawn)
    assert len(increments) < 20, "the orders asking at once are served by a few draws"
