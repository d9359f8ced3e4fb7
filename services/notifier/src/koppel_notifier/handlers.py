"""From events to recorded notifications: one per cause, however often it arrives.

A handler only records (a single insert keyed by the cause) and returns; the
Kafka offset is committed after that, so an event is never acknowledged before
its notification is durable. Mailing happens later, in the mailer loop.

Cause keys (unique per connection):
- mismatch:            `mismatch:<order_ref>:r<revision>:<ledger booking id>`
- persistent/ingest:   `<kind>:<cause_id>`
- connection_broken:   `connection_broken:<cause_id>#<episode>` — a restore closes
                       the episode, so a later break of the same cause mails again.
- connection_restored: `connection_restored:<cause_id>` — the ledger gives each
                       restore its own cause (per settings version): one mail each.

Bookings are not mailed; they only tell which held orders a restore released
(see `releases.py`).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from koppel_chassis import log_context
from koppel_contracts import (
    AlertEvent,
    AlertKind,
    BookingEvent,
    CheckEvent,
    CheckOutcome,
    OrderSummary,
    RateAmount,
)
from prometheus_client import CollectorRegistry, Counter

from .releases import Releases
from .settings import NotifierSettings
from .state import Channel, Clock, NewNotification, Outbox

log = logging.getLogger(__name__)

MISMATCH = "mismatch"
URGENT_KINDS = frozenset({str(AlertKind.CONNECTION_BROKEN)})
"""Kinds that never wait for the daily digest."""
SETTLING_KINDS = frozenset({str(AlertKind.CONNECTION_RESTORED)})
"""Kinds that go out when due and not before: their mail counts what happened meanwhile."""


def _order(order: OrderSummary | None) -> dict[str, Any] | None:
    return order.model_dump(mode="json") if order is not None else None


def _rates(amounts: list[RateAmount] | None) -> list[dict[str, str]] | None:
    # Documents, not pairs: FerretDB refuses arrays nested in arrays (MongoDB would not).
    if amounts is None:
        return None
    return [{"rate": format(a.vat_rate, "f"), "amount": format(a.amount, "f")} for a in amounts]


def notification_for_check(event: CheckEvent) -> NewNotification | None:
    """A mismatch becomes a notification; a matched check needs nobody's attention."""
    if event.outcome != CheckOutcome.MISMATCH:
        return None
    item = {
        "source_system": str(event.source_system),
        "order_ref": event.order_ref,
        "order_revision": event.order_revision,
        "order": _order(event.order),
        "currency": event.order.currency,
        "expected_total": format(event.expected_total_incl_vat, "f"),
        "booked_total": format(event.booked_total_incl_vat, "f"),
        "difference": format(event.difference, "f"),
        "tolerance": format(event.tolerance, "f"),
        "booking_id": event.ledger_ref.booking_id,
        "document_number": event.ledger_ref.document_number,
        "expected_customer": event.expected_customer,
        "booked_customer": event.booked_customer,
        "expected_vat": _rates(event.expected_vat),
        "booked_vat": _rates(event.booked_vat),
        # Kept for the record; the mail words the difference itself (see views.py).
        "details": list(event.details),
    }
    return NewNotification(
        connection_id=event.connection_id,
        cause_key=(
            f"{MISMATCH}:{event.order_ref}:r{event.order_revision}:{event.ledger_ref.booking_id}"
        ),
        kind=MISMATCH,
        event_id=event.event_id,
        occurred_at=event.occurred_at,
        item=item,
    )


def notification_for_alert(event: AlertEvent, *, episode: int | None = None) -> NewNotification:
    cause_key = f"{event.kind}:{event.cause_id}"
    if episode is not None:
        cause_key += f"#{episode}"
    item = {
        "source_system": str(event.source_system),
        "component": event.component,
        "reason_code": event.reason_code,
        "reason": event.reason,
        "suggestion": event.suggestion,
        "order_ref": event.order_ref,
        "order": _order(event.order),
    }
    return NewNotification(
        connection_id=event.connection_id,
        cause_key=cause_key,
        kind=str(event.kind),
        event_id=event.event_id,
        occurred_at=event.occurred_at,
        item=item,
    )


