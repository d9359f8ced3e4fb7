"""SnelStart's own rules on the runtime: numbers, debtors, VAT kinds, ICP, OSS, amendments
of bookings SnelStart will no longer change, and whose fault a refused key is."""

from __future__ import annotations

from decimal import Decimal

import pytest
from koppel_contracts import AlertKind, BookingStatus, OrderEventKind
from koppel_ledger import State
from koppel_ledger.testing import CONNECTION, Driver
from koppel_sandbox_snelstart import DEMO, demo_booking
from koppel_testkit import charge, line, make_order, make_order_event

from .helpers import demo_settings

MAIN, OSS = DEMO.main.administratie_id, DEMO.oss.administratie_id


def event(ref: str, revision: int = 1, kind: OrderEventKind = OrderEventKind.CREATED, **order):
    return make_order_event(
        make_order(order_id=ref, **order), connection_id=CONNECTION, revision=revision, kind=kind
    )


@pytest.fixture
async def driver(snelstart, secrets_key, adapter_for):
    driver = Driver(adapter_for())
    await driver.connect(demo_settings(snelstart.url, secrets_key))
    return driver


async def bookings(snelstart, admin: str = MAIN) -> list[dict]:
    return await snelstart.control.bookings(admin)


async def test_a_booking_carries_the_plan_lines_and_the_vat_per_kind(driver, snelstart) -> None:
    record = await driver.order(event("1"))
    assert record.state == State.VERIFIED
    [booking] = await bookings(snelstart)
    assert booking["factuurnummer"] == "WEB-1"
    assert booking["omschrijving"] == "Order WEB-1 (ccvshop)"
    kinds = {ln["btwSoort"] for ln in booking["boekingsregels"]}
    assert kinds == {"Hoog", "Laag"}
    btw = {b["btwSoort"]: Decimal(str(b["btwBedrag"])) for b in booking["btw"]}
    plan = record.ledger.plan
    assert btw == {
        "VerkopenHoog": plan.vat_per_rate()[Decimal(21)],
        "VerkopenLaag": plan.vat_per_rate()[Decimal(9)],
    }
    lines = sum(Decimal(str(ln["bedrag"])) for ln in booking["boekingsregels"])
    assert lines + sum(btw.values()) == Decimal(str(booking["factuurbedrag"])) == Decimal("62.00")
    [check] = driver.checks()
    assert [(v.vat_rate, v.amount) for v in check.booked_vat] == [
        (v.vat_rate, v.amount) for v in check.expected_vat
    ]


async def test_the_year_goes_in_front_of_the_invoice_number_when_chosen(
    driver, snelstart, secrets_key
) -> None:
    await driver.connect(
        demo_settings(snelstart.url, secrets_key, year_in_invoice_number=True), version=2
    )
    await driver.order(event("10330", order_number="10330"))
    [booking] = await bookings(snelstart)
    assert booking["factuurnummer"] == "202610330"


async def test_a_returning_customer_is_found_by_e_mail_and_not_created_again(
    driver, snelstart
) -> None:
    before = len(await snelstart.control.relaties(MAIN))
    await driver.order(event("2", email="trouw@example.nl"))
    await driver.order(event("3", email="trouw@example.nl"))
    relaties = await snelstart.control.relaties(MAIN)
    assert len(relaties) == before + 1
    klanten = {b["klant"]["id"] for b in await bookings(snelstart)}
    assert len(klanten) == 1
    created = next(r for r in relaties if r.get("email") == "trouw@example.nl")
    assert created["relatiesoort"] == ["Klant"] and created["vestigingsAdres"]["plaats"]


async def test_with_matching_off_each_order_gets_its_own_relatie_once(
    driver, snelstart, secrets_key, adapter_for
) -> None:
    booking = demo_booking(debtor_matching=False)
    await driver.connect(demo_settings(snelstart.url, secrets_key, booking=booking), version=2)
    await driver.order(event("4", email="gedeeld@example.nl"))
    await driver.order(event("5", email="gedeeld@example.nl"))
    klanten = {b["klant"]["id"] for b in await bookings(snelstart)}
    assert len(klanten) == 2
    # The same order's relatie created again (a lost answer, a crash): adopted, not doubled.
    adapter = adapter_for()
    session = adapter.session("x", demo_settings(snelstart.url, secrets_key, booking=booking))
    again = await adapter.debtors.debtor_for(
        session.client,
        make_order(order_id="4", email="gedeeld@example.nl"),
        booking,
        order_key=f"{CONNECTION}:4",
    )
    assert again.id in klanten
    assert len(await snelstart.control.relaties(MAIN)) == len(DEMO.main.relaties) + 2


async def test_an_intra_community_supply_is_booked_on_the_icp_account_without_vat(
    driver, snelstart
) -> None:
    order = event(
        "6",
        country="DE",
        company_name="Müller Handel GmbH",
        vat_number="DE123456789",
        lines=[line("Kaffeemaschine", "1", "400.00", "0")],
    )
    record = await driver.order(order)
    assert record.state == State.VERIFIED, record.failure
    [booking] = await bookings(snelstart)
    assert booking["btw"] == []
    [regel] = booking["boekingsregels"]
    assert regel["grootboek"]["id"] == DEMO.main.grootboeken["revenue_icp"]
    assert regel["btwSoort"] == "Geen"


