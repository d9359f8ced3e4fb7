"""Finding a customer's keys, and the retention rule — for the CLI and the ingest.

An operator erases a customer by e-mail (or, for a customer without one, by order):
`customer_keys` reads what the compacted topic holds and opens each active key's subject
(encrypted with the platform key) to find the ones of that customer; `erasures` are the
markers to publish. Keys are also re-wrapped here when the platform key is rotated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from koppel_chassis import SecretBox, SecretUnreadable
from koppel_contracts import CustomerKeyEvent, CustomerKeyState, ErasureReason, SourceSystem

from .keys import subject_digest


def retention_cutoff(now: datetime, retention_years: int) -> datetime:
    """Customers whose last order was placed before this are past retention: the data of an
    order placed in year Y is kept through Y + retention_years (the fiscal retention period
    counts from the end of the year the order was booked in)."""
    return datetime(now.astimezone(UTC).year - retention_years, 1, 1, tzinfo=UTC)


def latest_keys(
    records: Iterable[tuple[bytes | None, bytes | None]],
) -> dict[str, CustomerKeyEvent]:
    """What the compacted topic says per key id, from its raw (key, value) records in order;
    a tombstone removes the key id."""
    latest: dict[str, CustomerKeyEvent] = {}
    for raw_key, value in records:
        key_id = (raw_key or b"").decode().partition(":")[2]
        if not value:
            latest.pop(key_id, None)
            continue
        event = CustomerKeyEvent.model_validate_json(value)
        previous = latest.get(event.key_id)
        if previous is not None and previous.state == CustomerKeyState.ERASED:
            continue  # an erasure is final, whatever was replayed after it
        latest[event.key_id] = event
    return latest


@dataclass(frozen=True)
class Found:
    active: list[CustomerKeyEvent]
    erased: int  # keys of the connection erased before (nothing tells whose they were)
    unreadable: int  # subjects the platform key does not open (a key missing from the box)


def customer_keys(
    keys: dict[str, CustomerKeyEvent],
    box: SecretBox,
    connection_id: str,
    *,
    email: str | None = None,
    order_ref: str | None = None,
) -> Found:
    """The active keys of one customer of the connection: by e-mail, or by order."""
    if (email is None) == (order_ref is None):
        raise ValueError("give the customer's e-mail or the order, not both")
    wanted = subject_digest(connection_id, email=email, order_ref=order_ref or "")
    active: list[CustomerKeyEvent] = []
    erased = unreadable = 0
    for event in keys.values():
        if event.connection_id != connection_id:
            continue
        if event.state == CustomerKeyState.ERASED or event.subject is None:
            erased += 1
            continue
        try:
            subject = box.decrypt(event.subject).get_secret_value()
        except SecretUnreadable:
            unreadable += 1
            continue
        if subject == wanted:
            active.append(event)
    return Found(active, erased, unreadable)


def erasures(
    found: Iterable[CustomerKeyEvent], reason: ErasureReason = ErasureReason.REQUEST
) -> list[CustomerKeyEvent]:
    return [
        CustomerKeyEvent.erased(k.connection_id, k.key_id, reason, SourceSystem.KOPPEL)
        for k in found
    ]


def rewrapped(keys: dict[str, CustomerKeyEvent], box: SecretBox) -> list[CustomerKeyEvent]:
    """Every active key wrapped (and its subject encrypted) with the newest platform key,
    for a rotation: publish them, then the old platform key can go once every service has
    them. The customer keys themselves stay: the events on the topics are sealed with them."""
    fresh: list[CustomerKeyEvent] = []
    for event in keys.values():
        if event.state != CustomerKeyState.ACTIVE or event.key is None or event.subject is None:
            continue
        fresh.append(
            event.model_copy(
                update={
                    "key": box.rotate(event.key),
                    "subject": box.rotate(event.subject),
                    "occurred_at": datetime.now(UTC),
                }
            )
        )
    return fresh
