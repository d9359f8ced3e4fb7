"""Following `privacy.keys.v1` into a service's own key store, and acting on erasures.

`follow_customer_keys(service, box, store, on_erased=[...])` subscribes the service (its own
consumer group, purpose `privacy-keys`). An active key is stored (wrapped); an erasure first
runs the service's hooks — each blanks the personal data the service holds in plaintext
(read models, debtor e-mails) and is given the key as it was, to reveal what it holds
sealed — and then stores the erasure. A hook that fails leaves the key in place and the
message is redelivered, so the hooks run again until they all went through (they must be
idempotent). A tombstone on the topic counts as an erasure.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from faststream.kafka import KafkaMessage
from koppel_chassis import SecretBox, SecretUnreadable, Service, decoded
from koppel_contracts import PRIVACY_KEYS, CustomerKeyEvent, CustomerKeyState

from .keys import CustomerKey
from .store import KeyStore

log = logging.getLogger(__name__)

# (connection id, key id, the key until now — None when this service never had it)
ErasedHook = Callable[[str, str, CustomerKey | None], Awaitable[None]]


async def erase(
    store: KeyStore | None,
    box: SecretBox,
    connection_id: str,
    key_id: str,
    hooks: Sequence[ErasedHook],
) -> None:
    previous: CustomerKey | None = None
    stored = await store.get(key_id) if store is not None else None
    if stored is not None and stored.wrapped is not None:
        try:
            previous = CustomerKey.unwrap(key_id, stored.wrapped, box)
        except SecretUnreadable:
            log.warning("customer key does not unwrap with the platform key", extra={"key": key_id})
    for hook in hooks:
        await hook(connection_id, key_id, previous)
    if store is not None:
        await store.erase(connection_id, key_id)
    log.info("customer key erased", extra={"connection_id": connection_id, "key_id": key_id})


def follow_customer_keys(
    service: Service,
    box: SecretBox,
    store: KeyStore | None,
    *,
    on_erased: Sequence[ErasedHook] = (),
) -> None:
    """Keep `store` (None: a service that keeps no keys, only acts on erasures) in step with
    the topic, and run `on_erased` for every erased key."""
    hooks = list(on_erased)

    @service.subscriber(PRIVACY_KEYS, purpose="privacy-keys")
    async def handle_customer_key(msg: KafkaMessage) -> None:
        if not msg.body:
            raw_key = msg.raw_message.key  # type: ignore[union-attr]
            connection_id, _, key_id = (raw_key or b"").decode().partition(":")
            if key_id:
                await erase(store, box, connection_id, key_id, hooks)
            return
        event = await decoded(msg, CustomerKeyEvent)
        if event.state == CustomerKeyState.ERASED:
            await erase(store, box, event.connection_id, event.key_id, hooks)
        elif store is not None:
            await store.apply(event)
