"""An erased customer: nothing of the person is left in this service's database — stored
documents, the order records, the sealed ZIPs in GridFS — while every document keeps its
totals and VAT per rate, and a delivery after the erasure still carries the order."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from gridfs import AsyncGridFSBucket
from koppel_contracts import Address, Customer, OrderEvent, OrderEventKind
from koppel_ledger import State
from koppel_ledger.privacy import DebtorEmails, RevealingSession
from koppel_ledger.store import MongoOrderStore
from koppel_ledger.testing import CONNECTION
from koppel_ledger_asperion.archive import BUCKET
from koppel_privacy import CustomerKey, reveal_event, seal_order
from koppel_testkit import line, make_order, make_order_event
from koppel_ubl import read_totals, validate

from .conftest import Asperion

JAN = CustomerKey.generate()
PIET = CustomerKey.generate()
KEES = CustomerKey.generate()  # a customer the shop gave no e-mail of
# What the erased customer's orders say about them (make_order's defaults).
JAN_DETAILS = ("jan@example.nl", "Jansen", "Dorpsstraat", "1234 AB")
PIET_DETAILS = ("piet@example.nl", "Pieters", "Kerkweg")


@dataclass
class Keys:
    """The customer keys as `koppel_privacy.Revealer` sees them: an erased key reveals the
    anonymous order (the runtime then books the anonymous debtor)."""

    erased: set[str] = field(default_factory=set)

    async def reveal(self, event: OrderEvent) -> OrderEvent:
        data = event.order.personal_data
        if data is None:
            return event
        key = (
            None
            if data.key_id in self.erased
            else {JAN.key_id: JAN, PIET.key_id: PIET, KEES.key_id: KEES}[data.key_id]
        )
        return reveal_event(event, key)


def person(email: str | None, first: str, last: str, street: str, postal_code: str, city: str):
    """A customer and their billing address (NL), as the shop gives them."""
    customer = Customer(email=email, first_name=first, last_name=last)
    address = Address(
        full_name=f"{first} {last}",
        street=street,
        house_number="7",
        postal_code=postal_code,
        city=city,
        country_code="NL",
    )
    return {"customer": customer, "billing_address": address}


# Jan is make_order's default customer.
PEOPLE = {
    PIET.key_id: person("piet@example.nl", "Piet", "Pieters", "Kerkweg", "8011 AA", "Zwolle"),
    KEES.key_id: person(None, "Kees", "Klaassen", "Molenpad", "9711 BB", "Groningen"),
}


def sealed(ref: str, key: CustomerKey, *, revision: int = 1, **order: Any) -> OrderEvent:
    order.update(PEOPLE.get(key.key_id, {}))
    kind = {"kind": OrderEventKind.AMENDED} if revision > 1 else {}
    return make_order_event(
        seal_order(make_order(order_id=ref, **order), key),
        connection_id=CONNECTION,
        revision=revision,
        **kind,
    )


@pytest.fixture
async def private(asperion: Asperion, mongo_db, monkeypatch) -> Keys:
    """The runtime on the real order store (the records are part of what must be clean),
    revealing orders only where drafts are prepared, as `koppel_ledger.privacy.protect`."""
    keys = Keys()
    adapter = asperion.adapter
    open_session = adapter.session

    def session(connection_id: str, settings: Any) -> RevealingSession:
        return RevealingSession(open_session(connection_id, settings), keys.reveal)

    monkeypatch.setattr(adapter, "session", session)
    driver = asperion.driver
    driver.store = MongoOrderStore(mongo_db, lock_seconds=60, clock=driver.clock)
    driver.restart()
    await asperion.connect()
    return keys


async def erase(asperion: Asperion, keys: Keys, key: CustomerKey) -> None:
    keys.erased.add(key.key_id)
    await DebtorEmails(asperion.db, asperion.driver.runtime).erase(CONNECTION, key.key_id, None)


def zip_entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


async def database_text(db: Any) -> str:
    """Everything the service's database holds, as text: every document of every
    collection, and every ZIP in GridFS unpacked (its entries are compressed)."""
    parts: list[str] = []
    for name in sorted(await db.list_collection_names()):
        async for doc in db[name].find({}):
            parts.append(repr(doc))
    bucket = AsyncGridFSBucket(db, bucket_name=BUCKET)
    async for stored in bucket.find({}):
        stream = await bucket.open_download_stream(stored._id)
        for xml in zip_entries(await stream.read()).values():
            parts.append(xml.decode())
    return "\n".join(parts)


async def book_and_deliver(asperion: Asperion) -> None:
    """Jan: one order delivered, one delivered and then amended (a credit note and a new
    invoice, pending), one not yet delivered; Piet: one delivered."""
    for ref, key in (("j1", JAN), ("j2", JAN), ("p1", PIET)):
        assert (await asperion.driver.order(sealed(ref, key))).state == State.VERIFIED
    [first] = await asperion.service.deliver_now(CONNECTION)
    assert sorted(first.numbers) == ["WEB-j1", "WEB-j2", "WEB-p1"]
    await asperion.catcher.wait_for(1)
    amended = sealed("j2", JAN, revision=2, lines=[line("Mok", "2", "12.10", "21")])
    assert (await asperion.driver.order(amended)).state == State.VERIFIED
    assert (await asperion.driver.order(sealed("j3", JAN))).state == State.VERIFIED


async def erased_only(
    asperion: Asperion, keys: Keys, key: CustomerKey, details: tuple[str, ...]
) -> str:
    """Erase `key`'s customer; what the database then holds, checked to keep nothing of
    them (`details`, all stored before) and everything of Piet."""
    before = await database_text(asperion.db)
    for detail in details + PIET_DETAILS:
        assert detail in before, f"{detail!r} is stored before the erasure"
    await erase(asperion, keys, key)
    after = await database_text(asperion.db)
    for detail in details:
        assert detail not in after, f"{detail!r} is still stored after the erasure"
    for detail in PIET_DETAILS:
        assert detail in after, f"another customer's {detail!r} went too"
    return after


async def test_after_an_erasure_the_database_holds_nothing_of_the_customer(
    asperion: Asperion, private: Keys
) -> None:
    await book_and_deliver(asperion)
    after = await erased_only(asperion, private, JAN, JAN_DETAILS)
    assert "Verwijderde klanten" in after


async def test_a_delivery_after_the_erasure_carries_the_orders_totals_and_vat_per_rate(
    asperion: Asperion, private: Keys
) -> None:
    await book_and_deliver(asperion)
    booked = {d.number: d for d in await asperion.adapter.store.of_connection(CONNECTION)}
    [first] = await asperion.service.archive.of_connection(CONNECTION)

    await erase(asperion, private, JAN)
    [second] = await asperion.service.deliver_now(CONNECTION)

    assert sorted(second.numbers) == ["WEB-j2-2", "WEB-j2-C", "WEB-j3"]
    assert second.status["check"]["matched"] == 3  # the sealed file reads back as booked
    for delivery in (first, second):  # the re-packed first one too (checked against its seal)
        sealed_zip = await asperion.service.archive.content(
            await asperion.service.archive.get(delivery.id)
        )
        for xml in zip_entries(sealed_zip).values():
            assert validate(xml).ok
            back = read_totals(xml)
            stored = booked[back.number]
            sign = Decimal(-1) if stored.credit else Decimal(1)
            assert back.totals.tax_inclusive * sign == stored.expected_total
            vat = {item.vat.rate: item.tax_amount * sign for item in back.vat}
            assert vat == stored.expected_vat
            if back.number != "WEB-p1":
                assert back.buyer.legal_name == "Verwijderde klanten"
                assert back.buyer.email is None


async def test_a_resend_after_the_erasure_mails_the_anonymous_copy(
    asperion: Asperion, private: Keys
) -> None:
    await book_and_deliver(asperion)
    [first] = await asperion.service.archive.of_connection(CONNECTION)
    await erase(asperion, private, JAN)
    await asperion.service.resend(first.id)
    _, resent = await asperion.catcher.wait_for(2)
    attachment = next(resent.message.iter_attachments()).get_content()
    files = zip_entries(attachment)
    assert sorted(files) == ["factuur-WEB-j1.xml", "factuur-WEB-j2.xml", "factuur-WEB-p1.xml"]
    text = b"\n".join(files.values()).decode()
    assert "jan@example.nl" not in text and "Jansen" not in text
    assert "Pieters" in text


async def test_an_order_replayed_after_the_erasure_books_nothing_new(
    asperion: Asperion, private: Keys
) -> None:
    await book_and_deliver(asperion)
    await erase(asperion, private, JAN)
    before = await asperion.adapter.store.of_connection(CONNECTION)
    asperion.driver.restart()
    record = await asperion.driver.order(sealed("j1", JAN))
    assert record.state == State.VERIFIED
    assert await asperion.adapter.store.of_connection(CONNECTION) == before
    [delivery] = await asperion.service.deliver_now(CONNECTION)
    assert sorted(delivery.numbers) == ["WEB-j2-2", "WEB-j2-C", "WEB-j3"], "j1 not again"


async def test_an_erased_business_buyers_icp_invoice_keeps_only_its_vat_number(
    asperion: Asperion, private: Keys
) -> None:
    icp = {
        "country": "DE",
        "company_name": "Kaffeehaus GmbH",
        "vat_number": "DE123456789",
        "lines": [line("Espressomachine", "1", "800.00", "0")],
    }
    assert (await asperion.driver.order(sealed("j4", JAN, **icp))).state == State.VERIFIED
    await erase(asperion, private, JAN)
    # An amendment after the erasure reveals the anonymous order and replaces the document.
    amended = sealed("j4", JAN, revision=2, **{**icp, "lines": [line("Molen", "1", "90", "0")]})
    assert (await asperion.driver.order(amended)).state == State.VERIFIED

    [document] = await asperion.adapter.store.of_connection(CONNECTION)
    assert document.revision == 2
    report = validate(document.xml)
    assert report.ok and report.checked == ("xsd", "en16931", "nlcius")
    back = read_totals(document.xml)
    assert back.buyer.legal_name == "Verwijderde klanten (DE)"
    assert back.buyer.vat_number == "DE123456789"
    assert back.totals.tax_inclusive == Decimal("90.00")
    text = await database_text(asperion.db)
    for detail in (*JAN_DETAILS, "Kaffeehaus"):
        assert detail not in text


async def test_a_customer_without_an_email_is_erased_by_their_orders(
    asperion: Asperion, private: Keys
) -> None:
    for ref, key in (("k1", KEES), ("p1", PIET)):
        assert (await asperion.driver.order(sealed(ref, key))).state == State.VERIFIED
    [delivered] = await asperion.service.deliver_now(CONNECTION)
    assert sorted(delivered.numbers) == ["WEB-k1", "WEB-p1"]
    assert (await asperion.driver.order(sealed("k2", KEES))).state == State.VERIFIED
    await erased_only(asperion, private, KEES, ("Klaassen", "Molenpad", "9711 BB"))
    [document] = [
        d for d in await asperion.adapter.store.of_connection(CONNECTION) if d.number == "WEB-k2"
    ]
    assert read_totals(document.xml).buyer.legal_name == "Verwijderde klanten"
