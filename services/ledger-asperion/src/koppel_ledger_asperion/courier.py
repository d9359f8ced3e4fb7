"""What happens to a sealed delivery: the read-back check, the mail, the SFTP upload.

Each is a follow-up (`asperion_followups`, `_id` = delivery | step) written before the
delivery's documents leave the pending markers (`deliveries.Collector._finish`), so a
crash never loses one: it is done, or still there to be done. A step that fails (SMTP
down, SFTP refused) is retried with a growing delay and its last error is shown on the
delivery. The mail and the upload always send the sealed bytes from GridFS, checked
against the seal's SHA-256 — a re-send on request is the same bytes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from koppel_chassis import ConnectionStore, SecretBox, log_context
from koppel_chassis.mail import SmtpTransport
from koppel_chassis.mongo import AsyncDatabase, Document, DuplicateKeyError
from koppel_contracts import LEDGER_CHECKS, ConnectionSettings, Envelope, Topic
from koppel_ledger import utcnow
from koppel_ledger.records import aware

from .archive import Delivery, DeliveryArchive
from .documents import DocumentStore
from .mail import build_mail
from .readback import check_delivery, mismatch_event
from .settings import LedgerAsperionSettings
from .sftp import upload

log = logging.getLogger(__name__)

FOLLOWUPS = "asperion_followups"
STEPS = ("check", "mail", "sftp")  # in this order: a file that differs is still sent, but
# the merchant learns of the difference first
Publish = Callable[[Topic, Envelope], Awaitable[None]]
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Followup:
    id: str
    connection_id: str
    delivery_id: str
    step: str
    round: int
    attempts: int
    next_at: datetime

    @classmethod
    def from_doc(cls, doc: Document) -> Followup:
        return cls(
            id=doc["_id"],
            connection_id=doc["connection_id"],
            delivery_id=doc["delivery_id"],
            step=doc["step"],
            round=int(doc.get("round") or 1),
            attempts=int(doc.get("attempts") or 0),
            next_at=aware(doc["next_at"]),
        )


class Followups:
    """A small collection: only what is still to be done."""

    def __init__(self, db: AsyncDatabase[Document], clock: Clock = utcnow) -> None:
        self.collection = db[FOLLOWUPS]
        self.clock = clock

    async def ensure(self, delivery: Delivery) -> None:
        for step in STEPS:
            try:
                await self.collection.insert_one(
                    {
                        "_id": f"{delivery.id}|{step}",
                        "connection_id": delivery.connection_id,
                        "delivery_id": delivery.id,
                        "step": step,
                        "round": 1,
                        "attempts": 0,
                        "next_at": self.clock(),
                    }
                )
            except DuplicateKeyError:
                pass  # written before a crash

    async def again(self, delivery: Delivery, steps: tuple[str, ...]) -> None:
        """A re-send on request: the steps once more, now, as a new round of each (a new
        mail with a new Message-ID; the attachment is the same bytes)."""
        for step in steps:
            key = f"{delivery.id}|{step}"
            update = {"$set": {"attempts": 0, "next_at": self.clock()}, "$inc": {"round": 1}}
            if (await self.collection.update_one({"_id": key}, update)).matched_count:
                continue  # still to be done (failing): its next round, now
            done = delivery.status.get(step) or {}
            try:
                await self.collection.insert_one(
                    {
                        "_id": key,
                        "connection_id": delivery.connection_id,
                        "delivery_id": delivery.id,
                        "step": step,
                        "round": int(done.get("round") or 1) + 1,
                        "attempts": 0,
                        "next_at": self.clock(),
                    }
                )
            except DuplicateKeyError:
                pass  # a concurrent re-send asked for the same

    async def due(self, now: datetime) -> dict[str, list[Followup]]:
        """Due follow-ups per connection, each connection's in delivery and step order."""
        found: dict[str, list[Followup]] = {}
        async for doc in self.collection.find({}):
            followup = Followup.from_doc(doc)
            if followup.next_at <= now:
                found.setdefault(followup.connection_id, []).append(followup)
        for items in found.values():
            items.sort(key=lambda f: (f.delivery_id, STEPS.index(f.step)))
        return found

    async def done(self, followup: Followup) -> None:
        await self.collection.delete_one({"_id": followup.id, "round": followup.round})

    async def failed(self, followup: Followup, next_at: datetime) -> None:
        await self.collection.update_one(
            {"_id": followup.id}, {"$set": {"next_at": next_at}, "$inc": {"attempts": 1}}
        )


