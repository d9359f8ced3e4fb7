"""Deliveries: every order revision in exactly one delivery — across crashes between
"document made" and "delivery sealed", replays, replacements and racing replicas — and a
delivery re-sent is the same bytes."""

from __future__ import annotations

import asyncio
import hashlib
import io
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import pytest
from koppel_contracts import LEDGER_CHECKS, CheckOutcome, OrderEventKind
from koppel_ledger import State
from koppel_ledger.testing import CONNECTION
from koppel_ledger_asperion.archive import Delivery
from koppel_ledger_asperion.deliveries import zip_name
from koppel_testkit import line
from koppel_ubl import read_totals, validate

from .asperion_helpers import demo_settings
from .conftest import Asperion, event


class Crash(BaseException):
    """The process died here (not an Exception: nothing may catch it)."""


def entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


async def all_deliveries(asperion: Asperion) -> list[Delivery]:
    return await asperion.service.archive.of_connection(CONNECTION)


async def numbers_delivered(asperion: Asperion) -> list[str]:
    """Every document number in every sealed ZIP (read from the bytes, not the records)."""
    found = []
    for delivery in await all_deliveries(asperion):
        for xml in entries(await asperion.service.archive.content(delivery)).values():
            found.append(read_totals(xml).number)
    return sorted(found)


def test_zip_names_show_shop_date_and_count() -> None:
    assert zip_name("Koffie & Co.", date(2026, 11, 20), 1, 12) == (
        "koffie-co_2026-11-20_12-documenten.zip"
    )
    assert zip_name("Café Ümlaut", date(2026, 11, 20), 2, 1, "en") == (
        "cafe-umlaut_2026-11-20-2_1-document.zip"
    )


async def test_a_days_orders_become_one_delivery_of_valid_documents(asperion: Asperion) -> None:
    for ref in ("d1", "d2", "d3"):
        assert (await asperion.order(ref)).state == State.VERIFIED
    [delivery] = await asperion.service.deliver_now(CONNECTION)
    assert delivery.name == "koffie-co_2026-11-20_3-documenten.zip"
    data = await asperion.service.archive.content(delivery)
    assert hashlib.sha256(data).hexdigest() == delivery.sha256
    files = entries(data)
    assert sorted(files) == [f"factuur-WEB-{r}.xml" for r in ("d1", "d2", "d3")]
    for xml in files.values():
        assert validate(xml).ok
    assert delivery.status["check"]["matched"] == 3
    assert await asperion.service.deliver_now(CONNECTION) == [], "nothing pending twice"


async def test_replayed_orders_are_delivered_once(asperion: Asperion) -> None:
    await asperion.order("r1")
    await asperion.service.deliver_now(CONNECTION)
    for _ in range(2):
        asperion.driver.restart()  # the same events again, after a restart or elsewhere
        await asperion.order("r1")
    assert await asperion.service.deliver_now(CONNECTION) == []
    assert await numbers_delivered(asperion) == ["WEB-r1"]


async def test_a_crash_before_the_seal_resumes_the_same_delivery(
    asperion: Asperion, monkeypatch
) -> None:
    for ref in ("c1", "c2"):
        await asperion.order(ref)
    archive = asperion.service.archive
    original = archive.seal

    async def dies(delivery):
        raise Crash()

    monkeypatch.setattr(archive, "seal", dies)
    with pytest.raises(Crash):
        await asperion.service.collector.collect(
            CONNECTION, shop="Koffie & Co", language="nl", trigger="schedule"
        )
    monkeypatch.setattr(archive, "seal", original)
    await asperion.order("c3")  # made after the crash: joins the resumed delivery
    restarted = asperion.delivery_service()
    [delivery] = await restarted.deliver_now(CONNECTION)
    assert delivery.id == f"{CONNECTION}/2026-11-20/1"
    assert sorted(delivery.numbers) == ["WEB-c1", "WEB-c2", "WEB-c3"]
    assert await numbers_delivered(asperion) == ["WEB-c1", "WEB-c2", "WEB-c3"]


