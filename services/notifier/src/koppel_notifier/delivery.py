"""Sending the mails the outbox formed: one send lease per attempt, recovery of what a
crashed replica left, purging (see `records` for why every exclusive step is an insert)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from koppel_chassis.mongo import AsyncCollection, Document

from .records import (
    ClaimedMail,
    Clock,
    MailStatus,
    NotificationStatus,
    Outcome,
    attempt_id,
    insert_once,
)

log = logging.getLogger(__name__)


class Delivery:
    notifications: AsyncCollection[Document]
    claims: AsyncCollection[Document]
    mails: AsyncCollection[Document]
    attempts: AsyncCollection[Document]
    formations: AsyncCollection[Document]
    causes: AsyncCollection[Document]
    cause_closures: AsyncCollection[Document]
    clock: Clock

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
            if not await insert_once(
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
