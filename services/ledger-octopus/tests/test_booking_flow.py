"""Orders become concept invoices (or financial bookings) in Octopus — exactly once.

Real broker, real MongoDB-compatible server, the Octopus sandbox on a real port.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from koppel_bookkeeping import plan_booking
from koppel_chassis import SecretBox
from koppel_contracts import (
    LEDGER_BOOKINGS,
    LEDGER_CHECKS,
    BookingEvent,
    BookingMode,
    BookingStatus,
    CheckEvent,
    CheckOutcome,
    OrderEventKind,
)
from koppel_ledger import Debtor, RecordedPlan
from koppel_ledger_octopus.account import OctopusAccount
from koppel_ledger_octopus.client import ClientOptions, OctopusClient
from koppel_ledger_octopus.mapping import Header, invoice_body
from koppel_ledger_octopus.reference import Placement
from koppel_sandbox_octopus import DEMO
from koppel_sandbox_octopus.documents import book_invoices
from koppel_testkit import line, make_order, make_order_event, read_events

from .helpers import CONNECTION, demo_booking, demo_octopus, demo_settings, eventually

D = DEMO.dossier_id


async def bookings_of(kafka_bootstrap, kafka_topics, at_least=1, settle=0.0):
    return await read_events(
        kafka_bootstrap,
        kafka_topics[LEDGER_BOOKINGS.name],
        BookingEvent,
        at_least=at_least,
        timeout=45,
        settle=settle,
    )


async def checks_of(kafka_bootstrap, kafka_topics, at_least=1, settle=0.0):
    return await read_events(
        kafka_bootstrap,
        kafka_topics[LEDGER_CHECKS.name],
        CheckEvent,
        at_least=at_least,
        timeout=45,
        settle=settle,
    )


def lines_of(invoice):
    return {
        (ln["vatCodeKey"], ln["bookingAccountNr"], ln["count"], ln["unitPrice"])
        for ln in invoice["invoiceLines"]
    }


async def test_one_order_becomes_one_concept_invoice_with_the_right_lines(
    octopus, ledger, publish_connection, publish_order, kafka_bootstrap, kafka_topics
) -> None:
    await publish_connection()
    await ledger()
    order = make_order(order_id="1001")  # 2x coffee 24.95 @ 9 %, 1 mug 12.10 @ 21 %
    await publish_order(make_order_event(order, connection_id=CONNECTION))

    bookings = await bookings_of(kafka_bootstrap, kafka_topics)
    checks = await checks_of(kafka_bootstrap, kafka_topics)
    invoices = await octopus.control.invoices(D)
    assert len(invoices) == 1
    invoice = invoices[0]
    assert invoice["reference"] == "WEB-1001"
    assert invoice["journalKey"] == DEMO.journal_sales
    assert invoice["documentDate"] == "2026-11-20"
    assert invoice["bookyearPeriodeNr"] == 202611
    assert invoice["_sandbox"]["booked"] is False  # a concept invoice
    assert invoice["_sandbox"]["totalInclVat"] == Decimal("62.00")
    assert lines_of(invoice) == {
        (DEMO.vat_codes["21"], DEMO.accounts["revenue_21"], 1, Decimal("10.00")),
        (DEMO.vat_codes["9"], DEMO.accounts["revenue_9"], 1, Decimal("45.78")),
    }
    relations = await octopus.control.relations(D)
    customer = [r for r in relations if r.get("email") == "jan@example.nl"]
    assert len(customer) == 1
    assert customer[0]["name"] == "Jansen" and customer[0]["firstName"] == "Jan"
    relation_id = customer[0]["relationIdentificationServiceData"]["relationKey"]["id"]
    assert invoice["relationIdentificationServiceData"]["relationKey"]["id"] == relation_id

    assert [b.status for b in bookings] == [BookingStatus.BOOKED]
    assert bookings[0].order_ref == "1001" and bookings[0].order_revision == 1
    assert bookings[0].ledger_ref is not None
    assert bookings[0].ledger_ref.document_number == str(invoice["documentSequenceNr"])
    assert bookings[0].ledger_ref.debtor_id == str(relation_id)
    assert bookings[0].ledger_ref.journal == "V1"
    assert [c.outcome for c in checks] == [CheckOutcome.MATCHED]
    assert checks[0].difference == 0
    assert checks[0].expected_total_incl_vat == checks[0].booked_total_incl_vat == Decimal("62.00")


async def test_a_booking_in_steady_state_costs_two_octopus_calls(
    octopus, ledger, publish_connection, publish_order, kafka_bootstrap, kafka_topics
) -> None:
    await publish_connection()
    running = await ledger()
    await publish_order(make_order_event(make_order(order_id="2001"), connection_id=CONNECTION))
    await bookings_of(kafka_bootstrap, kafka_topics, at_least=1)
    await checks_of(kafka_bootstrap, kafka_topics, at_least=1)
    before = await octopus.control.calls()

    # Same customer, reference data and tokens cached: create + read back, nothing else.
    await publish_order(make_order_event(make_order(order_id="2002"), connection_id=CONNECTION))
    await checks_of(kafka_bootstrap, kafka_topics, at_least=2)
    after = await octopus.control.calls()
    spent = {k: after.get(k, 0) - before.get(k, 0) for k in after if after[k] != before.get(k)}
    assert spent == {"POST /dossiers/{d}/invoices": 1, "GET /dossiers/{d}/invoices": 1}
    doc = await running.orders.find_one({"order_ref": "2002"})
    assert doc["calls"] == 2
    assert len(await octopus.control.invoices(D)) == 2
    metrics = running.service.registry.get_sample_value
    assert metrics("koppel_ledger_calls_per_booking_count", {"ledger": "octopus"}) == 2
    calls = {"ledger": "octopus", "operation": "create_invoice"}
    assert metrics("koppel_ledger_calls_total", calls) == 2

    # A new customer costs one more call: the relation is created (the index is fresh).
    newcomer = make_order(order_id="2003", email="nieuw@example.nl")
    await publish_order(make_order_event(newcomer, connection_id=CONNECTION))
    await checks_of(kafka_bootstrap, kafka_topics, at_least=3)
    final = await octopus.control.calls()
    spent = {k: final.get(k, 0) - after.get(k, 0) for k in final if final[k] != after.get(k)}
    assert spent == {
        "PUT /dossiers/{d}/relations": 1,
        "POST /dossiers/{d}/invoices": 1,
        "GET /dossiers/{d}/invoices": 1,
    }


async def test_the_same_event_delivered_three_times_books_one_invoice(
    octopus, ledger, publish_connection, publish_order, kafka_bootstrap, kafka_topics
) -> None:
    await publish_connection()
    await ledger()
    event = make_order_event(make_order(order_id="3001"), connection_id=CONNECTION)
    for _ in range(3):
        await publish_order(event)

    bookings = await bookings_of(kafka_bootstrap, kafka_topics, settle=3.0)
    checks = await checks_of(kafka_bootstrap, kafka_topics, settle=1.0)
    assert len(await octopus.control.invoices(D)) == 1
    assert [b.status for b in bookings] == [BookingStatus.BOOKED]
    assert len(checks) == 1
    calls = await octopus.control.calls(D)
    assert calls["POST /dossiers/{d}/invoices"] == 1


async def test_an_amendment_replaces_the_concept_invoice(
    octopus, ledger, publish_connection, publish_order, kafka_bootstrap, kafka_topics
) -> None:
    await publish_connection()
    await ledger()
    first = make_order(order_id="4001")
    await publish_order(make_order_event(first, connection_id=CONNECTION))
    await checks_of(kafka_bootstrap, kafka_topics, at_least=1)

    amended = make_order(order_id="4001", lines=[line("Mok", "3", "12.10", "21")])
    await publish_order(
        make_order_event(amended, connection_id=CONNECTION, kind=OrderEventKind.AMENDED, revision=2)
    )
    bookings = await bookings_of(kafka_bootstrap, kafka_topics, at_least=2)
    checks = await checks_of(kafka_bootstrap, kafka_topics, at_least=2)
    invoices = await octopus.control.invoices(D)
    assert len(invoices) == 1, "the concept is replaced in place"
    assert lines_of(invoices[0]) == {
        (DEMO.vat_codes["21"], DEMO.accounts["revenue_21"], 1, Decimal("30.00"))
    }
    assert invoices[0]["_sandbox"]["totalInclVat"] == Decimal("36.30")
    assert [b.status for b in bookings] == [BookingStatus.BOOKED, BookingStatus.REPLACED]
    assert bookings[1].order_revision == 2
    assert bookings[1].ledger_ref == bookings[0].ledger_ref
    assert [(c.order_revision, c.outcome) for c in checks] == [
        (1, CheckOutcome.MATCHED),
        (2, CheckOutcome.MATCHED),
    ]
    assert checks[1].booked_total_incl_vat == Decimal("36.30")


async def test_an_amendment_of_a_booked_invoice_credits_and_rebooks(
    octopus, ledger, publish_connection, publish_order, kafka_bootstrap, kafka_topics
) -> None:
    await publish_connection()
    await ledger()
    await publish_order(make_order_event(make_order(order_id="5001"), connection_id=CONNECTION))
    await checks_of(kafka_bootstrap, kafka_topics, at_least=1)
    # The accountant books the concept in Octopus meanwhile (Octopus' own /invoices/book).
    dossier = octopus.state.dossiers[D]
    bookyear = next(iter(dossier.invoices))[0]
    book_invoices(
        octopus.state,
        dossier,
        {"bookyearId": str(bookyear), "journalKey": "V1", "toDocumentSequenceNr": "999"},
    )

    amended = make_order(order_id="5001", lines=[line("Mok", "2", "12.10", "21")])
    await publish_order(
        make_order_event(amended, connection_id=CONNECTION, kind=OrderEventKind.AMENDED, revision=2)
    )
    bookings = await bookings_of(kafka_bootstrap, kafka_topics, at_least=2)
    checks = await checks_of(kafka_bootstrap, kafka_topics, at_least=2)
    invoices = await octopus.control.invoices(D)
    totals = [(i["reference"], i["_sandbox"]["totalInclVat"]) for i in invoices]
    assert totals == [
        ("WEB-5001", Decimal("62.00")),
        ("WEB-5001", Decimal("-62.00")),  # the credit note
        ("WEB-5001", Decimal("24.20")),  # the rebooked amendment
    ]
    assert [b.status for b in bookings] == [BookingStatus.BOOKED, BookingStatus.REPLACED]
    assert bookings[1].ledger_ref.document_number == str(invoices[2]["documentSequenceNr"])
    assert checks[1].outcome == CheckOutcome.MATCHED
    assert checks[1].booked_total_incl_vat == Decimal("24.20")


async def test_a_cancellation_produces_a_credit_note(
    octopus, ledger, publish_connection, publish_order, kafka_bootstrap, kafka_topics
) -> None:
    await publish_connection()
    running = await ledger()
    order = make_order(order_id="6001")
    await publish_order(make_order_event(order, connection_id=CONNECTION))
    await checks_of(kafka_bootstrap, kafka_topics, at_least=1)
    await publish_order(
        make_order_event(order, connection_id=CONNECTION, kind=OrderEventKind.CANCELLED, revision=2)
    )
    bookings = await bookings_of(kafka_bootstrap, kafka_topics, at_least=2)
    checks = await checks_of(kafka_bootstrap, kafka_topics, at_least=2)
    invoices = await octopus.control.invoices(D)
    assert [i["_sandbox"]["totalInclVat"] for i in invoices] == [
        Decimal("62.00"),
        Decimal("-62.00"),
    ]
    credit = invoices[1]
    assert {ln["count"] for ln in credit["invoiceLines"]} == {-1}
    assert credit["reference"] == "WEB-6001"
    assert [b.status for b in bookings] == [BookingStatus.BOOKED, BookingStatus.CREDITED]
    assert bookings[1].ledger_ref.document_number == str(credit["documentSequenceNr"])
    assert checks[1].outcome == CheckOutcome.MATCHED
    assert checks[1].expected_total_incl_vat == Decimal("-62.00")
    doc = await running.orders.find_one({"order_ref": "6001"})
    assert doc["state"] == "credited" and doc["ledger"] is None


async def test_financial_mode_books_a_balanced_financial_mutation(
    octopus, ledger, publish_connection, publish_order, kafka_bootstrap, kafka_topics
) -> None:
    options = demo_octopus(booking_mode=BookingMode.FINANCIAL, journal=DEMO.journal_financial)
    await publish_connection(octopus=options)
    await ledger()
    await publish_order(make_order_event(make_order(order_id="7001"), connection_id=CONNECTION))
    bookings = await bookings_of(kafka_bootstrap, kafka_topics)
    checks = await checks_of(kafka_bootstrap, kafka_topics)
    assert await octopus.control.invoices(D) == []
    financial = await octopus.control.financial_bookings(D)
    assert len(financial) == 1
    booked = financial[0]
    assert booked["journalKey"] == "F1"
    amounts = {(ln["type"], ln.get("accountKey"), ln["amount"]) for ln in booked["bookingLines"]}
    relation_id = booked["bookingLines"][0]["relationId"]
    assert amounts == {
        ("C", None, Decimal("62.00")),
        ("A", DEMO.accounts["revenue_21"], Decimal("-10.00")),
        ("A", DEMO.accounts["revenue_9"], Decimal("-45.78")),
        ("A", DEMO.accounts["vat_payable"], Decimal("-2.10")),
        ("A", DEMO.accounts["vat_payable"], Decimal("-4.12")),
    }
    assert sum(ln["amount"] for ln in booked["bookingLines"]) == 0
    assert bookings[0].status == BookingStatus.BOOKED
    assert bookings[0].ledger_ref.journal == "F1"
    assert bookings[0].ledger_ref.debtor_id == str(relation_id)
    assert checks[0].outcome == CheckOutcome.MATCHED


async def test_a_fixed_debtor_per_payment_method_and_matching_switched_off(
    octopus, ledger, publish_connection, publish_order, kafka_bootstrap, kafka_topics
) -> None:
    fixed = DEMO.relations["webshop_customers"]
    booking = demo_booking(payment_method_debtors={"ideal": str(fixed)}, debtor_matching=False)
    await publish_connection(booking=booking)
    await ledger()
    relations_before = len(await octopus.control.relations(D))
    await publish_order(make_order_event(make_order(order_id="8001"), connection_id=CONNECTION))
    card = make_order(order_id="8002", payment_method="creditcard", email="piet@example.nl")
    await publish_order(make_order_event(card, connection_id=CONNECTION))
    await checks_of(kafka_bootstrap, kafka_topics, at_least=2)

    invoices = {i["reference"]: i for i in await octopus.control.invoices(D)}
    ident = {ref: i["relationIdentificationServiceData"] for ref, i in invoices.items()}
    assert ident["WEB-8001"]["relationKey"]["id"] == fixed
    relations = await octopus.control.relations(D)
    assert len(relations) == relations_before + 1, "matching off: a relation for the order"
    new = relations[-1]
    assert new["email"] == "piet@example.nl"
    assert (
        ident["WEB-8002"]["relationKey"]["id"]
        == (new["relationIdentificationServiceData"]["relationKey"]["id"])
    )


async def test_returning_customers_are_matched_by_e_mail_from_the_relation_index(
    octopus, ledger, publish_connection, publish_order, kafka_bootstrap, kafka_topics
) -> None:
    await publish_connection()
    running = await ledger()
    await publish_order(make_order_event(make_order(order_id="9001"), connection_id=CONNECTION))
    await checks_of(kafka_bootstrap, kafka_topics, at_least=1)
    again = make_order(order_id="9002", email="JAN@example.nl")
    await publish_order(make_order_event(again, connection_id=CONNECTION))
    await checks_of(kafka_bootstrap, kafka_topics, at_least=2)

    customers = [r for r in await octopus.control.relations(D) if r.get("email")]
    assert len(customers) == 1
    relation_id = customers[0]["relationIdentificationServiceData"]["relationKey"]["id"]
    invoices = await octopus.control.invoices(D)
    assert {i["relationIdentificationServiceData"]["relationKey"]["id"] for i in invoices} == {
        relation_id
    }
    index = running.service.db["relations"]
    assert await index.count_documents({"email": "jan@example.nl"}) == 1


async def test_orders_wait_for_their_connection_settings_and_then_book(
    octopus, ledger, publish_connection, publish_order, kafka_bootstrap, kafka_topics
) -> None:
    running = await ledger()
    await publish_order(make_order_event(make_order(order_id="10001"), connection_id=CONNECTION))

    async def waiting():
        doc = await running.orders.find_one({"order_ref": "10001"})
        return doc and doc["state"] == "waiting" and doc["reason_code"] == "settings_pending"

    await eventually(waiting)
    assert await octopus.control.invoices(D) == []
    await publish_connection()
    bookings = await bookings_of(kafka_bootstrap, kafka_topics)
    assert bookings[0].status == BookingStatus.BOOKED
    assert len(await octopus.control.invoices(D)) == 1


async def test_orders_of_connections_booking_elsewhere_are_ignored(
    octopus, ledger, publish_connection, publish_order, kafka_bootstrap, kafka_topics
) -> None:
    await publish_connection(system="snelstart")
    running = await ledger()

    async def known() -> bool:
        found = await running.service.db["connections"].find_one({"_id": CONNECTION})
        return found is not None

    await eventually(known)
    await publish_order(make_order_event(make_order(order_id="11001"), connection_id=CONNECTION))
    # Nothing is kept of it (every ledger service reads every order), nothing is called.
    assert await bookings_of(kafka_bootstrap, kafka_topics, at_least=0, settle=3.0) == []
    assert await running.orders.find_one({"order_ref": "11001"}) is None
    assert await octopus.control.calls() == {}

    # An order that arrived before its connection's settings is kept, and ignored once the
    # settings say it books elsewhere.
    await publish_order(make_order_event(make_order(order_id="11002"), connection_id="later"))

    async def waiting() -> bool:
        doc = await running.orders.find_one({"order_ref": "11002"})
        return doc is not None and doc["reason_code"] == "settings_pending"

    await eventually(waiting)
    await publish_connection(system="snelstart", connection_id="later")

    async def ignored() -> bool:
        doc = await running.orders.find_one({"order_ref": "11002"})
        return doc is not None and doc["state"] == "ignored"

    await eventually(ignored)
    assert await octopus.control.calls() == {}


async def create_by_hand(octopus, secrets_key, order_id, *, document_nr, reference):
    """An invoice put in Octopus by someone else than this service."""
    settings = demo_settings(octopus.url, secrets_key)
    client = OctopusClient(
        OctopusAccount.from_settings(settings), SecretBox(secrets_key), options=ClientOptions()
    )
    body = invoice_body(
        RecordedPlan.of(plan_booking(make_order(order_id=order_id), demo_booking())),
        Header(
            placement=Placement(3, 202611),
            journal="V1",
            document_nr=document_nr,
            debtor=Debtor(str(DEMO.relations["webshop_customers"]), None, "fixed"),
            document_date=date(2026, 11, 20),
            reference=reference,
            comment="typed in by hand",
        ),
        {"21": Decimal(21), "9": Decimal(9), "0": Decimal(0)},
    )
    try:
        await client.create_invoice(body)
    finally:
        await client.aclose()


async def test_document_numbers_taken_in_octopus_are_adopted_when_ours_else_skipped(
    octopus,
    ledger,
    publish_connection,
    publish_order,
    kafka_bootstrap,
    kafka_topics,
    secrets_key,
) -> None:
    await publish_connection()
    await ledger()
    await publish_order(make_order_event(make_order(order_id="14001"), connection_id=CONNECTION))
    await checks_of(kafka_bootstrap, kafka_topics, at_least=1)  # number 1; ours counts on
    # Number 2 appears with order 14002's reference: our own create, finished after a
    # lost response. Number 3 is someone else's document.
    await create_by_hand(octopus, secrets_key, "14002", document_nr=2, reference="WEB-14002")
    await create_by_hand(octopus, secrets_key, "x", document_nr=3, reference="HAND-1")

    await publish_order(make_order_event(make_order(order_id="14002"), connection_id=CONNECTION))
    await checks_of(kafka_bootstrap, kafka_topics, at_least=2)
    await publish_order(make_order_event(make_order(order_id="14003"), connection_id=CONNECTION))
    await checks_of(kafka_bootstrap, kafka_topics, at_least=3)

    bookings = await bookings_of(kafka_bootstrap, kafka_topics, at_least=3)
    numbers = {b.order_ref: b.ledger_ref.document_number for b in bookings}
    assert numbers == {"14001": "1", "14002": "2", "14003": "4"}
    invoices = await octopus.control.invoices(D)
    assert [(i["documentSequenceNr"], i["reference"]) for i in invoices] == [
        (1, "WEB-14001"),
        (2, "WEB-14002"),
        (3, "HAND-1"),
        (4, "WEB-14003"),
    ]


async def test_with_always_look_up_an_order_already_in_octopus_is_adopted(
    octopus,
    ledger,
    publish_connection,
    publish_order,
    kafka_bootstrap,
    kafka_topics,
    secrets_key,
) -> None:
    # Booked by hand (or by a previous koppeling) before Koppel saw the order.
    await create_by_hand(octopus, secrets_key, "12001", document_nr=50, reference="WEB-12001")
    await publish_connection()
    await ledger(always_look_up=True)
    await publish_order(make_order_event(make_order(order_id="12001"), connection_id=CONNECTION))
    bookings = await bookings_of(kafka_bootstrap, kafka_topics)
    checks = await checks_of(kafka_bootstrap, kafka_topics)
    invoices = await octopus.control.invoices(D)
    assert len(invoices) == 1
    assert bookings[0].status == BookingStatus.BOOKED
    assert bookings[0].ledger_ref.document_number == "50"
    assert checks[0].outcome == CheckOutcome.MATCHED


async def test_new_settings_retry_an_order_that_failed_on_the_settings(
    octopus, ledger, publish_connection, publish_order, kafka_bootstrap, kafka_topics
) -> None:
    await octopus.control.set_invoice_module(D, False)
    await publish_connection()
    running = await ledger()
    await publish_order(make_order_event(make_order(order_id="13001"), connection_id=CONNECTION))
    bookings = await bookings_of(kafka_bootstrap, kafka_topics)
    assert bookings[0].status == BookingStatus.FAILED
    assert bookings[0].failure.reason_code == "invoice_module_off"
    assert "facturatiemodule" in bookings[0].failure.reason

    # The merchant switches the module on and saves the connection again.
    await octopus.control.set_invoice_module(D, True)
    await publish_connection(version=2)
    bookings = await bookings_of(kafka_bootstrap, kafka_topics, at_least=2)
    assert [b.status for b in bookings] == [BookingStatus.FAILED, BookingStatus.BOOKED]
    assert len(await octopus.control.invoices(D)) == 1
    doc = await running.orders.find_one({"order_ref": "13001"})
    assert doc["state"] == "verified"