async def test_a_crash_after_the_seal_finishes_that_delivery_and_makes_no_second(
    asperion: Asperion, monkeypatch
) -> None:
    await asperion.order("s1")
    followups = asperion.service.followups

    async def dies(delivery):
        raise Crash()

    monkeypatch.setattr(asperion.service.collector, "on_sealed", dies)
    with pytest.raises(Crash):
        await asperion.service.deliver_now(CONNECTION)
    restarted = asperion.delivery_service()
    assert await restarted.deliver_now(CONNECTION) == []  # finished, not sealed again
    [delivery] = await all_deliveries(asperion)
    assert delivery.numbers == ("WEB-s1",)
    assert delivery.status["mail"]["sent_at"], "the follow-ups were made after all"
    assert await followups.due(asperion.clock() + timedelta(days=1)) == {}


async def test_a_crash_between_the_pending_marker_and_the_document_loses_nothing(
    asperion: Asperion, monkeypatch
) -> None:
    documents = asperion.adapter.store.documents
    original = documents.insert_one

    async def dies(doc, *args, **kwargs):
        raise Crash()

    monkeypatch.setattr(documents, "insert_one", dies)
    with pytest.raises(Crash):
        await asperion.order("m1")
    monkeypatch.setattr(documents, "insert_one", original)
    assert await asperion.service.deliver_now(CONNECTION) == [], "a marker alone is skipped"
    asperion.driver.restart()
    assert (await asperion.order("m1")).state == State.VERIFIED  # Kafka redelivers
    [delivery] = await asperion.service.deliver_now(CONNECTION)
    assert delivery.numbers == ("WEB-m1",)


async def test_racing_replicas_put_every_document_in_exactly_one_delivery(
    asperion: Asperion,
) -> None:
    refs = [f"x{n}" for n in range(8)]
    for ref in refs:
        await asperion.order(ref)
    replicas = [asperion.delivery_service() for _ in range(3)]
    # Straight to the collector: no lease, as if leases had overlapped.
    await asyncio.gather(
        *(
            r.collector.collect(CONNECTION, shop="Koffie & Co", language="nl", trigger="request")
            for r in replicas
        )
    )
    await asperion.service.deliver_now(CONNECTION)  # whatever a lost race left pending
    assert await numbers_delivered(asperion) == sorted(f"WEB-{r}" for r in refs)


async def test_an_amendment_before_the_seal_replaces_the_document_in_place(
    asperion: Asperion,
) -> None:
    await asperion.order("a1")
    amended = event(
        "a1", revision=2, kind=OrderEventKind.AMENDED, lines=[line("Mok", "2", "12.10", "21")]
    )
    record = await asperion.driver.order(amended)
    assert record.state == State.VERIFIED
    [delivery] = await asperion.service.deliver_now(CONNECTION)
    [xml] = entries(await asperion.service.archive.content(delivery)).values()
    assert read_totals(xml).totals.tax_inclusive == Decimal("24.20")


async def test_an_amendment_after_the_seal_is_a_credit_note_and_a_new_invoice(
    asperion: Asperion,
) -> None:
    await asperion.order("a2")
    await asperion.service.deliver_now(CONNECTION)
    amended = event(
        "a2", revision=2, kind=OrderEventKind.AMENDED, lines=[line("Mok", "2", "12.10", "21")]
    )
    assert (await asperion.driver.order(amended)).state == State.VERIFIED
    [second] = [d for d in await asperion.service.deliver_now(CONNECTION)]
    assert sorted(second.numbers) == ["WEB-a2-2", "WEB-a2-C"]
    assert await numbers_delivered(asperion) == ["WEB-a2", "WEB-a2-2", "WEB-a2-C"]


async def test_a_replacement_and_a_seal_never_both_win(asperion: Asperion) -> None:
    await asperion.order("h1")
    store = asperion.adapter.store
    doc_id = f"{CONNECTION}|invoice|WEB-h1"
    # A replacement interrupted by a crash leaves its hold: sealing waits for it...
    await store.placements.insert_one({"_id": doc_id, "hold": "dead", "at": asperion.clock()})
    assert await asperion.service.deliver_now(CONNECTION) == []
    # ...until it is older than replace_hold_seconds; then the document is delivered.
    asperion.clock.advance(seconds=asperion.service.settings.replace_hold_seconds + 1)
    [delivery] = await asperion.service.deliver_now(CONNECTION)
    assert delivery.numbers == ("WEB-h1",)


