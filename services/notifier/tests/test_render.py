"""Templates, formatting and the pure scheduling rules (no infrastructure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from koppel_contracts import AlertKind, CheckOutcome, Language
from koppel_notifier.handlers import (
    next_digest_at,
    notification_for_alert,
    notification_for_check,
    schedule,
)
from koppel_notifier.mailer import build_message, message_id_for, retry_delay
from koppel_notifier.render import Renderer, format_date, format_money
from koppel_notifier.settings import NotifierSettings
from koppel_notifier.state import Channel
from pydantic import ValidationError

from .support import alert_event, check_event, settings_event


@pytest.mark.parametrize(
    ("amount", "currency", "language", "expected"),
    [
        ("1234.56", "EUR", "nl", "€ 1.234,56"),
        ("0.1", "EUR", "nl", "€ 0,10"),
        ("1234567.891", "EUR", "nl", "€ 1.234.567,89"),
        ("0.005", "EUR", "nl", "€ 0,01"),  # half-up, as Dutch bookkeeping rounds
        ("-12.5", "EUR", "nl", "€ -12,50"),
        ("999", "EUR", "nl", "€ 999,00"),
        ("1234.56", "EUR", "en", "€1,234.56"),
        ("-12.5", "EUR", "en", "-€12.50"),
        ("1234.56", "USD", "nl", "USD 1.234,56"),
        ("1234.56", "USD", "en", "USD 1,234.56"),
        ("10", "GBP", "en", "£10.00"),
    ],
)
def test_money_is_formatted_the_way_the_reader_writes_it(
    amount: str, currency: str, language: str, expected: str
) -> None:
    assert format_money(Decimal(amount), currency, language) == expected


def test_dates_are_written_out_in_the_mails_language() -> None:
    assert format_date(date(2026, 11, 20), "nl") == "20 november 2026"
    assert format_date("2026-03-01", "nl") == "1 maart 2026"
    assert format_date(date(2026, 11, 20), "en") == "20 November 2026"


def test_the_digest_is_due_at_the_next_digest_hour_in_amsterdam() -> None:
    before = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)  # 07:30 in Amsterdam (CET)
    assert next_digest_at(before, 8, "Europe/Amsterdam") == datetime(2026, 11, 20, 7, tzinfo=UTC)
    after = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)  # exactly 08:00 local: the next day
    assert next_digest_at(after, 8, "Europe/Amsterdam") == datetime(2026, 11, 21, 7, tzinfo=UTC)
    # Summer time starts in the night of 29 March 2026: 08:00 local is then 06:00 UTC.
    spring = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    assert next_digest_at(spring, 8, "Europe/Amsterdam") == datetime(2026, 3, 29, 6, tzinfo=UTC)


def test_digest_mode_holds_everything_but_a_broken_connection() -> None:
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    digest = NotifierSettings(digest_enabled=True, digest_hour=8, grouping_window_seconds=60)
    assert schedule("mismatch", now, digest) == (
        Channel.DIGEST,
        datetime(2026, 11, 21, 7, tzinfo=UTC),
    )
    assert schedule("persistent_failure", now, digest)[0] is Channel.DIGEST
    assert schedule("connection_broken", now, digest) == (
        Channel.IMMEDIATE,
        now + timedelta(seconds=60),
    )
    plain = NotifierSettings(grouping_window_seconds=60)
    assert schedule("mismatch", now, plain) == (Channel.IMMEDIATE, now + timedelta(seconds=60))


def test_retries_wait_longer_each_time_up_to_the_cap() -> None:
    settings = NotifierSettings(retry_initial_seconds=30, retry_max_seconds=600)
    waits = [retry_delay(n, settings).total_seconds() for n in range(1, 8)]
    assert waits == [30, 60, 120, 240, 480, 600, 600]
    assert retry_delay(500, settings).total_seconds() == 600


def test_settings_refuse_contradicting_tls_modes_and_unknown_zones() -> None:
    with pytest.raises(ValidationError, match="exclude each other"):
        NotifierSettings(smtp_tls=True, smtp_starttls=True)
    with pytest.raises(ValidationError, match="unknown time zone"):
        NotifierSettings(digest_timezone="Europe/Utrechtt")
    assert "hunter2" not in repr(NotifierSettings(smtp_password="hunter2"))


def test_a_cause_key_does_not_depend_on_the_event_id() -> None:
    first = check_event("c1")
    again = first.model_copy(update={"event_id": "another-id"})
    assert notification_for_check(first).cause_key == notification_for_check(again).cause_key
    revised = first.model_copy(update={"order_revision": 2})
    assert notification_for_check(revised).cause_key != notification_for_check(first).cause_key
    assert notification_for_check(check_event("c1", outcome=CheckOutcome.MATCHED)) is None

    broken = alert_event("c1", AlertKind.CONNECTION_BROKEN, cause_id="creds")
    assert notification_for_alert(broken, episode=1).cause_key == "connection_broken:creds#1"
    assert notification_for_alert(broken, episode=2).cause_key == "connection_broken:creds#2"


def _items(*events):
    out = []
    for event in events:
        note = (
            notification_for_check(event)
            if event.event_type == "check"
            else notification_for_alert(event)
        )
        out.append(note.item | {"kind": note.kind})
    return out


def test_one_item_mails_name_the_order_in_the_subject() -> None:
    renderer = Renderer()
    mismatch = _items(check_event("c1"))
    nl = renderer.render(
        language="nl",
        merchant_name="De Boon",
        connection_id="c1",
        items=mismatch,
        digest=False,
        today=date(2026, 11, 21),
    )
    assert nl.subject == "Koppel: verschil in de boeking van bestelling WEB-1001"
    assert "Bestelling: WEB-1001 van 20 november 2026, € 1.234,56 (Jan Jansen)" in nl.body
    assert "Het geboekte bedrag is € 0,10 lager dan de bestelling" in nl.body
    assert nl.body.rstrip().endswith("voor koppeling c1.")

    en = renderer.render(
        language="en",
        merchant_name="De Boon",
        connection_id="c1",
        items=mismatch,
        digest=False,
        today=date(2026, 11, 21),
    )
    assert en.subject == "Koppel: the booking of order WEB-1001 differs from the order"
    assert "The booked amount is €0.10 lower than the order (allowed difference: €0.05)" in en.body


def test_grouped_and_digest_mails_count_their_items() -> None:
    renderer = Renderer()
    items = _items(
        alert_event(
            "c1", AlertKind.PERSISTENT_FAILURE, cause_id="a", order_ref="1", order_number="W-1"
        ),
        alert_event("c1", AlertKind.CONNECTION_BROKEN, cause_id="b"),
    )
    grouped = renderer.render(
        language="nl",
        merchant_name="De Boon",
        connection_id="c1",
        items=items,
        digest=False,
        today=date(2026, 11, 21),
    )
    assert grouped.subject == "Koppel: 2 meldingen voor De Boon, uw koppeling werkt niet meer"
    assert "1. Bestelling niet geboekt" in grouped.body
    assert "2. Koppeling werkt niet meer" in grouped.body
    assert "Herstel eerst de koppeling." in grouped.body

    digest = renderer.render(
        language="en",
        merchant_name="De Boon",
        connection_id="c1",
        items=items[:1],
        digest=True,
        today=date(2026, 11, 21),
    )
    assert digest.subject == "Koppel daily summary 21 November 2026: 1 notification for De Boon"
    assert "One notification needs your attention." in digest.body
    assert "Repair the connection first." not in digest.body


def test_a_line_break_in_event_text_cannot_reach_the_subject_header() -> None:
    event = alert_event(
        "c1",
        AlertKind.PERSISTENT_FAILURE,
        cause_id="x",
        order_ref="9",
        order_number="W-9\r\nBcc: victim@example.com",
    )
    mail = Renderer().render(
        language="nl",
        merchant_name="De Boon",
        connection_id="c1",
        items=_items(event),
        digest=False,
        today=date(2026, 11, 21),
    )
    assert "\n" not in mail.subject and "\r" not in mail.subject


def test_the_message_carries_a_stable_id_and_marks_itself_automatic(secrets_key: str) -> None:
    settings = NotifierSettings(from_address="Koppel <meldingen@koppel.nl>", reply_to="help@k.nl")
    connection = settings_event("c1", secrets_key, language="en").settings
    rendered = Renderer().render(
        language=str(Language.EN),
        merchant_name=connection.merchant.name,
        connection_id="c1",
        items=_items(check_event("c1")),
        digest=False,
        today=date(2026, 11, 21),
    )
    message_id = message_id_for("abc123", settings.from_address)
    assert message_id == "<abc123@koppel.nl>"
    message = build_message(
        settings=settings,
        connection_id="c1",
        connection=connection,
        rendered=rendered,
        message_id=message_id,
        date=datetime(2026, 11, 21, 8, 0, tzinfo=UTC),
    )
    assert message["To"] == "Koffiebranderij De Boon <boekhouding@deboon.nl>"
    assert message["Message-ID"] == "<abc123@koppel.nl>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Reply-To"] == "help@k.nl"
    assert message["Content-Language"] == "en"
    assert message.get_content_type() == "multipart/alternative"
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text.get_content().startswith("Dear Koffiebranderij De Boon,")
    assert html.get_content().lstrip().startswith("<!DOCTYPE html>")
