"""Typed records of the ingest runtime, and their stored shape (`to_doc` / `from_doc` are
the only places that know it).

- `OrderRecord` — one order (`order_ref`: its first source id, stable across re-issues):
  the revision published last, its booking fingerprint, the order as published.
- `SourceOrder` — one id the shop gave an order: which order it belongs to, whether a
  re-issue replaced it, and what its list item looked like at the last poll.
- `Publication` — one claimed revision with its event: the outbox entry (see `store`).
- `ConnectionState` — per connection: settings version seen, poll schedule and cursor,
  webhook keys (encrypted), and why the connection is broken, if it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from koppel_chassis.mongo import Document
from koppel_contracts import OrderEvent

from .clock import aware


def key(connection_id: str, ident: object) -> str:
    return f"{connection_id}:{ident}"


@dataclass(frozen=True)
class OrderRecord:
    connection_id: str
    order_ref: str
    source_order_id: str  # the id that carries the order now
    placed_at: datetime
    order_number: str | None = None
    lookup_key: str | None = None  # how the shop finds the order's other ids (CCV: ordernumber)
    revision: int = 0
    fingerprint: str | None = None  # of what a ledger books, as last published
    cancelled: bool = False
    last_order: dict[str, Any] | None = None  # the canonical order as last published
    pending: int | None = None  # a revision whose event may not be on Kafka yet

    @property
    def id(self) -> str:
        return key(self.connection_id, self.order_ref)

    @property
    def published(self) -> bool:
        return self.revision > 0

    def to_doc(self) -> Document:
        return {
            "_id": self.id,
            "connection_id": self.connection_id,
            "order_ref": self.order_ref,
            "source_order_id": self.source_order_id,
            "placed_at": self.placed_at,
            "order_number": self.order_number,
            "lookup_key": self.lookup_key,
            "revision": self.revision,
            "fingerprint": self.fingerprint,
            "cancelled": self.cancelled,
            "last_order": self.last_order,
            "pending": self.pending,
        }

    @classmethod
    def from_doc(cls, doc: Document) -> OrderRecord:
        return cls(
            connection_id=doc["connection_id"],
            order_ref=doc["order_ref"],
            source_order_id=str(doc["source_order_id"]),
            placed_at=aware(doc["placed_at"]),
            order_number=doc.get("order_number"),
            lookup_key=doc.get("lookup_key"),
            revision=int(doc.get("revision") or 0),
            fingerprint=doc.get("fingerprint"),
            cancelled=bool(doc.get("cancelled")),
            last_order=doc.get("last_order"),
            pending=doc.get("pending"),
        )


@dataclass(frozen=True)
class SourceOrder:
    connection_id: str
    source_order_id: str
    order_ref: str
    fingerprint: str | None = None  # of the list item, as the last poll saw it
    superseded_by: str | None = None

    @property
    def id(self) -> str:
        return key(self.connection_id, self.source_order_id)

    def to_doc(self) -> Document:
        return {
            "_id": self.id,
            "connection_id": self.connection_id,
            "source_order_id": self.source_order_id,
            "order_ref": self.order_ref,
            "fingerprint": self.fingerprint,
            "superseded_by": self.superseded_by,
        }

    @classmethod
    def from_doc(cls, doc: Document) -> SourceOrder:
        return cls(
            connection_id=doc["connection_id"],
            source_order_id=str(doc["source_order_id"]),
            order_ref=doc["order_ref"],
            fingerprint=doc.get("fingerprint"),
            superseded_by=doc.get("superseded_by"),
        )


@dataclass(frozen=True)
class Publication:
    """Revision `revision` of an order, claimed, with the event that announces it."""

    connection_id: str
    order_ref: str
    revision: int
    fingerprint: str
    source_order_id: str
    order: dict[str, Any]
    cancelled: bool
    event_json: str
    created_at: datetime

    @property
    def id(self) -> str:
        return f"{key(self.connection_id, self.order_ref)}#{self.revision}"

    @property
    def event(self) -> OrderEvent:
        return OrderEvent.model_validate_json(self.event_json)

    def to_doc(self) -> Document:
        return {
            "_id": self.id,
            "connection_id": self.connection_id,
            "order_ref": self.order_ref,
            "revision": self.revision,
            "fingerprint": self.fingerprint,
            "source_order_id": self.source_order_id,
            "order": self.order,
            "cancelled": self.cancelled,
            "event": self.event_json,
            "created_at": self.created_at,
        }

    @classmethod
    def from_doc(cls, doc: Document) -> Publication:
        return cls(
            connection_id=doc["connection_id"],
            order_ref=doc["order_ref"],
            revision=int(doc["revision"]),
            fingerprint=doc["fingerprint"],
            source_order_id=str(doc["source_order_id"]),
            order=doc["order"],
            cancelled=bool(doc["cancelled"]),
            event_json=doc["event"],
            created_at=aware(doc["created_at"]),
        )


@dataclass(frozen=True)
class WebhookKey:
    """A webhook the shop has for us, with the key its deliveries are signed with."""

    webhook_id: str
    event: str
    encrypted_key: str


@dataclass(frozen=True)
class ConnectionState:
    connection_id: str
    settings_version: int
    connected_at: datetime
    next_poll_at: datetime
    cursor: str | None = None  # where the last complete poll left off (the adapter's format)
    webhooks: tuple[WebhookKey, ...] = ()
    webhooks_address: str | None = None  # None: webhooks (still) to register
    broken_cause: str | None = None
    broken_reason: str | None = None

    @property
    def broken(self) -> bool:
        return self.broken_cause is not None

    def to_doc(self) -> Document:
        return {
            "_id": self.connection_id,
            "settings_version": self.settings_version,
            "connected_at": self.connected_at,
            "next_poll_at": self.next_poll_at,
            "cursor": self.cursor,
            "webhooks": [vars(hook) for hook in self.webhooks],
            "webhooks_address": self.webhooks_address,
            "broken": (
                {"cause_id": self.broken_cause, "reason_code": self.broken_reason}
                if self.broken_cause
                else None
            ),
        }

    @classmethod
    def from_doc(cls, doc: Document) -> ConnectionState:
        broken = doc.get("broken") or {}
        return cls(
            connection_id=doc["_id"],
            settings_version=int(doc["settings_version"]),
            connected_at=aware(doc["connected_at"]),
            next_poll_at=aware(doc["next_poll_at"]),
            cursor=doc.get("cursor"),
            webhooks=tuple(WebhookKey(**hook) for hook in doc.get("webhooks") or []),
            webhooks_address=doc.get("webhooks_address"),
            broken_cause=broken.get("cause_id"),
            broken_reason=broken.get("reason_code"),
        )


@dataclass(frozen=True)
class IngestFailure:
    """An order that could not be read, once per order and cause."""

    cause_id: str
    connection_id: str
    source_order_id: str
    order_ref: str
    reason: str
    failed_at: datetime = field(compare=False)