async def test_a_resend_is_the_same_bytes(asperion: Asperion) -> None:
    await asperion.order("b1")
    [delivery] = await asperion.service.deliver_now(CONNECTION)
    await asperion.service.resend(delivery.id)
    first, second = await asperion.catcher.wait_for(2)
    attachments = [next(m.message.iter_attachments()).get_content() for m in (first, second)]
    assert attachments[0] == attachments[1] == await asperion.service.archive.content(delivery)
    assert first.message["Message-ID"] != second.message["Message-ID"], "a new mail"
    assert (await asperion.service.archive.get(delivery.id)).status["mail"]["round"] == 2


async def test_the_delivery_mail_carries_the_zip_to_the_bookkeeping_address(
    asperion: Asperion,
) -> None:
    await asperion.order("e1")
    [delivery] = await asperion.service.deliver_now(CONNECTION)
    [mail] = await asperion.catcher.wait_for(1)
    assert mail.rcpt_tos == ["boekhouding@demo-koffie.example"]
    assert delivery.name in mail.subject and "1 document" in mail.body
    [attachment] = list(mail.message.iter_attachments())
    assert attachment.get_filename() == delivery.name
    assert attachment.get_content_type() == "application/zip"
    assert hashlib.sha256(attachment.get_content()).hexdigest() == delivery.sha256


async def test_smtp_down_is_retried_later_and_shown_on_the_delivery(asperion: Asperion) -> None:
    await asperion.order("f1")
    await asperion.catcher.stop()
    [delivery] = await asperion.service.deliver_now(CONNECTION)
    mail = (await asperion.service.archive.get(delivery.id)).status["mail"]
    assert mail["error"] and mail["attempts"] == 1
    await asperion.catcher.start()
    asperion.clock.advance(seconds=61)
    await asperion.service.tick()
    [received] = await asperion.catcher.wait_for(1)
    assert received.subject.endswith(delivery.name)
    assert (await asperion.service.archive.get(delivery.id)).status["mail"]["sent_at"]


async def test_the_daily_delivery_comes_once_at_the_connections_time(asperion: Asperion) -> None:
    await asperion.connect(demo_settings(delivery_time="11:30"))
    await asperion.order("t1")
    await asperion.service.tick()  # 10:00 in Amsterdam: not yet
    assert await all_deliveries(asperion) == []
    asperion.clock.advance(hours=2)  # 12:00
    await asperion.service.tick()
    await asperion.service.tick()
    [delivery] = await all_deliveries(asperion)
    assert delivery.trigger == "schedule" and delivery.numbers == ("WEB-t1",)


async def test_a_sealed_file_that_differs_from_the_booking_is_a_mismatch_event(
    asperion: Asperion,
) -> None:
    await asperion.order("k1")
    # What was booked (the figures stored with the document) no longer matches the file.
    await asperion.adapter.store.documents.update_one(
        {"_id": f"{CONNECTION}|invoice|WEB-k1"}, {"$set": {"expected_total": "99.99"}}
    )
    [delivery] = await asperion.service.deliver_now(CONNECTION)
    assert delivery.status["check"]["mismatched"] == ["WEB-k1"]
    [(topic, check)] = asperion.published.events
    assert topic == LEDGER_CHECKS and check.outcome == CheckOutcome.MISMATCH
    assert check.order_ref == "k1" and check.expected_total_incl_vat == Decimal("99.99")
    assert delivery.name in check.details[0]


async def test_a_claim_a_sealed_delivery_does_not_list_goes_into_the_next_delivery(
    asperion: Asperion,
) -> None:
    # A replica lost the race for the seal of delivery 1 and died before withdrawing its
    # claim of a document the winner never saw: the document must not be lost.
    await asperion.order("o1")
    [first] = await asperion.service.deliver_now(CONNECTION)
    await asperion.order("o2")
    store = asperion.adapter.store
    await store.placements.insert_one(
        {"_id": f"{CONNECTION}|invoice|WEB-o2", "delivery_id": first.id, "at": asperion.clock()}
    )
    [second] = await asperion.service.deliver_now(CONNECTION)
    assert second.id == f"{CONNECTION}/2026-11-20/2" and second.numbers == ("WEB-o2",)
    assert second.name == "koffie-co_2026-11-20-2_1-document.zip"
    assert await numbers_delivered(asperion) == ["WEB-o1", "WEB-o2"]
