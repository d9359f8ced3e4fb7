"""The returns bol handled, per order, kept by this service.

bol lists returns on their own (`GET /retailer/returns`), newest first and without a
filter by order, while the order shows none of them. The poll reads the returns handled
since its last look and keeps each one's credited units here (`bol_returns`, one
document per order, `_id` = connection + order id, so reading an order's returns is one
lookup by `_id`); the mapping of an order then always sees all of its returns, however
long ago they were handled. Handling a return again replaces its result (bol's spec):
each return item (`rmaId`) is stored under its id, latest result wins.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Protocol

from koppel_chassis.mongo import AsyncDatabase, Document

from .orders import Returned

COLLECTION = "bol_returns"  # addressed by `_id` only: no indexes


class ReturnsStore(Protocol):
    async def record(self, connection_id: str, returned: list[Returned]) -> None: ...
    async def of_order(self, connection_id: str, order_id: str) -> list[Returned]: ...


class MemoryReturns:
    """The in-memory twin (tests, the contract driver)."""

    def __init__(self) -> None:
        self._orders: dict[tuple[str, str], dict[str, Returned]] = defaultdict(dict)

    async def record(self, connection_id: str, returned: list[Returned]) -> None:
        for item in returned:
            self._orders[(connection_id, item.order_id)][item.rma_id] = item

    async def of_order(self, connection_id: str, order_id: str) -> list[Returned]:
        found = self._orders.get((connection_id, order_id), {})
        return [found[rma] for rma in sorted(found)]


class MongoReturns:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db[COLLECTION]

    async def record(self, connection_id: str, returned: list[Returned]) -> None:
        by_order: dict[str, list[Returned]] = defaultdict(list)
        for item in returned:
            by_order[item.order_id].append(item)
        for order_id, items in by_order.items():
            # One writer per connection (the leased poll): a plain upsert is enough.
            await self.collection.update_one(
                {"_id": f"{connection_id}:{order_id}"},
                {
                    "$set": {
                        f"returns.{item.rma_id}": {"ean": item.ean, "quantity": item.quantity}
                        for item in items
                    }
                },
                upsert=True,
            )

    async def of_order(self, connection_id: str, order_id: str) -> list[Returned]:
        doc = await self.collection.find_one({"_id": f"{connection_id}:{order_id}"})
        returns: dict[str, Any] = (doc or {}).get("returns") or {}
        return [
            Returned(rma, order_id, str(data["ean"]), int(data["quantity"]))
            for rma, data in sorted(returns.items())
        ]
