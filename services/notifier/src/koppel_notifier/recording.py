"""Recording notifications and forming them into mails (the Kafka handlers' side of the
outbox; see `records` for why every exclusive step is an insert)."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from koppel_chassis.mongo import AsyncCollection, Document

from .records import (
    CANCELLED,
    Channel,
    Clock,
    MailStatus,
    NewNotification,
    NotificationStatus,
    insert_once,
    notification_id,
)

log = logging.getLogger(__name__)


class Recording:
    notifications: AsyncCollection[Document]
    claims: AsyncCollection[Document]
    mails: AsyncCollection[Document]
    attempts: AsyncCollection[Document]
    formations: AsyncCollection[Document]
    causes: AsyncCollection[Document]
    cause_closures: AsyncCollection[Document]
    clock: Clock

    # --- recording (the Kafka handlers) -------------------------------------

    async def record(self, new: NewNotification, due_at: datetime) -> bool:
        """Store a notification for its cause; False when that cause was recorded before."""
        return await insert_once(
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
        await insert_once(
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
            closed += await insert_once(
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
        if not await insert_once(
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
        won = await insert_once(
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
