"""Killed between "created in Octopus" and "recorded": on restart still one invoice.

The service runs as its own process with the `crash_after_create` test hook, which
SIGKILLs it right after Octopus accepted the invoice — before the ids are recorded
in MongoDB and before the Kafka offset is committed. A fresh service then finds
the intent, reads the document number back from Octopus and records what is there.
In batch mode the same hook kills it after the n-th create of a batch, while the
other orders of the batch are at every step of their booking.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer
from koppel_contracts import (
    LEDGER_BOOKINGS,
    LEDGER_CHECKS,
    SHOP_ORDERS,
    BookingEvent,
    BookingStatus,
    CheckEvent,
    CheckOutcome,
    OrderSummary,
    SourceSystem,
)
from koppel_ledger import OutboxItem
from koppel_sandbox_kit import free_port
from koppel_sandbox_octopus import DEMO
from koppel_testkit import make_order, make_order_event, read_events
from pymongo import AsyncMongoClient

from .helpers import CONNECTION, eventually

D = DEMO.dossier_id


def _env(settings, **hooks: str) -> dict[str, str]:
    prefix = "KOPPEL_LEDGER_OCTOPUS_"
    values = {
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "MONGODB_URI": settings.mongodb_uri.get_secret_value(),
        "MONGODB_DATABASE": settings.database_name,
        "TOPIC_PREFIX": settings.topic_prefix,
        "CONSUMER_GROUP_PREFIX": settings.consumer_group_prefix,
        "SECRETS_KEY": settings.secrets_key.get_secret_value(),
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(free_port()),
        "HTTP_TIMEOUT_SECONDS": "2",
        "LOCK_SECONDS": str(settings.lock_seconds),
        "CRASH_AFTER_CREATE": "true",
        **hooks,
    }
    return {**os.environ, **{prefix + k: v for k, v in values.items()}}


async def test_killed_between_created_and_recorded_still_one_invoice_after_restart(
    octopus,
    service_settings,
    ledger,
    publish_connection,
    publish_order,
    kafka_bootstrap,
    kafka_topics,
    tmp_path,
) -> None:
    settings = service_settings(lock_seconds=3.0)
    await publish_connection()
    log_file = tmp_path / "service.log"
    with log_file.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "koppel_ledger_octopus",
            env=_env(settings),
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            await publish_order(
                make_order_event(make_order(order_id="crash-1"), connection_id=CONNECTION)
            )
            code = await asyncio.wait_for(process.wait(), timeout=60)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    output = log_file.read_text()
    assert code == -signal.SIGKILL, output[-3000:]
    assert "TEST HOOK crash_after_create" in output

    # Octopus has the invoice; we recorded nothing but the intent; nothing was published.
    assert len(await octopus.control.invoices(D)) == 1
    client: AsyncMongoClient = AsyncMongoClient(settings.mongodb_uri.get_secret_value())
    try:
        doc = await client[settings.database_name]["orders"].find_one({"order_ref": "crash-1"})
    finally:
        await client.close()
    assert doc["state"] == "booking" and doc["intent"]["op"] == "invoice"
    assert doc["booked_revision"] == 0 and doc.get("ledger") is None
    before = await read_events(
        kafka_bootstrap, kafka_topics[LEDGER_BOOKINGS.name], BookingEvent, at_least=0, timeout=2
    )
    assert before == []

    # Restart (same database, same consumer group), without the hook.
    running = await ledger(lock_seconds=3.0)
    bookings = await read_events(
        kafka_bootstrap, kafka_topics[LEDGER_BOOKINGS.name], BookingEvent, timeout=60, settle=3.0
    )
    checks = await read_events(
        kafka_bootstrap, kafka_topics[LEDGER_CHECKS.name], CheckEvent, timeout=30
    )
    invoices = await octopus.control.invoices(D)
    assert len(invoices) == 1, "the restarted service found the invoice instead of creating one"
    # The outbox is published at least once: after a crash the start-up sweep and the
    # redelivered order may both publish the entry the crash left, with the same event id
    # (runtime.flush; consumers ignore the repeat). One booking, as one event id.
    distinct = {b.event_id: b for b in bookings}
    assert [b.status for b in distinct.values()] == [BookingStatus.BOOKED]
    bookings = list(distinct.values())
    assert bookings[0].ledger_ref.document_number == str(invoices[0]["documentSequenceNr"])
    assert checks[0].outcome == CheckOutcome.MATCHED
    calls = await octopus.control.calls(D)
    assert calls["POST /dossiers/{d}/invoices"] == 1

    async def verified():
        found = await running.orders.find_one({"order_ref": "crash-1"})
        return found["state"] == "verified" and not found.get("intent")

    await eventually(verified)


async def test_killed_in_the_middle_of_a_batch_every_order_is_one_invoice_after_restart(
    octopus,
    service_settings,
    ledger,
    publish_connection,
    kafka_bootstrap,
    kafka_topics,
    tmp_path,
) -> None:
    settings = service_settings(lock_seconds=3.0)
    await publish_connection()
    refs = [f"batch-{i}" for i in range(24)]
    log_file = tmp_path / "service.log"
    env = _env(settings, CRASH_AFTER_CREATE="false", CRASH_AFTER_CREATES="6")
    client: AsyncMongoClient = AsyncMongoClient(settings.mongodb_uri.get_secret_value())
    db = client[settings.database_name]
    try:
        with log_file.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "koppel_ledger_octopus", env=env, stdout=out, stderr=out
            )
            try:
                # Settings first (else the orders wait for them), then the orders at once.
                await eventually(lambda: db["connections"].find_one({"_id": CONNECTION}))
                await _publish_at_once(kafka_bootstrap, kafka_topics[SHOP_ORDERS.name], refs)
                code = await asyncio.wait_for(process.wait(), timeout=60)
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
        output = log_file.read_text()
        assert code == -signal.SIGKILL, output[-3000:]
        [crash] = [json.loads(ln) for ln in output.splitlines() if "TEST HOOK" in ln]
        assert crash["records"] > 1, "killed while booking a batch"

        # The middle of a batch: some orders are in Octopus, one at least only as an intent.
        created = await octopus.control.invoices(D)
        assert 6 <= len(created) < len(refs)
        assert await db["orders"].count_documents({"state": "booking"}) >= 1
    finally:
        await client.close()

    # Restart (same database, same consumer group), without the hook.
    running = await ledger(lock_seconds=3.0)

    async def all_verified() -> bool:
        done = await running.orders.count_documents({"state": "verified"})
        return done == len(refs)

    await eventually(all_verified, timeout=90)
    invoices = await octopus.control.invoices(D)
    references = sorted(i["reference"] for i in invoices)
    assert references == sorted(f"WEB-{ref}" for ref in refs), "one invoice per order"
    bookings = await read_events(
        kafka_bootstrap,
        kafka_topics[LEDGER_BOOKINGS.name],
        BookingEvent,
        at_least=len(refs),
        timeout=30,
        settle=2.0,
    )
    unique = {b.event_id: b for b in bookings}.values()  # a re-publish repeats its id
    assert sorted(b.order_ref for b in unique) == sorted(refs)
    assert {b.status for b in unique} == {BookingStatus.BOOKED}


async def test_events_left_in_the_outbox_by_a_crash_are_published_by_the_scheduler(
    ledger, kafka_bootstrap, kafka_topics
) -> None:
    # A process died after recording a booking but before publishing its event.
    running = await ledger()
    event = BookingEvent(
        event_id="left-over-1",
        occurred_at=datetime.now(UTC),
        connection_id=CONNECTION,
        source_system=SourceSystem.OCTOPUS,
        order_ref="left-1",
        order_revision=1,
        status=BookingStatus.BOOKED,
        order=OrderSummary(
            order_number="WEB-1",
            placed_on=datetime(2026, 11, 20).date(),
            total_incl_vat="62.00",
            currency="EUR",
        ),
    )
    await running.orders.insert_one(
        {
            "_id": f"{CONNECTION}:left-1",
            "connection_id": CONNECTION,
            "order_ref": "left-1",
            "revision": 1,
            "event": make_order_event(
                make_order(order_id="left-1"), connection_id=CONNECTION
            ).model_dump_json(),
            "state": "booked",
            "next_attempt_at": None,
            "updated_at": datetime.now(UTC) - timedelta(minutes=1),
            "outbox": outbox_fields_doc(event),
        }
    )
    published = await read_events(
        kafka_bootstrap, kafka_topics[LEDGER_BOOKINGS.name], BookingEvent, timeout=30
    )
    assert [e.event_id for e in published] == ["left-over-1"]

    async def emptied():
        doc = await running.orders.find_one({"_id": f"{CONNECTION}:left-1"})
        return doc["outbox"] == {}

    await eventually(emptied)


async def _publish_at_once(bootstrap: str, topic: str, refs: list[str]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=50)
    await producer.start()
    try:
        for ref in refs:
            event = make_order_event(make_order(order_id=ref), connection_id=CONNECTION)
            key = f"{CONNECTION}:{ref}".encode()
            await producer.send(topic, value=event.model_dump_json().encode(), key=key)
        await producer.flush()
    finally:
        await producer.stop()


def outbox_fields_doc(event: BookingEvent) -> dict:
    return {event.event_id: OutboxItem(LEDGER_BOOKINGS, event).stored()}