def next_digest_at(now: datetime, hour: int, timezone: str) -> datetime:
    """The first `hour`:00 local time strictly after `now` (an aware datetime)."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    candidate = datetime.combine(local.date(), time(hour), tzinfo=zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), time(hour), tzinfo=zone)
    return candidate.astimezone(now.tzinfo)


def schedule(kind: str, now: datetime, settings: NotifierSettings) -> tuple[Channel, datetime]:
    """Which channel a notification goes by, and when it is due."""
    if kind in SETTLING_KINDS:
        return Channel.SETTLE, now + timedelta(seconds=settings.grouping_window_seconds)
    if settings.digest_enabled and kind not in URGENT_KINDS:
        return Channel.DIGEST, next_digest_at(now, settings.digest_hour, settings.digest_timezone)
    return Channel.IMMEDIATE, now + timedelta(seconds=settings.grouping_window_seconds)


class Handlers:
    def __init__(
        self,
        outbox: Outbox,
        releases: Releases,
        settings: NotifierSettings,
        clock: Clock,
        registry: CollectorRegistry,
    ) -> None:
        self.outbox = outbox
        self.releases = releases
        self.settings = settings
        self.clock = clock
        self.recorded = Counter(
            "koppel_notifier_notifications_recorded_total",
            "Notifications recorded in the outbox, per kind",
            ["kind"],
            registry=registry,
        )
        self.repeated = Counter(
            "koppel_notifier_repeated_events_total",
            "Events whose cause was already recorded (redeliveries, replays, re-sent alerts)",
            ["kind"],
            registry=registry,
        )

    async def check(self, event: CheckEvent) -> None:
        notification = notification_for_check(event)
        if notification is None or self._too_old(event.occurred_at):
            return
        with log_context(connection_id=event.connection_id, order_ref=event.order_ref):
            await self._record(notification)

    async def alert(self, event: AlertEvent) -> None:
        with log_context(connection_id=event.connection_id, order_ref=event.order_ref):
            if event.kind == AlertKind.CONNECTION_RESTORED:
                closed = await self.outbox.close_broken_causes(
                    event.connection_id, event.occurred_at
                )
                log.info("connection restored", extra={"closed_causes": closed})
                if not self._too_old(event.occurred_at):
                    await self._record(notification_for_alert(event))
                return
            if self._too_old(event.occurred_at):
                return
            episode = None
            if event.kind == AlertKind.CONNECTION_BROKEN:
                episode = await self.outbox.open_broken_cause(
                    event.connection_id, event.cause_id, event.occurred_at
                )
                if episode is None:
                    log.info(
                        "break older than the restore that closed it; not mailed",
                        extra={"cause_id": event.cause_id},
                    )
                    self.repeated.labels(str(event.kind)).inc()
                    return
            await self._record(notification_for_alert(event, episode=episode))

    async def booking(self, event: BookingEvent) -> None:
        """Not mailed: only remembered where it concerns a held order (see `releases.py`)."""
        with log_context(connection_id=event.connection_id, order_ref=event.order_ref):
            await self.releases.booking(event)

    def _too_old(self, occurred_at: datetime) -> bool:
        """Events older than our memory of sent mails are not mailed (replays stay silent)."""
        horizon = self.clock() - timedelta(days=self.settings.history_days)
        if occurred_at < horizon:
            log.info("event older than the notifier's history; not mailed")
            return True
        return False

    async def _record(self, notification: NewNotification) -> None:
        channel, due_at = schedule(notification.kind, self.clock(), self.settings)
        notification = replace(notification, channel=channel)
        if await self.outbox.record(notification, due_at):
            self.recorded.labels(notification.kind).inc()
            log.info(
                "notification recorded",
                extra={
                    "kind": notification.kind,
                    "cause_key": notification.cause_key,
                    "channel": str(channel),
                    "due_at": due_at.isoformat(),
                },
            )
        else:
            self.repeated.labels(notification.kind).inc()
            log.info(
                "cause already recorded; nothing new to send",
                extra={"kind": notification.kind, "cause_key": notification.cause_key},
            )
