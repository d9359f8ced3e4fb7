"""Octopus unavailable, refusing, or refusing our credentials; and the read-back check."""

from __future__ import annotations

from decimal import Decimal

import pytest
from koppel_contracts import (
    LEDGER_BOOKINGS,
    LEDGER_CHECKS,
    OPS_ALERTS,
    AlertEvent,
    AlertKind,
    BookingEvent,
    BookingStatus,
    CheckEvent,
    CheckOutcome,
    FailureKind,
)
from koppel_sandbox_octopus import DEMO
from koppel_testkit import line, make_order, make_order_event, read_events

from .helpers import CONNECTION, demo_booking, eventually

D = DEMO.dossier_id
INVOICES = rf"^(/octopus-rest-api/v1)?/dossiers/{D}/invoices$"


async def events(kafka_bootstrap, kafka_topics, topic, model, at_least=1, settle=0.0):
    return await read_events(
        kafka_bootstrap,
        kafka_topics[topic.name],
        model,
        at_least=at_least,
        timeout=45,
        settle=settle,
    )


TRANSIENT_FAULTS = {
    "503 on create": [{"status": 503, "path": INVOICES, "method": "POST", "times": 2}],
    "500 on read-back": [{"status": 500, "path": INVOICES, "method": "GET", "times": 3}],
    "429 on create": [{"status": 429, "path": INVOICES, "method": "POST", "times": 3}],
    "timeout on create": [{"timeout": True, "path": INVOICES, "method": "POST", "times": 1}],
    "timeout and 502 on login": [
        {"timeout": True, "path": "/authentication$", "times": 1},
        {"status": 502, "path": "/authentication$", "times": 2},
    ],
}


@pytest.mark.parametrize("faults", TRANSIENT_FAULTS.values(), ids=TRANSIENT_FAULTS.keys())
async def test_transient_failures_are_retried_until_booked(
    faults, octopus, ledger, publish_connection, publish_order, kafka_bootstrap, kafka_topics
) -> None:
    await publish_connection()
    running = await ledger()
    for fault in faults:
        await octopus.control.add_fault(**fault)
    await publish_order(make_order_event(make_order(order_id="1"), connection_id=CONNECTION))

    bookings = await events(kafka_bootstrap, kafka_topics, LEDGER_BOOKINGS, BookingEvent)
    checks = await events(kafka_bootstrap, kafka_topics, LEDGER_CHECKS, CheckEvent)
    assert [b.status for b in bookings] == [BookingStatus.BOOKED]
    assert checks[0].outcome == CheckOutcome.MATCHED
    invoices = await octopus.control.invoices(D)
    assert len(invoices) == 1
    assert invoices[0]["_sandbox"]["totalInclVat"] == Decimal("62.00")
    assert (await octopus.control.faults())["pending"] == [], "every fault was hit"
    doc = await running.orders.find_one({"order_ref": "1"})
    assert doc["state"] == "verified"
    assert doc["attempts"] == 0 and doc["next_attempt_at"] is None


async def test_a_slow_order_does_not_block_the_next_one(
    octopus, ledger, publish_connection, publish_order, kafka_bootstrap, kafka_topics
) -> None:
    await publish_connection()
    # Long enough that "fast" is booked before "slow" retries even on a loaded CI machine
    # (5 s was not: the baseline once saw "slow" retried first).
    running = await ledger(retry_initial_seconds=20.0)
    await octopus.control.add_fault(status=503, path=INVOICES, method="POST", times=1)
    await publish_order(make_order_event(make_order(order_id="slow"), connection_id=CONNECTION))

    # The two orders' keys may fall on different partitions, consumed in either order:
    # only once "slow" met the fault does "fast" follow (it would else meet it itself).
    async def slow_is_waiting() -> bool:
        doc = await running.orders.find_one({"order_ref": "slow"})
        return doc is not None and doc["state"] == "waiting"

    await eventually(slow_is_waiting, timeout=30)
    await publish_order(make_order_event(make_order(order_id="fast"), connection_id=CONNECTION))

    bookings = await events(kafka_bootstrap, kafka_topics, LEDGER_BOOKINGS, BookingEvent)
    assert [b.order_ref for b in bookings] == ["fast"]
    slow = await running.orders.find_one({"order_ref": "slow"})
    assert slow["state"] == "waiting" and slow["attempts"] == 1
    bookings = await events(kafka_bootstrap, kafka_topics, LEDGER_BOOKINGS, BookingEvent, 2)
    assert sorted(b.order_ref for b in bookings) == ["fast", "slow"]
    assert len(await octopus.control.invoices(D)) == 2


