"""A customer's key, and how it travels and rests: wrapped with the platform key.

A `CustomerKey` is a Fernet key with a random id. It never leaves a process unwrapped: on
the topic and in every database it is an `enc:v1:` ciphertext made with the platform key
(`privacy_box`), unwrapped only in memory when an order is sealed or revealed.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import Fernet
from koppel_chassis import SecretBox
from pydantic import SecretStr


@dataclass(frozen=True)
class CustomerKey:
    key_id: str
    secret: SecretStr = field(repr=False)

    @classmethod
    def generate(cls) -> CustomerKey:
        # Random, not derived from the customer: the id outlives the erasure (the marker on
        # the topic), and must then say nothing about whom it belonged to.
        return cls(uuid.uuid4().hex, SecretStr(Fernet.generate_key().decode()))

    def fernet(self) -> Fernet:
        return Fernet(self.secret.get_secret_value().encode())

    def wrapped(self, box: SecretBox) -> str:
        return box.encrypt(self.secret.get_secret_value())

    @classmethod
    def unwrap(cls, key_id: str, wrapped: str, box: SecretBox) -> CustomerKey:
        """Raises `koppel_chassis.SecretUnreadable` when the platform key does not fit."""
        return cls(key_id, box.decrypt(wrapped))


def privacy_box(settings: Any) -> SecretBox:
    """The platform key that wraps customer keys: the `privacy` entry of `secrets_keys` where
    a service has keys per system, else `secrets_key`."""
    per_system = getattr(settings, "secrets_keys", None) or {}
    own = per_system.get("privacy")
    return SecretBox(own if own is not None else settings.secrets_key)


def normalized_email(email: str) -> str:
    return email.strip().lower()


def subject_digest(connection_id: str, *, email: str | None, order_ref: str) -> str:
    """Who a key belongs to: the customer's e-mail within the connection, or — a customer
    without e-mail — the order. A digest, so the ingest's index of subjects holds no e-mail."""
    who = f"email|{normalized_email(email)}" if email else f"order|{order_ref}"
    return hashlib.sha256(f"koppel-privacy|{connection_id}|{who}".encode()).hexdigest()
