"""The "works again" mail end to end: real Kafka, real MongoDB (FerretDB), real SMTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from koppel_contracts import (
    CONNECTIONS,
    LEDGER_BOOKINGS,
    OPS_ALERTS,
    AlertKind,
    BookingStatus,
)
from koppel_testkit import SmtpCatcher

from .support import alert_event, booking_event, publish, settings_event

CONN = "deboon-ccv-octopus"
DASHBOARD = "https://dashboard.koppel.test"
HELD, BOOKED = BookingStatus.HELD, BookingStatus.BOOKED


def _restored(cause_id: str, occurred_at: datetime, event_id: str | None = None):
    return alert_event(
        CONN,
        AlertKind.CONNECTION_RESTORED,
        cause_id=cause_id,
        reason="Octopus accepteert de inloggegevens van de koppeling weer.",
        suggestion="Niets te doen: de vastgehouden orders worden nu geboekt.",
        occurred_at=occurred_at,
        event_id=event_id,
    )


async def test_new_settings_that_release_held_orders_send_one_mail_with_their_number(
    kafka_topics, kafka_bootstrap, secrets_key, smtp: SmtpCatcher, start_notifier
) -> None:
    bookings, alerts = kafka_topics[LEDGER_BOOKINGS.name], kafka_topics[OPS_ALERTS.name]
    now = datetime.now(UTC)
    held_at, restored_at = now - timedelta(minutes=5), now - timedelta(seconds=30)
    restored = _restored("restored:v2", restored_at)
    await publish(
        kafka_bootstrap,
        (kafka_topics[CONNECTIONS.name], settings_event(CONN, secrets_key)),
        *[(bookings, booking_event(CONN, ref, HELD, occurred_at=held_at)) for ref in "123"],
        (bookings, booking_event(CONN, "7", BOOKED, occurred_at=held_at)),  # never held
        (alerts, restored),
        # The ledger's first success (before its restore alert), then the next one.
        (bookings, booking_event(CONN, "1", BOOKED, occurred_at=restored_at)),
        (bookings, booking_event(CONN, "2", BOOKED, occurred_at=now)),
        # The same restore again (a redelivery with another event id): the same cause.
        (alerts, _restored("restored:v2", restored_at, event_id="again")),
    )
    await start_notifier(dashboard_url=DASHBOARD)

    # Order 3 is still being booked: the mail waits for it past the grouping window.
    await asyncio.sleep(2.5)
    assert smtp.received == []
    await publish(
        kafka_bootstrap, (bookings, booking_event(CONN, "3", BOOKED, occurred_at=datetime.now(UTC)))
    )

    [mail] = await smtp.wait_for(1)
    assert mail.subject == "Koppel: uw koppeling werkt weer (Koffiebranderij De Boon)"
    assert "Uw koppeling werkt weer, 3 bestellingen zijn alsnog geboekt." in mail.body.splitlines()
    assert f"{DASHBOARD}/connections/{CONN}" in mail.body
    html = mail.message.get_body(("html",)).get_content()
    assert f'href="{DASHBOARD}/connections/{CONN}"' in html
    assert len(await smtp.settled(2.5)) == 1, "once per restore"


async def test_the_next_restore_counts_only_what_it_released(
    kafka_topics, kafka_bootstrap, secrets_key, smtp: SmtpCatcher, start_notifier
) -> None:
    bookings, alerts = kafka_topics[LEDGER_BOOKINGS.name], kafka_topics[OPS_ALERTS.name]
    first = datetime.now(UTC) - timedelta(minutes=10)
    await publish(
        kafka_bootstrap,
        (kafka_topics[CONNECTIONS.name], settings_event(CONN, secrets_key, language="en")),
        *[
            (bookings, booking_event(CONN, ref, HELD, occurred_at=first - timedelta(minutes=1)))
            for ref in "12"
        ],
        (alerts, _restored("restored:v2", first)),
        *[(bookings, booking_event(CONN, ref, BOOKED, occurred_at=first)) for ref in "12"],
    )
    await start_notifier()
    [mail] = await smtp.wait_for(1)
    assert mail.subject == "Koppel: your connection works again (Koffiebranderij De Boon)"
    assert "Your connection works again, 2 orders have been booked after all." in mail.body

    # Broken again later, order 5 held; new settings release it.
    second = datetime.now(UTC)
    await publish(
        kafka_bootstrap,
        (bookings, booking_event(CONN, "5", HELD, occurred_at=second - timedelta(seconds=5))),
        (alerts, _restored("restored:v3", second)),
        (bookings, booking_event(CONN, "5", BOOKED, occurred_at=second)),
    )
    mails = await smtp.wait_for(2)
    assert "Your connection works again, 1 order has been booked after all." in mails[1].body
    assert len(await smtp.settled(2.0)) == 2
