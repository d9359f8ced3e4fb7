"""The notifier on real Kafka, real MongoDB (FerretDB) and a real SMTP server."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from aiokafka import AIOKafkaConsumer, TopicPartition
from koppel_contracts import (
    CONNECTIONS,
    LEDGER_CHECKS,
    OPS_ALERTS,
    AlertKind,
    CheckOutcome,
)
from koppel_notifier.handlers import next_digest_at
from koppel_testkit import SmtpCatcher, eventually

from .support import (
    FakeClock,
    alert_event,
    check_event,
    publish,
    rates,
    settings_event,
)

CONN = "deboon-ccv-octopus"


async def test_a_mismatch_mails_the_merchant_once_in_dutch(
    kafka_topics, kafka_bootstrap, secrets_key, smtp: SmtpCatcher, start_notifier
) -> None:
    await publish(
        kafka_bootstrap,
        (kafka_topics[CONNECTIONS.name], settings_event(CONN, secrets_key)),
        # A check that matched needs nobody's attention: no mail for WEB-1000.
        (
            kafka_topics[LEDGER_CHECKS.name],
            check_event(
                CONN,
                order_ref="1000",
                order_number="WEB-1000",
                booked="1234.56",
                outcome=CheckOutcome.MATCHED,
                details=(),
            ),
        ),
        # VAT per rate too: stored as the real database stores it (FerretDB refuses arrays
        # nested in arrays, which a list of (rate, amount) pairs would be).
        (
            kafka_topics[LEDGER_CHECKS.name],
            check_event(
                CONN,
                expected_vat=rates(r21="214.26"),
                booked_vat=rates(r21="214.24"),
            ),
        ),
    )
    service = await start_notifier()

    [mail] = await smtp.wait_for(1)
    assert mail.rcpt_tos == ["boekhouding@deboon.nl"]
    assert mail.mail_from == "meldingen@koppel.test"
    assert mail.message["Content-Language"] == "nl"
    assert mail.subject == "Koppel: verschil in de boeking van bestelling WEB-1001"
    body = mail.body
    assert body.startswith("Beste Koffiebranderij De Boon,")
    assert "Bestelling: WEB-1001 van 20 november 2026, € 1.234,56 (Jan Jansen)" in body
    assert "Geboekt: € 1.234,46 (boeking V2026-1001)" in body
    assert "Btw 21%: geboekt € 214,24, volgens de bestelling € 214,26." in body
    assert "Het geboekte bedrag is € 0,10 lager dan de bestelling" in body
    assert "toegestaan verschil: € 0,05" in body
    # The ledger's own sentences stay on the event (the dashboard shows them); the mail
    # words the difference itself, and links to the order for the rest.
    assert "Verzendkosten ontbreken" not in body
    assert "Bekijk de bestelling in het dashboard: http://127.0.0.1:8300/connections/" in body
    assert "Wat u kunt doen: open boeking V2026-1001 in Octopus" in body
    assert "WEB-1000" not in body

    assert len(await smtp.settled(2.0)) == 1
    stored = await service.db["mails"].find_one({"connection_id": CONN})
    assert stored["status"] == "sent"
    assert stored["recipient"] == "boekhouding@deboon.nl"
    assert stored["message_id"] == mail.message["Message-ID"]
    assert await service.db["notifications"].count_documents({"status": "sent"}) == 1


async def test_english_for_a_connection_with_language_en(
    kafka_topics, kafka_bootstrap, secrets_key, smtp: SmtpCatcher, start_notifier
) -> None:
    await publish(
        kafka_bootstrap,
        (
            kafka_topics[CONNECTIONS.name],
            settings_event(CONN, secrets_key, language="en", contact_email="books@shop.example"),
        ),
        (
            kafka_topics[OPS_ALERTS.name],
            alert_event(
                CONN,
                AlertKind.PERSISTENT_FAILURE,
                cause_id="persistent:2001:1",
                order_ref="2001",
                order_number="WEB-2001",
                reason="Octopus refused the booking: intra-community supply without a VAT number.",
                suggestion="Add the customer's VAT number, or book it as a domestic sale.",
            ),
        ),
    )
    await start_notifier()

    [mail] = await smtp.wait_for(1)
    assert mail.rcpt_tos == ["books@shop.example"]
    assert mail.message["Content-Language"] == "en"
    assert mail.subject == "Koppel: order WEB-2001 was not booked"
    body = mail.body
    assert body.startswith("Dear Koffiebranderij De Boon,")
    assert "Order: WEB-2001 of 20 November 2026, €1,234.56 (Jan Jansen)" in body
    assert "Why: Octopus refused the booking: intra-community supply without a VAT number." in body
    assert "What you can do: Add the customer's VAT number, or book it as a domestic sale." in body
    assert "Bestelling" not in body and "Beste" not in body


async def test_the_same_event_delivered_twice_sends_one_mail(
    kafka_topics, kafka_bootstrap, secrets_key, smtp: SmtpCatcher, start_notifier
) -> None:
    mismatch = check_event(CONN)
    checks = kafka_topics[LEDGER_CHECKS.name]
    await publish(
        kafka_bootstrap,
        (kafka_topics[CONNECTIONS.name], settings_event(CONN, secrets_key)),
        (checks, mismatch),
        (checks, mismatch),
    )
    service = await start_notifier()
    await smtp.wait_for(1)

    # And once more after the mail went out (a replay, a producer retry).
    await publish(kafka_bootstrap, (checks, mismatch))
    await eventually(lambda: _committed(service, 3))

    received = await smtp.settled(2.0)
    assert len(received) == 1
    assert "WEB-1001" in received[0].subject
    assert await service.db["notifications"].count_documents({}) == 1
    assert await service.db["mails"].count_documents({}) == 1


async def test_a_burst_of_five_failures_for_one_connection_is_one_mail(
    kafka_topics, kafka_bootstrap, secrets_key, smtp: SmtpCatcher, start_notifier
) -> None:
    alerts = kafka_topics[OPS_ALERTS.name]
    await publish(
        kafka_bootstrap,
        (kafka_topics[CONNECTIONS.name], settings_event(CONN, secrets_key)),
        *(
            (
                alerts,
                alert_event(
                    CONN,
                    AlertKind.PERSISTENT_FAILURE,
                    cause_id=f"persistent:{3000 + n}:1",
                    order_ref=str(3000 + n),
                    order_number=f"WEB-{3000 + n}",
                    reason=f"Grootboekrekening 80{n}0 bestaat niet in Octopus.",
                    suggestion="Kies in de koppeling een bestaande omzetrekening.",
                ),
            )
            for n in range(5)
        ),
    )
    service = await start_notifier(grouping_window_seconds=2.0)

    [mail] = await smtp.wait_for(1)
    assert mail.subject == "Koppel: 5 meldingen voor Koffiebranderij De Boon"
    body = mail.body
    for n in range(5):
        assert f"{n + 1}. Bestelling niet geboekt" in body
        assert f"Bestelling: WEB-{3000 + n} van 20 november 2026, € 1.234,56" in body
        assert f"Waarom: Grootboekrekening 80{n}0 bestaat niet in Octopus." in body
    assert body.count("Wat u kunt doen: Kies in de koppeling een bestaande omzetrekening.") == 5

    assert len(await smtp.settled(2.0)) == 1
    stored = await service.db["mails"].find_one({})
    assert len(stored["members"]) == 5


async def test_a_repeated_connection_broken_alert_sends_one_mail_until_restored(
    kafka_topics, kafka_bootstrap, secrets_key, smtp: SmtpCatcher, start_notifier
) -> None:
    alerts = kafka_topics[OPS_ALERTS.name]

    def broken():
        # Every re-sent alert is a new event (own id, own time) about the same cause.
        return alert_event(
            CONN,
            AlertKind.CONNECTION_BROKEN,
            cause_id="ledger-credentials",
            reason="Octopus weigert de inloggegevens (401).",
            suggestion="Vul in Koppel het nieuwe Octopus-wachtwoord in.",
        )

    await publish(
        kafka_bootstrap,
        (kafka_topics[CONNECTIONS.name], settings_event(CONN, secrets_key)),
        (alerts, broken()),
        (alerts, broken()),
        (alerts, broken()),
    )
    service = await start_notifier()

    [mail] = await smtp.wait_for(1)
    assert mail.subject == (
        "Koppel: uw koppeling werkt niet meer, actie nodig (Koffiebranderij De Boon)"
    )
    assert "Waarom: Octopus weigert de inloggegevens (401)." in mail.body
    assert "Wat u kunt doen: Vul in Koppel het nieuwe Octopus-wachtwoord in." in mail.body
    await publish(kafka_bootstrap, (alerts, broken()))
    await eventually(lambda: _committed(service, 4, topic="alerts"))
    assert len(await smtp.settled(1.5)) == 1

    # Restored, then broken again: a new episode of the cause, so a new mail. (The
    # restore's own mail waits for held orders this test has none of: see test_notifier_restore.)
    restored = alert_event(CONN, AlertKind.CONNECTION_RESTORED, cause_id="ledger-credentials")
    await publish(kafka_bootstrap, (alerts, restored))
    await publish(kafka_bootstrap, (alerts, broken()))
    await smtp.wait_for(2)
    subjects = [m.subject for m in await smtp.settled(1.5)]
    assert len([s for s in subjects if "werkt niet meer" in s]) == 2, subjects


async def test_mails_wait_while_smtp_is_down_and_go_out_once_when_it_is_back(
    kafka_topics, kafka_bootstrap, secrets_key, smtp: SmtpCatcher, start_notifier
) -> None:
    await smtp.stop()
    await publish(
        kafka_bootstrap,
        (kafka_topics[CONNECTIONS.name], settings_event(CONN, secrets_key)),
        (kafka_topics[LEDGER_CHECKS.name], check_event(CONN)),
    )
    service = await start_notifier()
    mails = service.db["mails"]

    async def failed_twice() -> bool:
        doc = await mails.find_one({})
        return bool(doc and doc["attempts"] >= 2 and doc.get("last_error"))

    await eventually(failed_twice)
    doc = await mails.find_one({})
    assert doc["status"] in ("ready", "sending")
    assert "SMTP" in doc["last_error"] or "Connect" in doc["last_error"], doc["last_error"]
    assert doc["next_attempt_at"] > doc["last_failed_at"], "waits before the next attempt"
    assert smtp.received == []

    await smtp.start()
    [mail] = await smtp.wait_for(1)
    assert "WEB-1001" in mail.subject
    assert len(await smtp.settled(2.5)) == 1
    doc = await mails.find_one({})
    assert doc["status"] == "sent" and doc["attempts"] >= 3


async def test_an_alert_for_an_unknown_connection_waits_for_its_settings(
    kafka_topics, kafka_bootstrap, secrets_key, smtp: SmtpCatcher, start_notifier
) -> None:
    await publish(
        kafka_bootstrap,
        (
            kafka_topics[OPS_ALERTS.name],
            alert_event(
                CONN,
                AlertKind.INGEST_FAILURE,
                cause_id="ingest:4001",
                order_ref="4001",
                order_number="WEB-4001",
                reason="De bestelling heeft geen factuuradres.",
                suggestion="Vul het factuuradres in CCV Shop in.",
            ),
        ),
    )
    service = await start_notifier()

    async def parked() -> bool:
        return (
            await service.db["notifications"].count_documents({"waiting_for_settings": True}) == 1
        )

    await eventually(parked)
    assert smtp.received == []

    await publish(
        kafka_bootstrap,
        (
            kafka_topics[CONNECTIONS.name],
            settings_event(CONN, secrets_key, contact_email="info@deboon.nl"),
        ),
    )
    [mail] = await smtp.wait_for(1, timeout=10)
    assert mail.rcpt_tos == ["info@deboon.nl"]
    assert mail.subject == "Koppel: bestelling WEB-4001 kon niet worden ingelezen"
    assert "Waarom: De bestelling heeft geen factuuradres." in mail.body
    assert len(await smtp.settled(1.5)) == 1


async def test_digest_mode_collects_a_day_into_one_mail_but_a_broken_connection_goes_at_once(
    kafka_topics, kafka_bootstrap, secrets_key, smtp: SmtpCatcher, start_notifier
) -> None:
    clock = FakeClock()
    alerts = kafka_topics[OPS_ALERTS.name]
    failures = [
        alert_event(
            CONN,
            AlertKind.PERSISTENT_FAILURE,
            cause_id=f"persistent:{5000 + n}:1",
            order_ref=str(5000 + n),
            order_number=f"WEB-{5000 + n}",
        )
        for n in range(3)
    ]
    broken = alert_event(
        CONN,
        AlertKind.CONNECTION_BROKEN,
        cause_id="shop-credentials",
        reason="CCV Shop weigert de API-sleutel.",
        suggestion="Maak in CCV Shop een nieuwe API-sleutel aan.",
    )
    await publish(
        kafka_bootstrap,
        (kafka_topics[CONNECTIONS.name], settings_event(CONN, secrets_key)),
        (
            kafka_topics[LEDGER_CHECKS.name],
            check_event(CONN, order_ref="5100", order_number="WEB-5100"),
        ),
        *((alerts, f) for f in failures),
        (alerts, broken),
    )
    service = await start_notifier(clock=clock, digest_enabled=True, digest_hour=8)
    notifications = service.db["notifications"]

    [urgent] = await smtp.wait_for(1)
    assert urgent.subject.startswith("Koppel: uw koppeling werkt niet meer")
    assert "WEB-5000" not in urgent.body

    async def all_recorded() -> bool:
        return await notifications.count_documents({}) == 5

    await eventually(all_recorded)
    digest_due = next_digest_at(clock(), 8, "Europe/Amsterdam")
    waiting = await notifications.find({"channel": "digest"}).to_list(None)
    assert len(waiting) == 4
    assert {n["status"] for n in waiting} == {"pending"}
    assert {n["due_at"] for n in waiting} == {digest_due}
    assert len(await smtp.settled(2.0)) == 1, "nothing else before the digest hour"

    clock.advance_to(digest_due + timedelta(minutes=1))
    received = await smtp.wait_for(2)
    digest = received[1]
    local_day = digest_due.astimezone(next_digest_zone()).date()
    months = (
        "januari februari maart april mei juni juli augustus september oktober november december"
    )
    day = f"{local_day.day} {months.split()[local_day.month - 1]} {local_day.year}"
    assert digest.subject == f"Koppel dagoverzicht {day}: 4 meldingen voor Koffiebranderij De Boon"
    for number in ("WEB-5000", "WEB-5001", "WEB-5002", "WEB-5100"):
        assert number in digest.body
    assert "werkt niet meer" not in digest.body
    assert len(await smtp.settled(2.0)) == 2
    assert await notifications.count_documents({"status": "sent"}) == 5


async def test_two_notifier_replicas_send_each_mail_once(
    kafka_topics, kafka_bootstrap, secrets_key, smtp: SmtpCatcher, start_notifier
) -> None:
    connections = [f"shop-{n}" for n in range(4)]
    await publish(
        kafka_bootstrap,
        *((kafka_topics[CONNECTIONS.name], settings_event(c, secrets_key)) for c in connections),
        *(
            (
                kafka_topics[LEDGER_CHECKS.name],
                check_event(c, order_ref=str(n), order_number=f"WEB-{n}"),
            )
            for c in connections
            for n in range(3)
        ),
    )
    first = await start_notifier(grouping_window_seconds=2.0, poll_interval_seconds=0.05)
    await start_notifier(grouping_window_seconds=2.0, poll_interval_seconds=0.05)

    async def all_sent() -> bool:
        return await first.db["notifications"].count_documents({"status": "sent"}) == 12

    await eventually(all_sent, timeout=30)
    received = await smtp.settled(2.5)
    # Each (connection, order) is mailed exactly once, whichever replica sent it. Usually
    # that is one mail per connection; a consumer-group rebalance may split one in two.
    mentioned = sorted(
        (mail.message["X-Koppel-Connection"], line.split()[1])
        for mail in received
        for line in mail.body.splitlines()
        if line.strip().startswith("Bestelling: WEB-")
    )
    assert mentioned == sorted((c, f"WEB-{n}") for c in connections for n in range(3))
    assert await first.db["mails"].count_documents({"status": "sent"}) == len(received)
    assert len({m.message["Message-ID"] for m in received}) == len(received)


def next_digest_zone() -> ZoneInfo:
    return ZoneInfo("Europe/Amsterdam")


async def _committed(service, count: int, topic: str = "checks") -> bool:
    """True once the service's consumer group has committed `count` messages of the topic."""
    contract = LEDGER_CHECKS if topic == "checks" else OPS_ALERTS
    name = service.names.name(contract)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=service.settings.kafka_bootstrap_servers,
        group_id=service.settings.group_id(topic),
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(name) or set(range(3))
        total = 0
        for p in partitions:
            total += await consumer.committed(TopicPartition(name, p)) or 0
        return total >= count
    finally:
        await consumer.stop()
