"""The notifier's outbox in its own MongoDB database: `records` (collections, records and
why every exclusive decision is an insert), `recording` (notifications into mails) and
`delivery` (sending them)."""

from __future__ import annotations

from koppel_chassis.mongo import AsyncDatabase, Document

from .delivery import Delivery
from .recording import Recording
from .records import (  # noqa: F401  (the outbox's names, imported from here by the others)
    ATTEMPTS,
    CANCELLED,
    CAUSE_CLOSURES,
    CAUSES,
    CLAIMS,
    FORMATIONS,
    INDEXES,
    MAILS,
    NOTIFICATIONS,
    Channel,
    ClaimedMail,
    Clock,
    MailStatus,
    NewNotification,
    NotificationStatus,
    Outcome,
    attempt_id,
    notification_id,
)


class Outbox(Recording, Delivery):
    def __init__(self, db: AsyncDatabase[Document], clock: Clock) -> None:
        self.notifications = db[NOTIFICATIONS]
        self.claims = db[CLAIMS]
        self.mails = db[MAILS]
        self.attempts = db[ATTEMPTS]
        self.formations = db[FORMATIONS]
        self.causes = db[CAUSES]
        self.cause_closures = db[CAUSE_CLOSURES]
        self.clock = clock