async def test_a_transient_failure_becomes_persistent_after_the_limit(
    octopus, ledger, publish_connection, publish_order, kafka_bootstrap, kafka_topics
) -> None:
    await publish_connection()
    running = await ledger(persistent_after=2)
    await octopus.control.add_fault(status=503, path=INVOICES, method="POST", times=1000)
    await publish_order(make_order_event(make_order(order_id="2"), connection_id=CONNECTION))

    bookings = await events(kafka_bootstrap, kafka_topics, LEDGER_BOOKINGS, BookingEvent)
    alerts = await events(kafka_bootstrap, kafka_topics, OPS_ALERTS, AlertEvent)
    assert [b.status for b in bookings] == [BookingStatus.FAILED]
    failure = bookings[0].failure
    assert failure is not None
    assert failure.kind == FailureKind.TRANSIENT and failure.persistent is True
    assert failure.reason_code == "ledger_unavailable"
    assert failure.attempts >= 3
    assert "niet bereikbaar" in failure.reason and failure.suggestion
    assert [(a.kind, a.order_ref) for a in alerts] == [(AlertKind.PERSISTENT_FAILURE, "2")]
    assert await octopus.control.invoices(D) == []
    doc = await running.orders.find_one({"order_ref": "2"})
    assert doc["state"] == "failed" and doc["next_attempt_at"] is None


@pytest.mark.parametrize(
    ("language", "reason_part"),
    [("nl", "btw-nummer"), ("en", "VAT number")],
)
async def test_a_permanent_refusal_becomes_a_failure_with_reason_and_suggestion(
    language,
    reason_part,
    octopus,
    ledger,
    publish_connection,
    publish_order,
    kafka_bootstrap,
    kafka_topics,
) -> None:
    await publish_connection(language=language)
    await ledger()
    # 0 % to a German business without a VAT number: not an intra-Community supply.
    order = make_order(
        order_id="3",
        country="DE",
        company_name="Maschinen GmbH",
        lines=[line("Kaffeemaschine", "1", "400.00", "0")],
    )
    await publish_order(make_order_event(order, connection_id=CONNECTION))

    bookings = await events(kafka_bootstrap, kafka_topics, LEDGER_BOOKINGS, BookingEvent)
    alerts = await events(kafka_bootstrap, kafka_topics, OPS_ALERTS, AlertEvent)
    assert [b.status for b in bookings] == [BookingStatus.FAILED]
    failure = bookings[0].failure
    assert failure is not None
    assert failure.kind == FailureKind.PERMANENT and failure.persistent
    assert failure.reason_code == "icp_without_vat_number"
    assert reason_part in failure.reason + failure.suggestion
    assert failure.suggestion and failure.suggestion != failure.reason
    assert alerts[0].kind == AlertKind.PERSISTENT_FAILURE
    assert alerts[0].reason_code == "icp_without_vat_number"
    assert await octopus.control.invoices(D) == []
    assert await octopus.control.calls(D) == {}, "refused before any call to Octopus"


async def test_a_mapping_octopus_does_not_know_is_refused_with_a_suggestion(
    octopus, ledger, publish_connection, publish_order, kafka_bootstrap, kafka_topics
) -> None:
    booking = demo_booking()
    vat = [
        m.model_copy(update={"ledger_account": "799999"}) if m.vat_rate == 9 else m
        for m in booking.vat_accounts
    ]
    await publish_connection(booking=booking.model_copy(update={"vat_accounts": vat}))
    await ledger()
    await publish_order(make_order_event(make_order(order_id="4"), connection_id=CONNECTION))

    bookings = await events(kafka_bootstrap, kafka_topics, LEDGER_BOOKINGS, BookingEvent)
    failure = bookings[0].failure
    assert failure is not None and failure.reason_code == "unknown_ledger_account"
    assert "799999" in failure.reason and "9% btw" in failure.suggestion
    assert await octopus.control.invoices(D) == []


