"""Customers' names in the dashboard (`koppel_privacy`): orders arrive sealed; the name the
order pages show is revealed once, when the order event is taken into the read model, and
the timelines keep each event as it came — sealed.

On an erasure the name in the order's state becomes "Verwijderde klant"; the sealed copies
in the timelines stay, unreadable without the key. An order whose key has not arrived
waits (the event is redelivered) for `patience`; after that it is shown without a name
rather than holding up every order behind it on its partition.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from koppel_chassis import Service
from koppel_chassis.mongo import AsyncDatabase, Document
from koppel_contracts import CanonicalOrder, OrderEvent
from koppel_privacy import (
    ERASED_NAME,
    CustomerKey,
    KeyNotYetKnown,
    MongoKeyStore,
    Revealer,
    follow_customer_keys,
    privacy_box,
)

from .readmodel import SHOP_ORDERS

PATIENCE = timedelta(minutes=5)


class CustomerNames:
    def __init__(self, service: Service, patience: timedelta = PATIENCE) -> None:
        box = privacy_box(service.settings)
        self.revealer = Revealer(MongoKeyStore(service.db), box)
        self.db: AsyncDatabase[Document] = service.db
        self.patience = patience
        follow_customer_keys(service, box, self.revealer.store, on_erased=[self.erase])

    async def order(self, event: OrderEvent) -> CanonicalOrder:
        """The order with the customer's data, for the name on its pages (in memory only)."""
        try:
            return await self.revealer.reveal_order(event.order)
        except KeyNotYetKnown:
            if datetime.now(UTC) - event.occurred_at < self.patience:
                raise  # redelivered: the key is on its way
            return event.order  # sealed: no name

    async def erase(self, connection_id: str, key_id: str, _key: CustomerKey | None) -> None:
        # By key, not by `_id`: erasures are rare, the read model is not indexed per key.
        await self.db[SHOP_ORDERS].update_many(
            {"connection_id": connection_id, "state.privacy_key_id": key_id},
            {"$set": {"state.customer_name": ERASED_NAME}},
        )
