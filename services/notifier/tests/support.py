"""Test support: a real SMTP server (aiosmtpd), event builders, publishing, waiting."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from aiokafka import AIOKafkaProducer
from koppel_chassis import SecretBox
from koppel_contracts import (
    AlertEvent,
    AlertKind,
    BookingEvent,
    BookingStatus,
    CheckEvent,
    CheckOutcome,
    ConnectionSettings,
    ConnectionSettingsEvent,
    Failure,
    FailureKind,
    LedgerConnection,
    LedgerRef,
    LedgerSystem,
    Merchant,
    OrderSummary,
    RateAmount,
    ShopConnection,
    ShopSystem,
    SourceSystem,
    event_key,
    make_event_id,
)
from pydantic import BaseModel


class FakeClock:
    """Real time plus an offset the test moves forward (the digest hour arrives at once)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance_to(self, moment: datetime) -> None:
        self.offset += max(moment - self(), timedelta())


# --- events ------------------------------------------------------------------


def settings_event(
    connection_id: str,
    secrets_key: str,
    *,
    language: str = "nl",
    contact_email: str = "boekhouding@deboon.nl",
    name: str = "Koffiebranderij De Boon",
    version: int = 1,
) -> ConnectionSettingsEvent:
    box = SecretBox(secrets_key)
    return ConnectionSettingsEvent.of(
        connection_id,
        ConnectionSettings(
            merchant=Merchant(name=name, contact_email=contact_email, language=language),
            shop=ShopConnection(
                system=ShopSystem.CCVSHOP,
                base_url="https://deboon.ccvshop.nl",
                account_id="PUBLIC-KEY-123",
                credentials={"api_secret": box.encrypt("dummy-ccv-secret")},
            ),
            ledger=LedgerConnection(
                system=LedgerSystem.OCTOPUS,
                base_url="https://octopus.example/api",
                dossier_id="1234",
                credentials={"password": box.encrypt("dummy-octopus-password")},
            ),
        ),
        version,
    )


def order_summary(
    number: str, total: str = "1234.56", placed_on: date = date(2026, 11, 20)
) -> OrderSummary:
    return OrderSummary(
        order_number=number,
        placed_on=placed_on,
        total_incl_vat=total,
        currency="EUR",
        customer_name="Jan Jansen",
    )


def check_event(
    connection_id: str,
    *,
    order_ref: str = "1001",
    order_number: str = "WEB-1001",
    expected: str = "1234.56",
    booked: str = "1234.46",
    outcome: CheckOutcome = CheckOutcome.MISMATCH,
    details: Sequence[str] = ("Verzendkosten ontbreken in de boeking",),
    expected_vat: list[RateAmount] | None = None,
    booked_vat: list[RateAmount] | None = None,
) -> CheckEvent:
    difference = str(Decimal(booked) - Decimal(expected))
    return CheckEvent(
        event_id=make_event_id("check", connection_id, order_ref, "1"),
        occurred_at=datetime.now(UTC),
        connection_id=connection_id,
        source_system=SourceSystem.OCTOPUS,
        correlation_id=f"{connection_id}:{order_ref}",
        order_ref=order_ref,
        order_revision=1,
        outcome=outcome,
        order=order_summary(order_number, expected),
        ledger_ref=LedgerRef(booking_id=f"B-{order_ref}", document_number=f"V2026-{order_ref}"),
        expected_total_incl_vat=expected,
        booked_total_incl_vat=booked,
        difference=difference,
        tolerance="0.05",
        details=list(details),
        expected_vat=expected_vat or [],
        booked_vat=booked_vat or [],
    )


def alert_event(
    connection_id: str,
    kind: AlertKind,
    *,
    cause_id: str,
    order_ref: str | None = None,
    order_number: str | None = None,
    reason: str = "Octopus weigert de boeking: ICP-levering zonder btw-nummer van de klant.",
    suggestion: str = "Vul het btw-nummer van de klant in, of boek de order binnenlands.",
    occurred_at: datetime | None = None,
    event_id: str | None = None,
) -> AlertEvent:
    occurred = occurred_at or datetime.now(UTC)
    return AlertEvent(
        event_id=event_id or make_event_id("alert", connection_id, cause_id, occurred.isoformat()),
        occurred_at=occurred,
        connection_id=connection_id,
        source_system=SourceSystem.OCTOPUS,
        kind=kind,
        component="ledger-octopus",
        reason_code="icp_without_vat_number",
        reason=reason,
        suggestion=suggestion,
        order_ref=order_ref,
        order=order_summary(order_number) if order_number else None,
        cause_id=cause_id,
    )


def rates(**per_rate: str) -> list[RateAmount]:
    """`rates(r21="9.52", r9="1.37")`: VAT per rate as a check carries it."""
    return [RateAmount(vat_rate=k[1:].replace("_", "."), amount=v) for k, v in per_rate.items()]


def booking_event(
    connection_id: str,
    order_ref: str,
    status: BookingStatus,
    *,
    occurred_at: datetime,
    failure_kind: FailureKind = FailureKind.CREDENTIALS,
    persistent: bool = False,
) -> BookingEvent:
    failed = status in (BookingStatus.HELD, BookingStatus.FAILED)
    return BookingEvent(
        event_id=make_event_id("booking", connection_id, order_ref, occurred_at.isoformat()),
        occurred_at=occurred_at,
        connection_id=connection_id,
        source_system=SourceSystem.OCTOPUS,
        correlation_id=f"{connection_id}:{order_ref}",
        order_ref=order_ref,
        order_revision=1,
        status=status,
        order=order_summary(f"WEB-{order_ref}"),
        ledger_ref=None if failed else LedgerRef(booking_id=f"B-{order_ref}"),
        failure=Failure(
            kind=failure_kind,
            reason_code="credentials_refused",
            reason="Octopus weigert de inloggegevens.",
            suggestion="Sla de koppeling opnieuw op.",
            persistent=persistent,
        )
        if failed
        else None,
    )


async def publish(bootstrap: str, *messages: tuple[str, BaseModel]) -> None:
    """Publish contract events (topic, event) in order with one producer, keyed by the key rule."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for topic, event in messages:
            await producer.send(
                topic, value=event.model_dump_json().encode(), key=event_key(event).encode()
            )
        await producer.flush()
    finally:
        await producer.stop()
