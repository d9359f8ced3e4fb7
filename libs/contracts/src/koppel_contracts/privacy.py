"""Customer keys on the compacted `privacy.keys.v1` topic, keyed `connection_id:key_id`.

Every customer of a connection has a key of their own (`koppel_privacy`); the order events
carry the customer's personal data encrypted with it (`CanonicalOrder.personal_data`). A
key is published once as `active` by the ingest service that first needs it, and replaced
by an `erased` marker when the customer is erased (on request, `koppel privacy erase`, or
when the connection's retention period has passed). Compaction then drops the key itself;
the marker, which carries nothing but a random id, tells every service that the key is
gone for good rather than not arrived yet.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, Self

from pydantic import Field, model_validator

from .connection import EncryptedSecret
from .envelope import Envelope, SourceSystem, make_event_id, utcnow


class CustomerKeyState(StrEnum):
    ACTIVE = "active"
    ERASED = "erased"


class ErasureReason(StrEnum):
    REQUEST = "request"  # the customer (through the merchant) asked: koppel privacy erase
    RETENTION = "retention"  # the connection's retention period after the last order passed


class CustomerKeyEvent(Envelope):
    """One customer's key, or the marker that it was erased."""

    event_type: Literal["customer_key"] = "customer_key"
    schema_version: Literal[1] = 1
    key_id: str = Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="Random, not derived"
    )
    state: CustomerKeyState
    key: EncryptedSecret | None = Field(
        default=None,
        description="The customer's Fernet key, encrypted with the platform key; None once erased",
    )
    subject: EncryptedSecret | None = Field(
        default=None,
        description="Whose key it is: a digest of the connection and the customer's e-mail (or "
        "order), encrypted with the platform key, so an operator can find a customer's keys by "
        "e-mail; None once erased",
    )
    erased_because: ErasureReason | None = None

    @model_validator(mode="after")
    def _key_only_while_active(self) -> Self:
        if self.state == CustomerKeyState.ACTIVE and (self.key is None or self.subject is None):
            raise ValueError("an active customer key carries its key and subject")
        if self.state == CustomerKeyState.ERASED and (
            self.key is not None or self.subject is not None
        ):
            raise ValueError("an erased customer key carries neither key nor subject")
        return self

    @classmethod
    def active(
        cls, connection_id: str, key_id: str, key: str, subject: str, source: SourceSystem
    ) -> CustomerKeyEvent:
        return cls(
            event_id=make_event_id("customer_key", connection_id, key_id, "active"),
            occurred_at=utcnow(),
            connection_id=connection_id,
            source_system=source,
            key_id=key_id,
            state=CustomerKeyState.ACTIVE,
            key=key,
            subject=subject,
        )

    @classmethod
    def erased(
        cls, connection_id: str, key_id: str, reason: ErasureReason, source: SourceSystem
    ) -> CustomerKeyEvent:
        return cls(
            event_id=make_event_id("customer_key", connection_id, key_id, "erased"),
            occurred_at=utcnow(),
            connection_id=connection_id,
            source_system=source,
            key_id=key_id,
            state=CustomerKeyState.ERASED,
            erased_because=reason,
        )
