"""Support cases ("Meld probleem"): the merchant's words plus the order's whole timeline with
its payloads (secrets masked), kept in `support_cases` and e-mailed to support.

The case is stored before anything is sent, so nothing is lost when SMTP is down: the mail
goes out at once when it can, else the `case-mailer` loop tries again. Sending is claimed
per attempt with a unique insert (`case_mail_claims`, `_id` = case and attempt), so two
replicas never both send the same attempt (docs/CONVENTIONS.md: conditional updates are
not exclusive on FerretDB).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from koppel_chassis.mail import SmtpTransport, message_id
from koppel_chassis.mongo import AsyncDatabase, Document, DuplicateKeyError

from .formatting import moment
from .masking import mask
from .orders import OrderView
from .settings import DashboardSettings

log = logging.getLogger(__name__)

CASES = "support_cases"
CLAIMS = "case_mail_claims"


def _plain(value: Any) -> Any:
    """JSON-ready data for the case document and the mail's attachment."""
    return json.loads(json.dumps(value, default=str))


@dataclass
class SupportCases:
    db: AsyncDatabase[Document]
    settings: DashboardSettings
    transport: SmtpTransport

    async def open(
        self,
        *,
        view: OrderView,
        merchant_name: str,
        message: str,
        by: str,
    ) -> str:
        case_id = uuid.uuid4().hex[:12]
        now = datetime.now(UTC)
        failure = view.failure or {}
        timeline = [
            {
                "at": e["at"],
                "topic": e["topic"],
                "kind": e["kind"],
                "source": e.get("source"),
                "summary": mask(_plain(e.get("summary") or {})),
                "payload": mask(_plain(e.get("payload"))),
            }
            for e in view.timeline()
        ]
        await self.db[CASES].insert_one(
            {
                "_id": case_id,
                "connection_id": view.connection_id,
                "order_ref": view.order_ref,
                "order_number": view.order_number,
                "merchant_name": merchant_name,
                "state": str(view.state),
                "reason_code": failure.get("reason_code"),
                "reason": failure.get("reason"),
                "message": message.strip()[:5000],
                "by": by,
                "at": now,
                "timeline": timeline,
                "mail": {"status": "pending", "attempts": 0, "next_attempt_at": now},
            }
        )
        await self.send_due(case_id)
        return case_id

    async def get(self, case_id: str) -> Document | None:
        return await self.db[CASES].find_one({"_id": case_id})

    async def all(self) -> list[Document]:
        cursor = self.db[CASES].find({}, {"timeline": 0})
        return sorted([d async for d in cursor], key=lambda d: d["at"], reverse=True)

    # --- mail -----------------------------------------------------------------------

    async def send_due(self, case_id: str | None = None) -> int:
        """Send the mail of one case, or of every case whose mail is due; returns how many
        were sent."""
        query: Document = {"mail.status": "pending"}
        if case_id is not None:
            query["_id"] = case_id
        now = datetime.now(UTC)
        sent = 0
        async for case in self.db[CASES].find(query):
            if case["mail"]["next_attempt_at"] > now:
                continue
            attempt = case["mail"]["attempts"] + 1
            try:
                await self.db[CLAIMS].insert_one({"_id": f"{case['_id']}:{attempt}", "at": now})
            except DuplicateKeyError:
                await self._skip_if_abandoned(case, attempt, now)
                continue  # another replica has this attempt
            sent += await self._send(case, attempt)
        return sent

    async def _skip_if_abandoned(self, case: Document, attempt: int, now: datetime) -> None:
        """A claim whose sender died (no outcome long after the SMTP timeout) is given up,
        so the next pass claims the next attempt."""
        claim = await self.db[CLAIMS].find_one({"_id": f"{case['_id']}:{attempt}"})
        lease = timedelta(seconds=self.settings.smtp_timeout_seconds + 30)
        if claim is not None and now - claim["at"] > lease:
            await self.db[CASES].update_one(
                {"_id": case["_id"], "mail.status": "pending"},
                {"$set": {"mail.attempts": attempt}},
            )

    async def _send(self, case: Document, attempt: int) -> int:
        try:
            await self.transport.send(self.message(case))
        except Exception as error:  # SMTP down or refusing: the loop tries again
            retry = datetime.now(UTC) + timedelta(seconds=self.settings.mail_retry_seconds)
            await self.db[CASES].update_one(
                {"_id": case["_id"]},
                {
                    "$set": {
                        "mail.attempts": attempt,
                        "mail.next_attempt_at": retry,
                        "mail.error": f"{type(error).__name__}: {error}"[:500],
                    }
                },
            )
            log.warning("support case mail not sent; will retry", extra={"case": case["_id"]})
            return 0
        await self.db[CASES].update_one(
            {"_id": case["_id"]},
            {
                "$set": {
                    "mail.status": "sent",
                    "mail.attempts": attempt,
                    "mail.sent_at": datetime.now(UTC),
                    "mail.error": None,
                }
            },
        )
        log.info("support case mailed", extra={"case": case["_id"]})
        return 1

    def message(self, case: Document) -> EmailMessage:
        s = self.settings
        base = s.public_base_url
        order_url = f"{base}/connections/{case['connection_id']}/orders/{case['order_ref']}"
        lines = [
            f"Melding {case['_id']} van {case['by']} ({case['merchant_name']})",
            f"Koppeling: {case['connection_id']}",
            f"Bestelling: {case['order_number']} (ref {case['order_ref']}), status {case['state']}",
        ]
        if case.get("reason"):
            lines.append(f"Reden: {case['reason']} [{case.get('reason_code')}]")
        lines += [
            "",
            "Bericht van de klant:",
            case["message"] or "(geen tekst)",
            "",
            f"Melding: {base}/support/cases/{case['_id']}",
            f"Bestelling: {order_url}",
            "",
            "Tijdlijn (alle gebeurtenissen, geheimen gemaskeerd):",
        ]
        for item in case["timeline"]:
            lines.append(f"- {moment(item['at'])}  {item['topic']}  {item['kind']}")
        lines += ["", "De volledige berichten staan in de bijlage timeline.json."]
        message = EmailMessage()
        message["From"] = s.from_address
        message["To"] = s.support_email
        if s.reply_to:
            message["Reply-To"] = s.reply_to
        message["Subject"] = " ".join(
            f"Koppel melding {case['_id']}: bestelling {case['order_number']} "
            f"({case['connection_id']})".split()
        )
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = message_id(f"case-{case['_id']}", s.from_address)
        message["X-Koppel-Connection"] = case["connection_id"]
        message.set_content("\n".join(lines))
        attachment = json.dumps(_plain(case["timeline"]), indent=2, ensure_ascii=False)
        message.add_attachment(
            attachment.encode(),
            maintype="application",
            subtype="json",
            filename="timeline.json",
        )
        return message

    async def run(self) -> None:
        """The `case-mailer` loop: mails that could not be sent at once."""
        while True:
            await self.send_due()
            await asyncio.sleep(self.settings.mail_poll_seconds)
