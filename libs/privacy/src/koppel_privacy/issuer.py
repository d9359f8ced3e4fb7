"""The ingest's side: a key per customer, made when their first order is published, and
the connection's retention applied.

`KeyIssuer.seal(event)` seals an order event under its customer's key — creating the key
(and publishing it on `privacy.keys.v1`, before the order) when the customer is new. The
key is published before the order that needs it, so a consumer meets an unknown key only
briefly (the two topics are read independently) and waits for it.

`KeyIssuer.expire(connections, now)` erases the keys of customers whose last order is older
than their connection's retention (`privacy.retention_years`): it publishes the erasure
marker, which every service acts on, and forgets the customer.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from koppel_chassis import SecretBox
from koppel_contracts import (
    PRIVACY_KEYS,
    ConnectionSettings,
    CustomerKeyEvent,
    Envelope,
    ErasureReason,
    OrderEvent,
    SourceSystem,
    Topic,
)

from .erasure import retention_cutoff
from .keys import CustomerKey, subject_digest
from .sealing import SEALED_SCHEMA_VERSION, seal_event
from .subjects import Subject, SubjectStore

log = logging.getLogger(__name__)

RETENTION_BATCH = 500


class Publisher(Protocol):
    async def publish(self, topic: Topic, event: Envelope) -> None: ...


class KeyIssuer:
    def __init__(
        self,
        subjects: SubjectStore,
        box: SecretBox,
        publisher: Publisher,
        source: SourceSystem,
    ) -> None:
        self.subjects = subjects
        self.box = box
        self.publisher = publisher
        self.source = source

    async def seal(self, event: OrderEvent) -> OrderEvent:
        """`event` with its order's personal data sealed under the customer's key. An order
        that is sealed already (the cancellation of a sealed order) stays as it is."""
        order = event.order
        if order.sealed:
            return event.model_copy(update={"schema_version": SEALED_SCHEMA_VERSION})
        digest = subject_digest(
            event.connection_id, email=order.customer.email, order_ref=event.order_ref
        )
        key = await self.key_for(event.connection_id, digest, order.placed_at)
        return seal_event(event, key)

    async def key_for(self, connection_id: str, digest: str, placed_at: datetime) -> CustomerKey:
        subject = await self.subjects.get(connection_id, digest)
        if subject is None:
            key = CustomerKey.generate()
            subject = await self.subjects.add(
                Subject(connection_id, digest, key.key_id, key.wrapped(self.box), placed_at)
            )
        if not subject.published:
            # Also when another worker made the key and has not published it yet (or
            # crashed before it did): the same key, published twice, is still one key.
            await self.publisher.publish(
                PRIVACY_KEYS,
                CustomerKeyEvent.active(
                    connection_id,
                    subject.key_id,
                    subject.wrapped,
                    self.box.encrypt(digest),
                    self.source,
                ),
            )
            await self.subjects.mark_published(subject)
        if placed_at > subject.last_order_at:
            await self.subjects.touch(subject, placed_at)
        return CustomerKey.unwrap(subject.key_id, subject.wrapped, self.box)

    async def forget(self, connection_id: str, key_id: str, _key: CustomerKey | None) -> None:
        """The erasure hook: the customer is forgotten; a later order starts a new key."""
        await self.subjects.forget_key(connection_id, key_id)

    async def expire(self, connections: Mapping[str, ConnectionSettings], now: datetime) -> int:
        """Erase the customers past their connection's retention; how many were erased."""
        erased = 0
        for connection_id, settings in connections.items():
            before = retention_cutoff(now, settings.privacy.retention_years)
            while True:
                batch = await self.subjects.expired(connection_id, before, RETENTION_BATCH)
                for subject in batch:
                    await self.publisher.publish(
                        PRIVACY_KEYS,
                        CustomerKeyEvent.erased(
                            connection_id, subject.key_id, ErasureReason.RETENTION, self.source
                        ),
                    )
                    await self.subjects.remove(subject)
                erased += len(batch)
                if len(batch) < RETENTION_BATCH:
                    break
        if erased:
            log.info("customers erased after their retention period", extra={"erased": erased})
        return erased
