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
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from koppel_chassis import IndexSpec
from koppel_chassis.mongo import AsyncDatabase, Document, DuplicateKeyError

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


async def _insert_once(collection: Any, doc: Document) -> bool:
    """The exclusive primitive: True for the one caller whose insert created the `_id`."""
    try:
        await collection.insert_one(doc)
    except DuplicateKeyError:
        return False
    return True


class Outbox:
    def __init__(self, db: AsyncDatabase[Document], clock: Clock) -> None:
        self.notifications = db[NOTIFICATIONS]
        self.claims = db[CLAIMS]
        self.mails = db[MAILS]
        self.attempts = db[ATTEMPTS]
        self.formations = db[FORMATIONS]
        self.causes = db[CAUSES]
        self.cause_closures = db[CAUSE_CLOSURES]
        self.clock = clock

    # --- recording (the Kafka handlers) -------------------------------------

    async def record(self, new: NewNotification, due_at: datetime) -> bool:
        """Store a notification for its cause; False when that cause was recorded before."""
        return await _insert_once(
            self.notifications,
            {
                "_id": notification_id(new.connection_id, new.cause_key),
                "connection_id": new.connection_id,
                "cause_key": new.cause_key,
                "kind": new.kind,
                "channel": str(new.channel),
                "event_id": new.event_id,
                "occurred_at": new.occurred_at,
                "recorded_at": self.clock(),
                "due_at": due_at,
                "status": str(NotificationStatus.PENDING),
                "mail_id": None,
                "waiting_for_settings": False,
                "item": new.item,
            },
        )

    async def open_broken_cause(
        self, connection_id: str, cause_id: str, occurred_at: datetime
    ) -> int | None:
        """The episode of this broken cause that the break belongs to; None for old news.

        The first break opens episode 1; later breaks while it is open belong to
        it. After a restore closed it, a break that happened later opens the next
        episode, a break from before the restore (a replay) belongs to nothing.
        """
        latest = await self.causes.find_one(
            {"connection_id": connection_id, "cause_id": cause_id}, sort=[("episode", -1)]
        )
        if latest is None:
            episode = 1
        else:
            closure = await self.cause_closures.find_one({"_id": latest["_id"]})
            if closure is None:
                return int(latest["episode"])
            if closure["closed_at"] >= occurred_at:
                return None
            episode = int(latest["episode"]) + 1
        # A concurrent handler opening the same episode is fine: same _id, same answer.
        await _insert_once(
            self.causes,
            {
                "_id": f"{notification_id(connection_id, cause_id)}#{episode}",
                "connection_id": connection_id,
                "cause_id": cause_id,
                "episode": episode,
                "opened_at": occurred_at,
            },
        )
        return episode

    async def close_broken_causes(self, connection_id: str, occurred_at: datetime) -> int:
        """A restore: close the connection's open broken causes and cancel their
        notifications that are not in a mail yet (no point mailing a fixed break)."""
        closed = 0
        async for cause in self.causes.find(
            {"connection_id": connection_id, "opened_at": {"$lte": occurred_at}}
        ):
            closed += await _insert_once(
                self.cause_closures,
                {"_id": cause["_id"], "connection_id": connection_id, "closed_at": occurred_at},
            )
        async for note in self.notifications.find(
            {
                "connection_id": connection_id,
                "kind": "connection_broken",
                "status": str(NotificationStatus.PENDING),
                "occurred_at": {"$lte": occurred_at},
            }
        ):
            if await self._claim(note["_id"], connection_id, CANCELLED, confirmed=True):
                await self.notifications.update_one(
                    {"_id": note["_id"]}, {"$set": {"status": str(NotificationStatus.CANCELLED)}}
                )
        return closed

    # --- forming mails ---------------------------------------------------------

    async def due_connections(self, now: datetime) -> list[str]:
        found = await self.notifications.distinct(
            "connection_id", {"status": str(NotificationStatus.PENDING), "due_at": {"$lte": now}}
        )
        return sorted(found)

    async def has_due(self, connection_id: str, now: datetime) -> bool:
        return bool(
            await self.notifications.count_documents(
                {
                    "connection_id": connection_id,
                    "status": str(NotificationStatus.PENDING),
                    "due_at": {"$lte": now},
                },
                limit=1,
            )
        )

    async def wait_for_settings(self, connection_id: str, until: datetime) -> int:
        """Park a connection's due notifications until its settings are known."""
        result = await self.notifications.update_many(
            {
                "connection_id": connection_id,
                "status": str(NotificationStatus.PENDING),
                "due_at": {"$lte": self.clock()},
            },
            {"$set": {"due_at": until, "waiting_for_settings": True}},
        )
        return result.modified_count

    async def settings_arrived(self, connection_id: str) -> None:
        """Parked notifications become due now; failed mails try the (maybe new) address now."""
        now = self.clock()
        await self.notifications.update_many(
            {
                "connection_id": connection_id,
                "status": str(NotificationStatus.PENDING),
                "waiting_for_settings": True,
            },
            {"$set": {"due_at": now, "waiting_for_settings": False}},
        )
        await self.mails.update_many(
            {"connection_id": connection_id, "status": str(MailStatus.READY)},
            {"$set": {"next_attempt_at": now}},
        )

    async def form_mail(
        self, connection_id: str, max_items: int, slot_seconds: float
    ) -> tuple[str, int] | None:
        """Claim the connection's pending notifications into one new mail.

        Taken: every pending immediate notification (due, or still inside its
        window: they all go in this mail) and every digest or settling
        notification that is due. Each is claimed by inserting its claim, so it can
        only ever belong to one mail; the mail is inserted last, complete.
        """
        now = self.clock()
        candidates = (
            await self.notifications.find(
                {
                    "connection_id": connection_id,
                    "status": str(NotificationStatus.PENDING),
                    "$or": [{"channel": str(Channel.IMMEDIATE)}, {"due_at": {"$lte": now}}],
                }
            )
            .sort([("occurred_at", 1), ("_id", 1)])
            .limit(max_items)
            .to_list(None)
        )
        if not candidates:
            return None
        slot = int(now.timestamp() // slot_seconds)
        if not await _insert_once(
            self.formations, {"_id": f"{candidates[0]['_id']}@{slot}", "created_at": now}
        ):
            return None  # another replica is forming this connection's mail
        mail_id = uuid.uuid4().hex
        members = [
            note
            for note in candidates
            if await self._claim(note["_id"], connection_id, mail_id, confirmed=False)
        ]
        if not members:
            return None
        member_ids = [note["_id"] for note in members]
        await self.mails.insert_one(
            {
                "_id": mail_id,
                "connection_id": connection_id,
                "members": member_ids,
                "digest": any(n["channel"] == str(Channel.DIGEST) for n in members),
                "status": str(MailStatus.READY),
                "created_at": now,
                "next_attempt_at": now,
                "attempts": 0,
                "notifications_marked": False,
            }
        )
        await self.claims.update_many({"_id": {"$in": member_ids}}, {"$set": {"confirmed": True}})
        await self.notifications.update_many(
            {"_id": {"$in": member_ids}},
            {"$set": {"status": str(NotificationStatus.BATCHED), "mail_id": mail_id}},
        )
        return mail_id, len(member_ids)

    async def _claim(
        self, note_id: str, connection_id: str, mail_id: str, *, confirmed: bool
    ) -> bool:
        won = await _insert_once(
            self.claims,
            {
                "_id": note_id,
                "connection_id": connection_id,
                "mail_id": mail_id,
                "claimed_at": self.clock(),
                "confirmed": confirmed,
            },
        )
        if not won:
            await self._repair_status(note_id)
        return won

    async def _repair_status(self, note_id: str) -> None:
        """A notification that looked pending but is claimed: bring its status in line."""
        claim = await self.claims.find_one({"_id": note_id})
        if claim is None:
            return
        if claim["mail_id"] == CANCELLED:
            status = NotificationStatus.CANCELLED
        elif await self.mails.count_documents({"_id": claim["mail_id"]}):
            status = NotificationStatus.BATCHED
        else:
            return  # its mail is being formed right now (or orphaned: see recover)
        await self.notifications.update_one(
            {"_id": note_id, "status": str(NotificationStatus.PENDING)},
            {"$set": {"status": str(status), "mail_id": claim["mail_id"]}},
        )

    async def recover(self, stale_after: timedelta) -> None:
        """Finish what a crashed replica left behind.

        - Claims whose mail was never inserted (the former died between claiming
          and inserting the mail) are released, so the notifications go out in
          another mail instead of never.
        - Sent mails whose notifications were not marked are marked.
        """
        now = self.clock()
        async for claim in self.claims.find(
            {"confirmed": False, "claimed_at": {"$lt": now - stale_after}}
        ):
            if await self.mails.count_documents({"_id": claim["mail_id"]}):
                await self.claims.update_one({"_id": claim["_id"]}, {"$set": {"confirmed": True}})
                continue
            await self.claims.delete_one({"_id": claim["_id"], "mail_id": claim["mail_id"]})
            await self.notifications.update_one(
                {"_id": claim["_id"]},
                {"$set": {"status": str(NotificationStatus.PENDING), "mail_id": None}},
            )
            log.warning(
                "released a notification claimed by a mail that was never formed",
                extra={"notification": claim["_id"], "mail_id": claim["mail_id"]},
            )
        async for mail in self.mails.find(
            {"status": str(MailStatus.SENT), "notifications_marked": False}
        ):
            await self._mark_notifications_sent(mail, mail.get("sent_at") or now)

    # --- sending ---------------------------------------------------------------

    async def claim_mail(self, owner: str, lease: timedelta) -> ClaimedMail | None:
        """Take the next due mail for sending, by inserting its next attempt."""
        now = self.clock()
        candidates = (
            await self.mails.find(
                {"status": str(MailStatus.READY), "next_attempt_at": {"$lte": now}}
            )
            .sort("next_attempt_at", 1)
            .limit(20)
            .to_list(None)
        )
        for mail in candidates:
            latest = await self.attempts.find_one({"mail_id": mail["_id"]}, sort=[("n", -1)])
            n = 1
            if latest is not None:
                if latest.get("outcome") == str(Outcome.SENT):
                    await self._record_mail_sent(mail, latest)  # repair a lost status write
                    continue
                if latest.get("outcome") is None and latest["lease_until"] > now:
                    continue  # another replica is sending it right now
                n = int(latest["n"]) + 1
            lease_until = now + lease
            if not await _insert_once(
                self.attempts,
                {
                    "_id": attempt_id(mail["_id"], n),
                    "mail_id": mail["_id"],
                    "n": n,
                    "owner": owner,
                    "started_at": now,
                    "lease_until": lease_until,
                    "outcome": None,
                },
            ):
                continue  # another replica took this attempt
            items = [
                note["item"] | {"kind": note["kind"], "cause_key": note["cause_key"]}
                async for note in self.notifications.find({"_id": {"$in": mail["members"]}}).sort(
                    [("occurred_at", 1), ("_id", 1)]
                )
            ]
            return ClaimedMail(
                mail_id=mail["_id"],
                connection_id=mail["connection_id"],
                attempt=n,
                lease_until=lease_until,
                digest=bool(mail.get("digest")),
                items=items,
            )
        return None

    async def mark_sent(
        self, mail: ClaimedMail, *, message_id: str, recipient: str, subject: str
    ) -> None:
        """The SMTP server accepted the mail. The attempt's outcome is the truth;
        the mail's and notifications' status follow it."""
        now = self.clock()
        await self.attempts.update_one(
            {"_id": mail.attempt_id},
            {
                "$set": {
                    "outcome": str(Outcome.SENT),
                    "finished_at": now,
                    "message_id": message_id,
                    "recipient": recipient,
                    "subject": subject,
                }
            },
        )
        doc = await self.mails.find_one({"_id": mail.mail_id})
        attempt = await self.attempts.find_one({"_id": mail.attempt_id})
        if doc is not None and attempt is not None:
            await self._record_mail_sent(doc, attempt)

    async def _record_mail_sent(self, mail: Document, attempt: Document) -> None:
        sent_at = attempt.get("finished_at") or self.clock()
        await self.mails.update_one(
            {"_id": mail["_id"]},
            {
                "$set": {
                    "status": str(MailStatus.SENT),
                    "sent_at": sent_at,
                    "attempts": attempt["n"],
                    "message_id": attempt.get("message_id"),
                    "recipient": attempt.get("recipient"),
                    "subject": attempt.get("subject"),
                    "last_error": None,
                }
            },
        )
        await self._mark_notifications_sent(mail, sent_at)

    async def _mark_notifications_sent(self, mail: Document, sent_at: datetime) -> None:
        await self.notifications.update_many(
            {"_id": {"$in": mail["members"]}},
            {"$set": {"status": str(NotificationStatus.SENT), "sent_at": sent_at}},
        )
        await self.mails.update_one({"_id": mail["_id"]}, {"$set": {"notifications_marked": True}})

    async def mark_failed(self, mail: ClaimedMail, next_attempt_at: datetime, error: str) -> None:
        """This attempt failed; the mail is tried again from `next_attempt_at`."""
        now = self.clock()
        await self.attempts.update_one(
            {"_id": mail.attempt_id, "outcome": None},
            {"$set": {"outcome": str(Outcome.FAILED), "finished_at": now, "error": error[:2000]}},
        )
        await self.mails.update_one(
            {"_id": mail.mail_id, "status": str(MailStatus.READY)},
            {
                "$set": {
                    "next_attempt_at": next_attempt_at,
                    "attempts": mail.attempt,
                    "last_error": error[:2000],
                    "last_failed_at": now,
                }
            },
        )

    # --- housekeeping ------------------------------------------------------------

    async def purge(self, older_than: datetime) -> int:
        """The portable stand-in for a TTL index: forget what was settled long ago."""
        now = self.clock()
        deleted = 0
        for collection, query in (
            (self.mails, {"status": str(MailStatus.SENT), "sent_at": {"$lt": older_than}}),
            (
                self.notifications,
                {
                    "status": {
                        "$in": [str(NotificationStatus.SENT), str(NotificationStatus.CANCELLED)]
                    },
                    "recorded_at": {"$lt": older_than},
                },
            ),
            (self.claims, {"confirmed": True, "claimed_at": {"$lt": older_than}}),
            (self.attempts, {"outcome": {"$ne": None}, "started_at": {"$lt": older_than}}),
            # A formation only matters within its time slot.
            (self.formations, {"created_at": {"$lt": now - timedelta(days=1)}}),
        ):
            result = await collection.delete_many(query)
            deleted += result.deleted_count
        return deleted

    async def pending_count(self) -> int:
        return await self.notifications.count_documents(
            {"status": {"$in": [str(NotificationStatus.PENDING), str(NotificationStatus.BATCHED)]}}
        )
