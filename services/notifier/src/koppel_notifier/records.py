"""The notifier's outbox in its own MongoDB database.

The one write that is atomic on every server we run on is **inserting a
document whose `_id` already exists fails**. FerretDB (v1, SQLite) runs
`update`/`findAndModify` as read-then-write without a transaction, so two
replicas can both "win" a conditional update (see FerretDB issue #3040; our
tests reproduce it). Every exclusive decision here is therefore an insert
with a deterministic `_id`; updates only ever keep advisory fields (status,
due time) up to date, and everything that decides "who sends what" is read
from insert-once documents.

Collections:
- `notifications` — one per cause (`_id` = `connection_id|cause_key`, unique
  index on the pair). Inserting it is the idempotency check. Advisory status:
  pending -> batched -> sent, or cancelled.
- `claims` — `_id` = notification id, value = the mail it belongs to (or
  `cancelled`). Whoever inserts it owns the notification: it goes into exactly
  one mail.
- `mails` — inserted once, complete, with the ids of its notifications
  (`members`). Never re-formed; status/next attempt are advisory.
- `attempts` — `_id` = `mail_id#n`. Inserting attempt n is the send lease: one
  replica per attempt. Its outcome (`sent`/`failed`) is written only by its
  owner, and `sent` is the source of truth for "this mail went out".
- `formations` — `_id` = first due notification + time slot: one replica forms a
  connection's mail from the same trigger, so a burst is not split in two.
- `causes` / `cause_closures` — episodes of `connection_broken` causes, so a
  restore closes the cause and a later break mails again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from koppel_chassis import IndexSpec
from koppel_chassis.mongo import Document, DuplicateKeyError

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

NOTIFICATIONS = "notifications"
CLAIMS = "claims"
MAILS = "mails"
ATTEMPTS = "attempts"
FORMATIONS = "formations"
CAUSES = "causes"
CAUSE_CLOSURES = "cause_closures"

CANCELLED = "cancelled"
"""The `mail_id` of a claim that took a notification out of the running."""

INDEXES = [
    IndexSpec(NOTIFICATIONS, [("connection_id", 1), ("cause_key", 1)], unique=True),
    IndexSpec(NOTIFICATIONS, [("status", 1), ("due_at", 1)]),
    IndexSpec(NOTIFICATIONS, [("connection_id", 1), ("status", 1)]),
    IndexSpec(CLAIMS, [("confirmed", 1), ("claimed_at", 1)]),
    IndexSpec(MAILS, [("status", 1), ("next_attempt_at", 1)]),
    IndexSpec(ATTEMPTS, [("mail_id", 1), ("n", 1)]),
    IndexSpec(CAUSES, [("connection_id", 1), ("cause_id", 1), ("episode", 1)]),
]


class Channel(StrEnum):
    IMMEDIATE = "immediate"  # after the grouping window
    DIGEST = "digest"  # at the next digest hour
    # Only once due, never earlier with a companion: a restore's mail counts the held
    # orders booked meanwhile, so it must not leave before that count has settled.
    SETTLE = "settle"


class NotificationStatus(StrEnum):
    PENDING = "pending"
    BATCHED = "batched"
    SENT = "sent"
    CANCELLED = "cancelled"


class MailStatus(StrEnum):
    READY = "ready"
    SENT = "sent"


class Outcome(StrEnum):
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True)
class NewNotification:
    """What a handler records for one cause; `item` is the template's data (JSON types only)."""

    connection_id: str
    cause_key: str
    kind: str
    event_id: str
    occurred_at: datetime
    item: dict[str, Any]
    channel: Channel = Channel.IMMEDIATE


@dataclass(frozen=True)
class ClaimedMail:
    """A mail this replica holds the send lease (attempt `attempt`) for."""

    mail_id: str
    connection_id: str
    attempt: int
    lease_until: datetime
    digest: bool
    items: list[dict[str, Any]] = field(default_factory=list)

    @property
    def attempt_id(self) -> str:
        return attempt_id(self.mail_id, self.attempt)


def notification_id(connection_id: str, cause_key: str) -> str:
    return f"{connection_id}|{cause_key}"


def attempt_id(mail_id: str, n: int) -> str:
    return f"{mail_id}#{n}"


async def insert_once(collection: Any, doc: Document) -> bool:
    """The exclusive primitive: True for the one caller whose insert created the `_id`."""
    try:
        await collection.insert_one(doc)
    except DuplicateKeyError:
        return False
    return True
