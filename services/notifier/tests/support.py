"""Test support: a real SMTP server (aiosmtpd), event builders, publishing, waiting."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from typing import Any

from aiokafka import AIOKafkaProducer
from aiosmtpd.controller import Controller
from koppel_chassis import SecretBox
from koppel_contracts import (
    AlertEvent,
    AlertKind,
    CheckEvent,
    CheckOutcome,
    ConnectionSettings,
    ConnectionSettingsEvent,
    LedgerConnection,
    LedgerRef,
    LedgerSystem,
    Merchant,
    OrderSummary,
    ShopConnection,
    ShopSystem,
    SourceSystem,
    event_key,
    make_event_id,
)
from pydantic import BaseModel


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        # A folded header unfolds with the space after "Subject:" kept; clients trim it.
        return str(self.message["Subject"]).strip()

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return part.get_content()


class SmtpCatcher:
    """A real SMTP server on a fixed local port that can be stopped and started again."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.received: list[Received] = []
        self._controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    async def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        await asyncio.to_thread(self._controller.start)

    async def stop(self) -> None:
        if self._controller is not None:
            await asyncio.to_thread(self._controller.stop)
            self._controller = None

    async def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        await wait_until(lambda: _true(len(self.received) >= count), timeout=timeout)
        return list(self.received)

    async def settled(self, seconds: float = 2.0) -> list[Received]:
        """Everything received after waiting a while longer: a late duplicate would show."""
        await asyncio.sleep(seconds)
        return list(self.received)


async def _true(value: bool) -> bool:
    return value


async def wait_until(
    predicate: Callable[[], Awaitable[bool]], timeout: float = 20.0, interval: float = 0.1
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await predicate():
        assert loop.time() < deadline, "timed out waiting"
        await asyncio.sleep(interval)


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
    return ConnectionSettingsEvent(
        event_id=make_event_id("connection", connection_id, str(version)),
        occurred_at=datetime.now(UTC),
        connection_id=connection_id,
        source_system=SourceSystem.KOPPEL,
        version=version,
        settings=ConnectionSettings(
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