class Courier:
    def __init__(
        self,
        *,
        store: DocumentStore,
        archive: DeliveryArchive,
        followups: Followups,
        connections: ConnectionStore,
        settings: LedgerAsperionSettings,
        secrets: SecretBox | None,
        publish: Publish,
        sender: SmtpTransport | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.store = store
        self.archive = archive
        self.followups = followups
        self.connections = connections
        self.settings = settings
        self.secrets = secrets
        self.publish = publish
        self.sender = sender or SmtpTransport(settings)
        self.clock = clock

    def retry_delay(self, attempts: int) -> timedelta:
        s = self.settings
        seconds = s.send_retry_initial_seconds * 2 ** min(attempts, 30)
        return timedelta(seconds=min(seconds, s.send_retry_max_seconds))

    async def run(self, followups: list[Followup]) -> None:
        for followup in followups:
            with log_context(connection_id=followup.connection_id, delivery=followup.delivery_id):
                await self._run(followup)

    async def _run(self, followup: Followup) -> None:
        delivery = await self.archive.get(followup.delivery_id)
        if delivery is None:  # cannot happen: follow-ups are written after the seal
            await self.followups.done(followup)
            return
        connection = await self.connections.get(followup.connection_id)
        try:
            outcome = await getattr(self, f"_{followup.step}")(delivery, connection, followup)
        except Exception as error:
            delay = self.retry_delay(followup.attempts)
            log.warning(
                "delivery step failed; retrying later",
                extra={"step": followup.step, "error": f"{type(error).__name__}: {error}"},
            )
            await self.followups.failed(followup, self.clock() + delay)
            await self.archive.note(
                delivery.id,
                followup.step,
                {
                    "error": f"{type(error).__name__}: {error}",
                    "attempts": followup.attempts + 1,
                    "next_attempt_at": self.clock() + delay,
                    "round": followup.round,
                },
            )
            return
        if outcome is not None:
            await self.archive.note(delivery.id, followup.step, outcome)
        await self.followups.done(followup)

    async def _check(
        self, delivery: Delivery, connection: ConnectionSettings | None, followup: Followup
    ) -> dict[str, Any]:
        data = await self.archive.content(delivery)
        documents = [d for d in [await self.store.get(i) for i in delivery.documents] if d]
        zero = Decimal("0.00")  # our own bytes: they must say exactly what was booked
        result = check_delivery(delivery, data, documents, zero)
        now = self.clock()
        for difference in result.differences:
            event = mismatch_event(
                difference, delivery, component="ledger-asperion", tolerance=zero, at=now
            )
            await self.publish(LEDGER_CHECKS, event)
        if result.differences:
            log.error("the sealed delivery differs from the orders", extra=result.summary(now))
        return result.summary(now)

    async def _mail(
        self, delivery: Delivery, connection: ConnectionSettings | None, followup: Followup
    ) -> dict[str, Any]:
        options = connection.ledger.asperion if connection else None
        to = options.bookkeeping_email if options else None
        if connection is None or not to:
            return {"skipped": "no bookkeeping_email", "at": self.clock()}
        message = build_mail(
            delivery=delivery,
            data=await self.archive.content(delivery),
            connection=connection,
            to=to,
            settings=self.settings,
            round_=followup.round,
            date=self.clock(),
        )
        await self.sender.send(message)
        log.info("delivery mailed", extra={"to_domain": to.rpartition("@")[2]})
        return {
            "sent_at": self.clock(),
            "to": to,
            "round": followup.round,
            "message_id": message["Message-ID"],
        }

    async def _sftp(
        self, delivery: Delivery, connection: ConnectionSettings | None, followup: Followup
    ) -> dict[str, Any] | None:
        options = connection.ledger.asperion if connection else None
        if options is None or options.sftp is None:
            return None  # not configured: nothing to do, nothing to show
        if self.secrets is None:
            raise RuntimeError("no secrets key: SFTP credentials cannot be decrypted")
        remote = await upload(
            options.sftp,
            delivery.name,
            await self.archive.content(delivery),
            box=self.secrets,
            timeout=self.settings.sftp_timeout_seconds,
        )
        log.info("delivery uploaded", extra={"host": options.sftp.host, "path": remote})
        return {
            "uploaded_at": self.clock(),
            "host": options.sftp.host,
            "path": remote,
            "round": followup.round,
        }
