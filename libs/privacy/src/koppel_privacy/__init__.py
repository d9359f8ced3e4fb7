"""Customers' personal data in Koppel's events, sealed with a key per connection and
customer — so erasing the key makes it unreadable everywhere a copy went.

- `sealing` (pure): `seal_order` / `reveal_order` / `anonymous`, given the key;
- `keys`: `CustomerKey` (Fernet, random id), wrapped with the platform key (`privacy_box`),
  and the subject digest a key is found by;
- `store`: each service's copy of the keys (`MongoKeyStore`, `MemoryKeyStore`);
- `reveal`: `Revealer` — reveal at the point of use, `KeyNotYetKnown` when a key lags;
- `follower`: `follow_customer_keys(service, box, store, on_erased=[...])`;
- `subjects` + `issuer`: the ingest's side — a key per customer, retention;
- `erasure`: finding a customer's keys by e-mail, erasure markers, re-wrapping, the
  retention rule.
"""

from .erasure import Found, customer_keys, erasures, latest_keys, retention_cutoff, rewrapped
from .follower import ErasedHook, erase, follow_customer_keys
from .issuer import KeyIssuer
from .keys import CustomerKey, normalized_email, privacy_box, subject_digest
from .reveal import KeyNotYetKnown, PrivacyKeyMismatch, Revealer
from .sealing import (
    ERASED_NAME,
    SEALED_SCHEMA_VERSION,
    PersonalData,
    SealBroken,
    anonymous,
    is_erased,
    reveal_event,
    reveal_order,
    seal_event,
    seal_order,
)
from .store import COLLECTION, KeyStore, MemoryKeyStore, MongoKeyStore, StoredKey
from .subjects import MemorySubjectStore, MongoSubjectStore, Subject, SubjectStore

__all__ = [
    "COLLECTION",
    "ERASED_NAME",
    "SEALED_SCHEMA_VERSION",
    "CustomerKey",
    "ErasedHook",
    "Found",
    "KeyIssuer",
    "KeyNotYetKnown",
    "KeyStore",
    "MemoryKeyStore",
    "MemorySubjectStore",
    "MongoKeyStore",
    "MongoSubjectStore",
    "PersonalData",
    "PrivacyKeyMismatch",
    "Revealer",
    "SealBroken",
    "StoredKey",
    "Subject",
    "SubjectStore",
    "anonymous",
    "customer_keys",
    "erase",
    "erasures",
    "follow_customer_keys",
    "is_erased",
    "latest_keys",
    "normalized_email",
    "privacy_box",
    "retention_cutoff",
    "reveal_event",
    "reveal_order",
    "rewrapped",
    "seal_event",
    "seal_order",
    "subject_digest",
]
