"""The mailer: forms one mail per connection from its pending notifications,
sends it over SMTP, and records the outcome.

One pass (`tick`) does, in order:
1. recover what a crashed replica left half-done (see `Outbox.recover`);
2. for each connection with a due notification, claim its pending
   notifications into one new mail — or park them when the connection's
   settings (address, language) are not known yet. A due restore first gets
   the number of held orders it released, or waits for them (`releases.py`);
3. claim due mails one at a time by inserting their next attempt (the send
   lease: two replicas never send the same mail), render, send, mark sent —
   or, on failure, leave the mail for a later attempt at a growing interval.

Every exclusive step is an insert with a unique `_id`; see `state.py` for why.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from zoneinfo import ZoneInfo

from koppel_chassis import ConnectionStore, log_context
from koppel_chassis.mail import SmtpTransport, message_id
from koppel_contracts import ConnectionSettings
from prometheus_client import CollectorRegistry, Counter, Gauge

from .releases import Releases
from .render import RenderedMail, Renderer
from .settings import NotifierSettings
from .state import ClaimedMail, Clock, Outbox

log = logging.getLogger(__name__)

PURGE_EVERY = timedelta(hours=1)


def build_message(
    *,
    settings: NotifierSettings,
    connection_id: str,
    connection: ConnectionSettings,
    rendered: RenderedMail,
    message_id: str,
    date: datetime,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.from_address
    message["To"] = formataddr((connection.merchant.name, connection.merchant.contact_email))
    if settings.reply_to:
        message["Reply-To"] = settings.reply_to
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message["X-Koppel-Connection"] = connection_id
    message.set_content(rendered.body)
    message.add_alternative(rendered.html, subtype="html")
    message["Content-Language"] = str(connection.merchant.language)  # after set_content clears it
    return message


def message_id_for(mail_id: str, from_address: str) -> str:
    """Stable per mail: a resend after an unknown outcome carries the same Message-ID,
    so receiving systems that de-duplicate on it show the mail once."""
    return message_id(mail_id, from_address)


def retry_delay(attempts: int, settings: NotifierSettings) -> timedelta:
    """Doubling from retry_initial_seconds after each failed attempt, capped."""
    exponent = min(max(attempts - 1, 0), 30)
    seconds = min(settings.retry_initial_seconds * 2**exponent, settings.retry_max_seconds)
    return timedelta(seconds=seconds)


class Mailer:
    def __init__(
        self,
        *,
        outbox: Outbox,
        releases: Releases,
        connections: ConnectionStore,
        settings: NotifierSettings,
        transport: SmtpTransport,
        renderer: Renderer,
        clock: Clock,
        registry: CollectorRegistry,
    ) -> None:
        self.outbox = outbox
        self.releases = releases
        self.connections = connections
        self.settings = settings
        self.transport = transport
        self.renderer = renderer
        self.clock = clock
        self.owner = f"notifier-{uuid.uuid4().hex[:12]}"
        self._wake = asyncio.Event()
        self._last_purge: datetime | None = None
        self.sent = Counter(
            "koppel_notifier_mails_sent_total",
            "Mails accepted by the SMTP server",
            registry=registry,
        )
        self.failures = Counter(
            "koppel_notifier_smtp_failures_total",
            "Send attempts that failed and will be retried",
            registry=registry,
        )
        self.pending = Gauge(
            "koppel_notifier_pending_notifications",
            "Notifications recorded but not yet sent",
            registry=registry,
        )

    def wake(self) -> None:
        """Run a pass now instead of at the next poll (e.g. settings just arrived)."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            await self.tick()
            try:
                await asyncio.wait_for(self._wake.wait(), self.settings.poll_interval_seconds)
            except TimeoutError:
                pass
            self._wake.clear()

    async def tick(self) -> None:
        lease = timedelta(seconds=self.settings.lease_seconds)
        await self.outbox.recover(stale_after=lease)
        for connection_id in await self.outbox.due_connections(self.clock()):
            with log_context(connection_id=connection_id):
                await self._form(connection_id)
        while (mail := await self.outbox.claim_mail(self.owner, lease)) is not None:
            with log_context(connection_id=mail.connection_id, mail_id=mail.mail_id):
                await self._send(mail)
        self.pending.set(await self.outbox.pending_count())
        await self._purge()

    async def _form(self, connection_id: str) -> None:
        if await self.connections.get(connection_id) is None:
            until = self.clock() + timedelta(seconds=self.settings.settings_recheck_seconds)
            parked = await self.outbox.wait_for_settings(connection_id, until)
            if parked:
                log.warning(
                    "no settings known for this connection yet; its notifications wait",
                    extra={"parked": parked},
                )
            return
        await self.releases.settle(
            connection_id,
            wait=timedelta(seconds=self.settings.restore_wait_seconds),
            recheck=timedelta(
                seconds=max(
                    self.settings.grouping_window_seconds, self.settings.poll_interval_seconds
                )
            ),
        )
        if not await self.outbox.has_due(connection_id, self.clock()):
            return  # only a restore was due, and it waits for its held orders
        formed = await self.outbox.form_mail(
            connection_id, self.settings.max_items_per_mail, self.settings.lease_seconds
        )
        if formed:
            log.info("mail formed", extra={"mail_id": formed[0], "notifications": formed[1]})

    async def _send(self, mail: ClaimedMail) -> None:
        if not mail.items:  # its notifications were purged: nothing left to say
            await self.outbox.mark_sent(mail, message_id="", recipient="", subject="")
            return
        connection = await self.connections.get(mail.connection_id)
        if connection is None:  # removed after the mail was formed
            await self.outbox.mark_failed(
                mail,
                self.clock() + timedelta(seconds=self.settings.settings_recheck_seconds),
                "connection settings unknown",
            )
            return
        message_id = message_id_for(mail.mail_id, self.settings.from_address)
        now = self.clock()
        try:
            rendered = self.renderer.render(
                language=str(connection.merchant.language),
                merchant_name=connection.merchant.name,
                connection_id=mail.connection_id,
                items=mail.items,
                digest=mail.digest,
                today=now.astimezone(ZoneInfo(self.settings.digest_timezone)).date(),
            )
            message = build_message(
                settings=self.settings,
                connection_id=mail.connection_id,
                connection=connection,
                rendered=rendered,
                message_id=message_id,
                date=now,
            )
            await self.transport.send(message)
        except Exception as error:  # SMTP down, refused, timed out — or a template bug
            self.failures.inc()
            delay = retry_delay(mail.attempt, self.settings)
            await self.outbox.mark_failed(
                mail, self.clock() + delay, f"{type(error).__name__}: {error}"
            )
            log.warning(
                "mail not sent; will retry",
                extra={
                    "attempt": mail.attempt,
                    "retry_in_seconds": delay.total_seconds(),
                    "error": f"{type(error).__name__}: {error}",
                },
            )
            return
        await self._record_sent(mail, message_id, connection, rendered)

    async def _record_sent(
        self,
        mail: ClaimedMail,
        message_id: str,
        connection: ConnectionSettings,
        rendered: RenderedMail,
    ) -> None:
        """The server has the mail. Keep trying to record that while the send lease is ours:
        until it expires nobody else will send this mail, after it a resend is possible."""
        while True:
            try:
                await self.outbox.mark_sent(
                    mail,
                    message_id=message_id,
                    recipient=connection.merchant.contact_email,
                    subject=rendered.subject,
                )
                break
            except Exception:
                if self.clock() >= mail.lease_until:
                    log.exception("sent, but could not record it; it may be sent again")
                    raise
                log.warning("sent, but recording failed; retrying", exc_info=True)
                await asyncio.sleep(0.5)
        self.sent.inc()
        log.info(
            "mail sent",
            extra={
                "notifications": len(mail.items),
                "digest": mail.digest,
                "attempt": mail.attempt,
            },
        )

    async def _purge(self) -> None:
        now = self.clock()
        if self._last_purge is not None and now - self._last_purge < PURGE_EVERY:
            return
        self._last_purge = now
        horizon = now - timedelta(days=self.settings.history_days)
        purged = await self.outbox.purge(horizon) + await self.releases.purge(horizon)
        if purged:
            log.info("purged old notifications and mails", extra={"purged": purged})
