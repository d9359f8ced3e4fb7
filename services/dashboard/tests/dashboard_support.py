"""Test support for the dashboard: events as the other services publish them, publishing
them on the real broker, and a logged-in HTTP client."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
from aiokafka import AIOKafkaProducer
from koppel_chassis import SecretBox
from koppel_contracts import (
    AlertEvent,
    AlertKind,
    BookingEvent,
    BookingOptions,
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
    OrderEvent,
    OrderSummary,
    RateAmount,
    ShopConnection,
    ShopSystem,
    SourceSystem,
    VatAccountMapping,
    event_key,
    make_event_id,
)
from koppel_testkit import line, make_order, make_order_event
from pydantic import BaseModel

PASSWORD = "correct horse battery"


def connection_settings(
    secrets_key: str,
    *,
    name: str = "Koffiebranderij De Boon",
    vat_accounts: bool = True,
    ledger: LedgerSystem = LedgerSystem.OCTOPUS,
) -> ConnectionSettings:
    box = SecretBox(secrets_key)
    mappings = (
        [
            VatAccountMapping(vat_rate="21", ledger_account="8000", vat_code="V21"),
        ]
        if vat_accounts
        else []
    )
    return ConnectionSettings(
        merchant=Merchant(name=name, contact_email="boekhouding@deboon.nl"),
        shop=ShopConnection(
            system=ShopSystem.CCVSHOP,
            base_url="https://deboon.ccvshop.nl",
            account_id="PUBLIC-KEY-123",
            credentials={"api_secret": box.encrypt("ccv-secret-do-not-show")},
        ),
        ledger=LedgerConnection(
            system=ledger,
            base_url="https://octopus.example/api",
            dossier_id="1234",
            credentials={"password": box.encrypt("octopus-password-do-not-show")},
            booking=BookingOptions(vat_accounts=mappings),
        ),
    )


def settings_event(
    connection_id: str, secrets_key: str, version: int = 1, **options: object
) -> ConnectionSettingsEvent:
    return ConnectionSettingsEvent.of(
        connection_id,
        connection_settings(secrets_key, **options),
        version,  # type: ignore[arg-type]
    )


def order_event(
    connection_id: str,
    order_id: str,
    *,
    vat_rate: str = "21",
    price: str = "12.10",
    placed: datetime | None = None,
    revision: int = 1,
) -> OrderEvent:
    order = make_order(
        order_id=order_id,
        lines=[line("Koffiebonen", "2", price, vat_rate)],
        placed_at=placed or datetime(2026, 11, 20, 10, 30, tzinfo=UTC),
    )
    return make_order_event(order, connection_id=connection_id, revision=revision)


def summary(event: OrderEvent) -> OrderSummary:
    order = event.order
    return OrderSummary(
        order_number=order.order_number,
        placed_on=order.placed_at.date(),
        total_incl_vat=order.totals.total_incl_vat,
        currency="EUR",
        customer_name="Jan Jansen",
    )


def booked(order: OrderEvent, document: str = "V2026-0001") -> BookingEvent:
    return BookingEvent(
        event_id=make_event_id("booking", order.connection_id, order.order_ref, "booked"),
        occurred_at=datetime.now(UTC),
        connection_id=order.connection_id,
        source_system=SourceSystem.OCTOPUS,
        order_ref=order.order_ref,
        order_revision=order.revision,
        status=BookingStatus.BOOKED,
        order=summary(order),
        ledger_ref=LedgerRef(booking_id=f"B-{order.order_ref}", document_number=document),
    )


def failed(
    order: OrderEvent,
    reason: str = "Voor 9% btw is geen grootboekrekening ingesteld.",
    status: BookingStatus = BookingStatus.FAILED,
) -> BookingEvent:
    return BookingEvent(
        event_id=make_event_id("booking", order.connection_id, order.order_ref, str(status)),
        occurred_at=datetime.now(UTC),
        connection_id=order.connection_id,
        source_system=SourceSystem.OCTOPUS,
        order_ref=order.order_ref,
        order_revision=order.revision,
        status=status,
        order=summary(order),
        failure=Failure(
            kind=FailureKind.PERMANENT,
            reason_code="unmapped_vat_rate",
            reason=reason,
            suggestion="Stel een grootboekrekening in voor 9% btw en boek opnieuw.",
            persistent=True,
        ),
    )


def checked(
    order: OrderEvent,
    booked_total: str | None = None,
    booked_vat: list[tuple[str, str]] | None = None,
) -> CheckEvent:
    expected = order.order.totals.total_incl_vat
    total = Decimal(booked_total) if booked_total else expected
    vat = order.order.totals.total_vat
    return CheckEvent(
        event_id=make_event_id("check", order.connection_id, order.order_ref),
        occurred_at=datetime.now(UTC),
        connection_id=order.connection_id,
        source_system=SourceSystem.OCTOPUS,
        order_ref=order.order_ref,
        order_revision=order.revision,
        outcome=CheckOutcome.MATCHED if total == expected else CheckOutcome.MISMATCH,
        order=summary(order),
        ledger_ref=LedgerRef(booking_id=f"B-{order.order_ref}", document_number="V2026-0001"),
        expected_total_incl_vat=expected,
        booked_total_incl_vat=total,
        difference=total - expected,
        tolerance="0.05",
        expected_vat=[RateAmount(vat_rate="21", amount=vat)],
        booked_vat=[RateAmount(vat_rate=r, amount=a) for r, a in booked_vat]
        if booked_vat is not None
        else [RateAmount(vat_rate="21", amount=vat)],
    )


def broken(connection_id: str) -> AlertEvent:
    return AlertEvent(
        event_id=make_event_id("alert", connection_id, "broken"),
        occurred_at=datetime.now(UTC),
        connection_id=connection_id,
        source_system=SourceSystem.OCTOPUS,
        kind=AlertKind.CONNECTION_BROKEN,
        component="ledger-octopus",
        reason_code="credentials_refused",
        reason="Octopus weigert het wachtwoord.",
        suggestion="Vul het nieuwe wachtwoord in bij Configuratie.",
        cause_id="broken-1",
    )


async def publish(bootstrap: str, *messages: tuple[str, BaseModel]) -> None:
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


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has a form with a CSRF token"
    return found.group(1)


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    page = await client.get("/login")
    return await client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(page.text)},
    )


def today() -> date:
    return datetime.now(UTC).date()