async def test_oss_is_booked_as_foreign_vat_lines_where_snelstart_books_foreign_vat(
    snelstart, secrets_key, adapter_for
) -> None:
    order = event("7", country="BE", lines=[line("Koffiemolen", "1", "121.00", "21")])
    off = Driver(adapter_for())
    await off.connect(demo_settings(snelstart.url, secrets_key))
    refused = await off.order(order)
    assert refused.state == State.FAILED and refused.reason_code == "foreign_vat_off"
    assert "buitenlandse btw" in refused.failure.suggestion

    on = Driver(adapter_for())
    await on.connect(
        demo_settings(snelstart.url, secrets_key, koppelsleutel=DEMO.oss.koppelsleutel)
    )
    record = await on.order(order)
    assert record.state == State.VERIFIED, [c.details for c in on.checks()]
    [booking] = await bookings(snelstart, OSS)
    assert booking["btw"] == []
    accounts = {
        ln["grootboek"]["id"]: Decimal(str(ln["bedrag"])) for ln in booking["boekingsregels"]
    }
    assert accounts == {
        DEMO.oss.grootboeken["oss_sr"]: Decimal("100.00"),
        DEMO.oss.grootboeken["foreign_vat"]: Decimal("21.00"),
    }


async def test_an_amendment_of_a_booking_in_a_filed_vat_return_is_credited_and_rebooked(
    driver, snelstart
) -> None:
    record = await driver.order(event("8"))
    await snelstart.control.mark_vat_return_filed(MAIN, record.ledger.ledger_id)
    amended = event("8", 2, OrderEventKind.AMENDED, lines=[line("Mok", "2", "12.10", "21")])
    record = await driver.order(amended)
    assert record.state == State.VERIFIED
    numbers = sorted(
        (b["factuurnummer"], Decimal(str(b["factuurbedrag"]))) for b in await bookings(snelstart)
    )
    assert numbers == [
        ("WEB-8", Decimal("62.00")),
        ("WEB-8-2", Decimal("24.20")),
        ("WEB-8-C1", Decimal("-62.00")),
    ]
    assert [b.status for b in driver.bookings()] == [
        BookingStatus.BOOKED,
        BookingStatus.REPLACED,
    ]


async def test_an_amendment_of_an_open_booking_corrects_it_in_place(driver, snelstart) -> None:
    await driver.order(event("9"))
    amended = event("9", 2, OrderEventKind.AMENDED, lines=[line("Mok", "2", "12.10", "21")])
    await driver.order(amended)
    [booking] = await bookings(snelstart)
    assert booking["factuurnummer"] == "WEB-9"
    assert Decimal(str(booking["factuurbedrag"])) == Decimal("24.20")


async def test_shipping_charged_at_one_rate_is_booked_on_its_own_account(
    driver, snelstart, secrets_key
) -> None:
    booking = demo_booking(shipping_account=str(DEMO.accounts["shipping"].nummer))
    await driver.connect(demo_settings(snelstart.url, secrets_key, booking=booking), version=2)
    record = await driver.order(event("10", shipping=charge("Verzending", "4.95", "21")))
    assert record.state == State.VERIFIED, record.failure
    [stored] = await bookings(snelstart)
    shipping = [
        ln
        for ln in stored["boekingsregels"]
        if ln["grootboek"]["id"] == DEMO.main.grootboeken["shipping"]
    ]
    assert [ln["btwSoort"] for ln in shipping] == ["Hoog"]


async def test_a_refused_subscription_key_is_koppels_fault_not_the_merchants(
    snelstart, secrets_key, adapter_for
) -> None:
    driver = Driver(adapter_for(subscription_key="not-koppels-key"))
    await driver.connect(demo_settings(snelstart.url, secrets_key))
    record = await driver.order(event("11"))
    assert record.state == State.WAITING and record.reason_code == "ledger_unavailable"
    assert [a for a in driver.alerts() if a.kind == AlertKind.CONNECTION_BROKEN] == []


async def test_a_koppelsleutel_without_the_booking_right_holds_the_connection(
    driver, snelstart
) -> None:
    scopes = [s for s in DEMO.scopes if s != "boekhouden:write"]
    await snelstart.control.set_scopes(DEMO.main.koppelsleutel, scopes)
    record = await driver.order(event("12"))
    assert record.state == State.HELD
    assert [a.kind for a in driver.alerts()] == [AlertKind.CONNECTION_BROKEN]


async def test_snelstarts_own_rate_limit_is_waited_out(driver, snelstart) -> None:
    await driver.order(event("13"))
    await snelstart.control.set_rate_limits(per_minute=1, per_hour=None, concurrent=None)
    record = await driver.order(event("14"))
    assert record.state == State.WAITING
    assert (record.next_attempt_at - driver.clock()).total_seconds() >= 1
    await snelstart.control.set_rate_limits(per_minute=None, per_hour=None, concurrent=None)
    await driver.later(3600)
    assert (await driver.record("14")).state == State.VERIFIED