async def test_a_closed_journal_in_octopus_is_a_permanent_failure(
    octopus, ledger, publish_connection, publish_order, kafka_bootstrap, kafka_topics
) -> None:
    await publish_connection()
    await ledger()
    await publish_order(make_order_event(make_order(order_id="5"), connection_id=CONNECTION))
    await events(kafka_bootstrap, kafka_topics, LEDGER_CHECKS, CheckEvent)
    await octopus.control.close_journal(D, DEMO.journal_sales)  # our cache still says open

    await publish_order(make_order_event(make_order(order_id="6"), connection_id=CONNECTION))
    bookings = await events(kafka_bootstrap, kafka_topics, LEDGER_BOOKINGS, BookingEvent, 2)
    [failed] = [b for b in bookings if b.order_ref == "6"]
    assert failed.status == BookingStatus.FAILED
    # Octopus answered 403; asked, the journal turned out closed (not merely in use).
    assert failed.failure.reason_code == "journal_closed"
    assert "Dagboek V1 is afgesloten" in failed.failure.reason
    assert len(await octopus.control.invoices(D)) == 1


async def test_refused_credentials_hold_the_connection_until_new_settings_arrive(
    octopus, ledger, publish_connection, publish_order, kafka_bootstrap, kafka_topics
) -> None:
    await publish_connection()
    running = await ledger()
    await publish_order(make_order_event(make_order(order_id="7"), connection_id=CONNECTION))
    await events(kafka_bootstrap, kafka_topics, LEDGER_CHECKS, CheckEvent)
    await octopus.control.set_password(DEMO.user, "changed-by-the-merchant")

    await publish_order(make_order_event(make_order(order_id="8"), connection_id=CONNECTION))
    await publish_order(make_order_event(make_order(order_id="9"), connection_id=CONNECTION))
    bookings = await events(kafka_bootstrap, kafka_topics, LEDGER_BOOKINGS, BookingEvent, 3)
    alerts = await events(kafka_bootstrap, kafka_topics, OPS_ALERTS, AlertEvent, settle=1.0)
    # Different orders may sit on different partitions: compare without order.
    assert sorted((b.order_ref, b.status) for b in bookings) == [
        ("7", BookingStatus.BOOKED),
        ("8", BookingStatus.HELD),
        ("9", BookingStatus.HELD),
    ]
    held = [b for b in bookings if b.status == BookingStatus.HELD]
    assert {b.failure.kind for b in held} == {FailureKind.CREDENTIALS}
    assert [a.kind for a in alerts] == [AlertKind.CONNECTION_BROKEN], "one alert per connection"
    assert alerts[0].order_ref is None and "inloggegevens" in alerts[0].reason
    calls = await octopus.control.calls()
    assert calls["POST /authentication"] == 2, "the second held order did not call Octopus"
    for ref in ("8", "9"):
        doc = await running.orders.find_one({"order_ref": ref})
        assert doc["state"] == "held"

    await publish_connection(version=2, password="changed-by-the-merchant")
    bookings = await events(kafka_bootstrap, kafka_topics, LEDGER_BOOKINGS, BookingEvent, 5)
    booked = [b.order_ref for b in bookings if b.status == BookingStatus.BOOKED]
    assert sorted(booked) == ["7", "8", "9"]
    alerts = await events(kafka_bootstrap, kafka_topics, OPS_ALERTS, AlertEvent, 2, settle=1.0)
    assert [a.kind for a in alerts] == [
        AlertKind.CONNECTION_BROKEN,
        AlertKind.CONNECTION_RESTORED,
    ], [(a.event_id, a.occurred_at) for a in alerts]
    assert alerts[1].order_ref is None
    assert len(await octopus.control.invoices(D)) == 3


