"""Answering business buyers' invoice requests (issue #13 §4) against the bol sandbox: the
order as published, under the ledger's document number, as a validated UBL invoice —
once per request, whatever the replicas, crashes and failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from koppel_contracts import (
    AlertKind,
    AsperionOptions,
    ConnectionSettings,
    LedgerConnection,
    LedgerSystem,
    SellerParty,
)
from koppel_ingest.testing import CONNECTION, Driver
from koppel_ingest_bol.answer_store import Answer, MemoryAnswers
from koppel_ingest_bol.answers import InvoiceAnswers
from koppel_ingest_bol.bookings import Booked, MemoryBookings
from koppel_ingest_bol.invoice import seller_of
from koppel_ubl import DocumentKind, Specification, read_totals

from .bol_harness import BOOK, CHARGER, BolHarness

SELLER = SellerParty(
    name="Boekhandel De Bladwijzer B.V.",
    street="Oudegracht 12",
    postal_code="3511AR",
    city="Utrecht",
    vat_number="NL812345678B01",
    kvk_number="30123456",
    iban="NL91ABNA0417164300",
    email="facturen@bladwijzer.nl",
)


def asperion(seller: SellerParty | None = SELLER) -> LedgerConnection:
    return LedgerConnection(
        system=LedgerSystem.ASPERION,
        base_url="https://asperion.test",
        asperion=AsperionOptions(seller=seller),
    )


@dataclass
class Setup:
    harness: BolHarness
    driver: Driver
    bookings: MemoryBookings
    answers: MemoryAnswers
    settings: ConnectionSettings

    def answerer(self) -> InvoiceAnswers:
        return InvoiceAnswers(
            adapter=self.harness.adapter,
            connections=self.driver.connections,
            states=self.driver.states,
            orders=self.driver.store,
            bookings=self.bookings,
            answers=self.answers,
            leases=self.driver.leases,
            publisher=self.driver.published,
            clock=self.driver.clock,
            metrics=self.harness.metrics,
        )

    async def business_order(self, country: str = "NL") -> tuple[str, str]:
        """A business buyer's order with an invoice request, shipped: (order, shipment)."""
        order = await self.harness.place_order(
            bookable=False,
            business=True,
            invoiceRequested=True,
            country=country,
            items=[{"ean": CHARGER, "quantity": 2}, {"ean": BOOK}],
        )
        shipment = await self.harness.control.ship(order)
        return order, str(shipment["shipmentId"])

    async def book(self, order: str, number: str, revision: int = 1) -> None:
        await self.bookings.record(Booked(CONNECTION, order, revision, "booked", number))


@pytest.fixture
async def setup(harness: BolHarness) -> AsyncIterator[Setup]:
    harness.trigger = ["paid"]
    # A Bol.com → Octopus connection: the seller's details are in the shop options.
    settings = harness.settings(seller=SELLER, answer_invoice_requests=True)
    driver = Driver(harness.adapter, box=harness.box)
    await driver.connect(settings)
    yield Setup(harness, driver, MemoryBookings(), MemoryAnswers(), settings)
    await driver.aclose()


async def test_a_booked_order_answers_its_request_once_with_the_ledgers_number(
    setup: Setup,
) -> None:
    order, shipment = await setup.business_order()
    await setup.driver.poll()
    [event] = setup.driver.orders()
    answerer = setup.answerer()
    assert await answerer.attend(CONNECTION) == {shipment: "waiting"}, "not booked yet"
    assert await setup.harness.control.invoices(shipment) == []

    await setup.book(order, "VF2026-0042")
    assert await answerer.attend(CONNECTION) == {shipment: "uploaded"}
    [upload] = await setup.harness.control.invoices(shipment)
    assert upload["kind"] == "ubl" and upload["accepted"]
    back = read_totals(await setup.harness.control.invoice_file(shipment))
    assert (back.kind, back.number, back.order_reference) == (
        DocumentKind.INVOICE,
        "VF2026-0042",
        order,
    )
    totals = event.order.totals
    assert back.totals.tax_inclusive == totals.total_incl_vat
    assert back.totals.tax == totals.total_vat
    assert back.totals.payable == Decimal("0.00"), "paid through bol"
    assert {v.vat.rate: v.tax_amount for v in back.vat} == {
        Decimal("21"): Decimal("10.40"),  # 2 x 29.95 = 59.90 incl. 21 %
        Decimal("9"): Decimal("1.07"),  # 12.99 incl. 9 %
    }
    assert back.buyer.vat_number == "NL859637412B01" and back.buyer.kvk_number == "71234567"

    assert await answerer.attend(CONNECTION) == {}, "bol no longer lists it as open"
    answered = await setup.answers.get(CONNECTION, shipment)
    assert answered is not None and answered.state == "uploaded" and answered.detail
    assert len(await setup.harness.control.invoices(shipment)) == 1


async def test_replicas_answering_one_request_at_once_upload_one_invoice(setup: Setup) -> None:
    order, shipment = await setup.business_order()
    await setup.driver.poll()
    await setup.book(order, "VF2026-0043")
    session = await setup.harness.adapter.session(CONNECTION, setup.settings)
    [request] = [r async for r in session.client.invoice_requests("OPEN")]
    replicas = [setup.answerer() for _ in range(4)]
    outcomes = await asyncio.gather(
        *(r.answer(CONNECTION, setup.settings, session.client, request) for r in replicas)
    )
    assert sorted(outcomes) == ["answered", "answered", "answered", "uploaded"]
    assert len(await setup.harness.control.invoices(shipment)) == 1


