"""Revealing at the point of use: the key looked up in the service's own key store.

A key that has not arrived yet (the order overtook its key: they travel on different
topics) is `KeyNotYetKnown`, a `TransientError`: a ledger's order waits and is retried, a
consumer's message is redelivered. Nothing is cached in memory: an erasure another replica
applied counts from the next reveal on.
"""

from __future__ import annotations

from koppel_chassis import SecretBox, SecretUnreadable, TransientError
from koppel_contracts import CanonicalOrder, OrderEvent

from .keys import CustomerKey
from .sealing import reveal_event, reveal_order
from .store import KeyStore


class KeyNotYetKnown(TransientError):
    """The order's key is not in this service's store (yet)."""


class PrivacyKeyMismatch(RuntimeError):
    """The customer key was wrapped with another platform key than this service has."""


class Revealer:
    def __init__(self, store: KeyStore, box: SecretBox) -> None:
        self.store = store
        self.box = box

    async def key(self, key_id: str) -> CustomerKey | None:
        """The customer's key; None when it was erased."""
        stored = await self.store.get(key_id)
        if stored is None:
            raise KeyNotYetKnown(f"customer key {key_id} has not arrived yet")
        if stored.erased or stored.wrapped is None:
            return None
        try:
            return CustomerKey.unwrap(key_id, stored.wrapped, self.box)
        except SecretUnreadable:
            # Not the customer's credentials, our configuration: every service that seals
            # or reveals needs the same privacy key (secrets_keys["privacy"]).
            raise PrivacyKeyMismatch(
                f"customer key {key_id} does not unwrap with this service's privacy key"
            ) from None

    async def reveal_order(self, order: CanonicalOrder) -> CanonicalOrder:
        if order.personal_data is None:
            return order
        return reveal_order(order, await self.key(order.personal_data.key_id))

    async def reveal_event(self, event: OrderEvent) -> OrderEvent:
        if event.order.personal_data is None:
            return event
        return reveal_event(event, await self.key(event.order.personal_data.key_id))