async def test_expired_tokens_are_renewed_by_logging_in_again(
    octopus, ledger, publish_connection, publish_order, kafka_bootstrap, kafka_topics
) -> None:
    await publish_connection()
    await ledger()
    await publish_order(make_order_event(make_order(order_id="10"), connection_id=CONNECTION))
    await events(kafka_bootstrap, kafka_topics, LEDGER_CHECKS, CheckEvent)
    await octopus.control.expire_tokens()
    await publish_order(make_order_event(make_order(order_id="11"), connection_id=CONNECTION))
    bookings = await events(kafka_bootstrap, kafka_topics, LEDGER_BOOKINGS, BookingEvent, 2)
    assert [b.status for b in bookings] == [BookingStatus.BOOKED, BookingStatus.BOOKED]
    calls = await octopus.control.calls()
    assert calls["POST /authentication"] == 2 and calls["POST /dossiers"] == 2


@pytest.mark.parametrize("tamper", ["total", "customer"])
async def test_a_booking_that_differs_from_the_order_raises_a_mismatch_event(
    tamper, octopus, ledger, publish_connection, publish_order, kafka_bootstrap, kafka_topics
) -> None:
    await publish_connection()
    running = await ledger()
    other = DEMO.relations["bol_customers"]
    if tamper == "total":
        await octopus.control.tamper_next_document(total_delta="1.00")
    else:
        await octopus.control.tamper_next_document(total_delta="0", relation_id=other)
    await publish_order(make_order_event(make_order(order_id="12"), connection_id=CONNECTION))

    checks = await events(kafka_bootstrap, kafka_topics, LEDGER_CHECKS, CheckEvent, settle=1.0)
    bookings = await events(kafka_bootstrap, kafka_topics, LEDGER_BOOKINGS, BookingEvent)
    assert [c.outcome for c in checks] == [CheckOutcome.MISMATCH]
    check = checks[0]
    assert check.expected_total_incl_vat == Decimal("62.00")
    assert check.tolerance == Decimal("0.05")
    if tamper == "total":
        assert check.booked_total_incl_vat == Decimal("63.00")
        assert check.difference == Decimal("1.00")
    else:
        assert check.difference == 0
        assert check.booked_customer == f"relatie {other}"
        assert check.booked_customer not in check.expected_customer
    assert check.details
    assert bookings[0].status == BookingStatus.BOOKED
    doc = await running.orders.find_one({"order_ref": "12"})
    assert doc["state"] == "mismatch"


async def test_a_difference_within_the_tolerance_is_not_a_mismatch(
    octopus, ledger, publish_connection, publish_order, kafka_bootstrap, kafka_topics
) -> None:
    await publish_connection()
    await ledger()
    await octopus.control.tamper_next_document(total_delta="0.04")
    await publish_order(make_order_event(make_order(order_id="13"), connection_id=CONNECTION))
    checks = await events(kafka_bootstrap, kafka_topics, LEDGER_CHECKS, CheckEvent)
    assert checks[0].outcome == CheckOutcome.MATCHED
    assert checks[0].difference == Decimal("0.04")
    assert checks[0].details


async def test_a_used_up_daily_quota_makes_the_connection_wait_without_calling(
    octopus, ledger, publish_connection, publish_order, kafka_bootstrap, kafka_topics
) -> None:
    await publish_connection()
    running = await ledger()
    await octopus.control.set_quota(1)  # one call per endpoint per day
    await publish_order(make_order_event(make_order(order_id="q1"), connection_id=CONNECTION))
    await events(kafka_bootstrap, kafka_topics, LEDGER_CHECKS, CheckEvent)

    await publish_order(make_order_event(make_order(order_id="q2"), connection_id=CONNECTION))

    async def waiting(ref):
        doc = await running.orders.find_one({"order_ref": ref})
        return doc and doc["state"] == "waiting" and doc

    q2 = await eventually(lambda: waiting("q2"))
    await publish_order(make_order_event(make_order(order_id="q3"), connection_id=CONNECTION))
    q3 = await eventually(lambda: waiting("q3"))
    for doc in (q2, q3):
        delay = doc["next_attempt_at"] - doc["updated_at"]
        assert delay.total_seconds() > 3600, "waits for the quota window, not seconds"
    calls = await octopus.control.calls(D)
    # q1 booked; q2's create hit the quota (sent once); q3 did not call Octopus at all.
    assert calls["POST /dossiers/{d}/invoices"] == 2
    assert q3.get("calls", 0) == 0
    assert len(await octopus.control.invoices(D)) == 1