async def test_a_booking_of_an_earlier_revision_waits_for_the_amendments_booking(
    setup: Setup,
) -> None:
    order, shipment = await setup.business_order()
    await setup.driver.poll()
    await setup.book(order, "VF2026-0044")
    detail = await setup.harness.control.order(order)
    book_item = next(i for i in detail["orderItems"] if i["product"]["ean"] == BOOK)
    await setup.harness.give_back(book_item["orderItemId"], 1)
    await setup.driver.poll()
    assert [e.revision for e in setup.driver.orders()] == [1, 2]
    answerer = setup.answerer()
    assert await answerer.attend(CONNECTION) == {shipment: "waiting"}
    await setup.book(order, "VF2026-0045", revision=2)
    assert await answerer.attend(CONNECTION) == {shipment: "uploaded"}
    back = read_totals(await setup.harness.control.invoice_file(shipment))
    assert back.number == "VF2026-0045"
    assert back.totals.tax_inclusive == Decimal("59.90"), "the returned book is not invoiced"


async def test_a_belgian_business_charged_dutch_vat_gets_an_nlcius_invoice(setup: Setup) -> None:
    order, shipment = await setup.business_order(country="BE")
    await setup.driver.poll()
    await setup.book(order, "VF2026-0046")
    assert await setup.answerer().attend(CONNECTION) == {shipment: "uploaded"}
    xml = await setup.harness.control.invoice_file(shipment)
    assert Specification.NLCIUS.value.encode() in xml
    back = read_totals(xml)
    assert (back.buyer.country, back.buyer.vat_number) == ("BE", "BE0456789123")
    assert {v.vat.rate for v in back.vat} == {Decimal("21"), Decimal("9")}, "as booked"


async def test_an_icp_order_is_left_to_the_merchant_with_the_reason(setup: Setup) -> None:
    # Every product at 0 % to a business abroad: an intra-Community supply, booked at 0 %
    # while bol charged the buyer the price incl. VAT. A person answers that one.
    zero = {BOOK: Decimal("0"), CHARGER: Decimal("0")}
    setup.settings = setup.harness.settings(
        ledger=asperion(), answer_invoice_requests=True, vat_by_ean=zero
    )
    await setup.driver.connect(setup.settings, version=2)
    order, shipment = await setup.business_order(country="BE")
    await setup.driver.poll()
    await setup.book(order, "VF2026-0049")
    answerer = setup.answerer()
    assert await answerer.attend(CONNECTION) == {shipment: "left"}
    assert await answerer.attend(CONNECTION) == {shipment: "answered"}, "decided once"
    left = await setup.answers.get(CONNECTION, shipment)
    assert left is not None and left.state == "left" and "icp" in (left.detail or "")
    assert await setup.harness.control.invoices(shipment) == []


async def test_without_the_sellers_details_nothing_is_answered_and_the_merchant_told_once(
    setup: Setup,
) -> None:
    settings = setup.harness.settings(ledger=asperion(None), answer_invoice_requests=True)
    await setup.driver.connect(settings, version=2)
    setup.settings = settings
    order, shipment = await setup.business_order()
    await setup.driver.poll()
    await setup.book(order, "VF2026-0047")
    answerer = setup.answerer()
    assert await answerer.attend(CONNECTION) == {}
    assert await answerer.attend(CONNECTION) == {}
    [alert] = setup.driver.alerts()
    assert (alert.kind, alert.reason_code) == (
        AlertKind.PERSISTENT_FAILURE,
        "bol_invoice_seller_missing",
    )
    assert "bedrijfsgegevens" in alert.reason and alert.suggestion
    assert await setup.harness.control.invoices(shipment) == []


async def test_a_failed_upload_is_tried_again_and_a_stale_claim_released(setup: Setup) -> None:
    order, shipment = await setup.business_order()
    await setup.driver.poll()
    await setup.book(order, "VF2026-0048")
    answerer = setup.answerer()
    await setup.harness.control.inject_fault(503, path="/invoices/[0-9]+$", method="POST", times=10)
    assert await answerer.attend(CONNECTION) == {shipment: "failed"}
    assert await setup.answers.get(CONNECTION, shipment) is None, "the claim was released"
    await setup.harness.clear_faults()
    # A replica that crashed between its claim and the upload left this behind:
    crashed_at = setup.driver.clock() - timedelta(hours=1)
    await setup.answers.claim(Answer(CONNECTION, shipment, order, "claimed", crashed_at))
    assert await answerer.attend(CONNECTION) == {shipment: "uploaded"}
    assert len(await setup.harness.control.invoices(shipment)) == 1


def test_dutch_business_buyers_get_nlcius_consumers_plain_en16931() -> None:
    from koppel_ingest_bol.invoice import _specification
    from koppel_ubl import Address, Buyer

    where = Address("Dorpsstraat 1", "Zwolle", "8011AA", "NL")
    with_kvk = Buyer("Piet", where, company="Piet BV", kvk_number="12345678")
    assert _specification(SELLER, with_kvk) is Specification.NLCIUS
    assert _specification(SELLER, Buyer("Piet", where)) is Specification.EN16931


def test_the_shops_seller_wins_over_the_asperion_one(harness: BolHarness) -> None:
    other = SELLER.model_copy(update={"name": "Andere BV"})
    both = harness.settings(ledger=asperion(other), seller=SELLER)
    assert seller_of(both) == SELLER
    assert seller_of(harness.settings(ledger=asperion(other))) == other
    assert seller_of(harness.settings()) is None
