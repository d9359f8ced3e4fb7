"""The events a ledger service publishes, built in one place. Every id is deterministic
(`make_event_id`), so an event re-published after a crash is recognisable by its id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from koppel_contracts import (
    LEDGER_BOOKINGS,
    OPS_ALERTS,
    AlertEvent,
    AlertKind,
    BookingEvent,
    BookingStatus,
    CanonicalOrder,
    Failure,
    LedgerRef,
    Notice,
    OrderEvent,
    OrderSummary,
    RateAmount,
    SourceSystem,
    make_event_id,
    order_key,
)

from .records import OutboxItem

LEDGER_ZONE = ZoneInfo("Europe/Amsterdam")


def customer_name(order: CanonicalOrder) -> str:
    customer = order.customer
    full = " ".join(p for p in (customer.first_name, customer.last_name) if p)
    return (
        customer.company_name
        or order.billing_address.company_name
        or full
        or order.billing_address.full_name
        or customer.email
        or order.order_number
    )


def document_date(order: CanonicalOrder) -> date:
    """The invoice date: the day the order was placed, in the Netherlands."""
    return order.placed_at.astimezone(LEDGER_ZONE).date()


def summary(event: OrderEvent) -> OrderSummary:
    order = event.order
    return OrderSummary(
        order_number=order.order_number,
        placed_on=document_date(order),
        total_incl_vat=order.totals.total_incl_vat,
        currency=order.currency,
        # A sealed order's customer stays out of bookings, checks and alerts: those topics
        # are kept too, and no customer key would make the name unreadable there.
        customer_name=None if order.sealed else customer_name(order),
    )


def rate_amounts(per_rate: dict[Decimal, Decimal]) -> list[RateAmount]:
    return [RateAmount(vat_rate=r, amount=a) for r, a in sorted(per_rate.items(), reverse=True)]


@dataclass(frozen=True)
class Events:
    """Event builders of one ledger service."""

    component: str
    source: SourceSystem

    def booking(
        self,
        event: OrderEvent,
        revision: int,
        status: BookingStatus,
        ref: LedgerRef,
        at: datetime,
        notices: list[Notice] | None = None,
    ) -> OutboxItem:
        order_id = order_key(event.connection_id, event.order_ref)
        booking = BookingEvent(
            event_id=make_event_id(
                self.component, "booking", order_id, str(revision), status.value, ref.booking_id
            ),
            occurred_at=at,
            connection_id=event.connection_id,
            source_system=self.source,
            correlation_id=event.correlation_id,
            order_ref=event.order_ref,
            order_revision=revision,
            status=status,
            order=summary(event),
            ledger_ref=ref,
            notices=notices or [],
        )
        return OutboxItem(LEDGER_BOOKINGS, booking)

    def failure(
        self,
        event: OrderEvent,
        revision: int,
        status: BookingStatus,
        failure: Failure,
        at: datetime,
    ) -> OutboxItem:
        order_id = order_key(event.connection_id, event.order_ref)
        booking = BookingEvent(
            event_id=make_event_id(
                self.component,
                "booking",
                order_id,
                str(revision),
                status.value,
                failure.reason_code,
            ),
            occurred_at=at,
            connection_id=event.connection_id,
            source_system=self.source,
            correlation_id=event.correlation_id,
            order_ref=event.order_ref,
            order_revision=revision,
            status=status,
            order=summary(event),
            failure=failure,
        )
        return OutboxItem(LEDGER_BOOKINGS, booking)

    def alert(
        self,
        event: OrderEvent,
        kind: AlertKind,
        failure: Failure,
        *,
        cause_id: str,
        at: datetime,
    ) -> OutboxItem:
        per_order = kind != AlertKind.CONNECTION_BROKEN
        alert = AlertEvent(
            event_id=make_event_id(self.component, "alert", cause_id),
            occurred_at=at,
            connection_id=event.connection_id,
            source_system=self.source,
            correlation_id=event.correlation_id if per_order else None,
            kind=kind,
            component=self.component,
            reason_code=failure.reason_code,
            reason=failure.reason,
            suggestion=failure.suggestion,
            order_ref=event.order_ref if per_order else None,
            order=summary(event) if per_order else None,
            cause_id=cause_id,
        )
        return OutboxItem(OPS_ALERTS, alert)

    def restored(
        self, connection_id: str, version: int, reason: str, suggestion: str, at: datetime
    ) -> OutboxItem:
        cause = make_event_id("connection_restored", connection_id, str(version))
        alert = AlertEvent(
            event_id=make_event_id(self.component, "alert", cause),
            occurred_at=at,
            connection_id=connection_id,
            source_system=self.source,
            kind=AlertKind.CONNECTION_RESTORED,
            component=self.component,
            reason_code="connection_restored",
            reason=reason,
            suggestion=suggestion,
            cause_id=cause,
        )
        return OutboxItem(OPS_ALERTS, alert)
