"""The collective debtor in a UBL file: a consumer's invoice names the connection's
collective debtor as buyer (its name and country, nothing of the consumer) and stays a
valid EN 16931 invoice; business buyers and `consumers=own` are written as the order names
them."""

from __future__ import annotations

from typing import Any

from koppel_contracts import (
    ConnectionSettings,
    ConsumerDebtor,
    LedgerConnection,
    Merchant,
    ShopConnection,
)
from koppel_ledger import State
from koppel_ledger.testing import CONNECTION, Driver
from koppel_ledger_asperion.adapter import AsperionAdapter
from koppel_ledger_asperion.demo import demo_asperion_options, demo_booking
from koppel_testkit import line, make_order, make_order_event
from koppel_ubl import Specification, read_totals, validate, write_document

from .asperion_helpers import invoice_of

ALIAS = "2ad3f1c0@verkopen.bol.com"


def bol_settings(**booking: Any) -> ConnectionSettings:
    """A Bol.com connection: consumers on the collective debtor unless set otherwise."""
    return ConnectionSettings(
        merchant=Merchant(name="Koffie & Co", contact_email="shop@example.nl"),
        shop=ShopConnection(system="bol", base_url="https://api.bol.com"),
        ledger=LedgerConnection(
            system="asperion",
            base_url="https://asperion.nl",
            booking=demo_booking(**booking),
            asperion=demo_asperion_options(),
        ),
    )


def consumer(ref: str = "1001", **changes: Any):
    return make_order(
        order_id=ref,
        email=ALIAS,
        payment_method="bol.com",
        lines=[line("Mok", "1", "12.10", "21")],
        **changes,
    )


def valid(document) -> tuple[bytes, tuple[str, ...]]:
    xml = write_document(document)
    report = validate(xml)
    assert report.ok, "\n".join(map(str, report.problems))
    return xml, report.checked


def test_a_consumers_invoice_names_the_collective_debtor_and_nothing_of_the_consumer() -> None:
    order = consumer()
    xml, checked = valid(invoice_of(order, bol_settings()))
    buyer = read_totals(xml).buyer
    assert (buyer.legal_name, buyer.country) == ("Consumenten Bol.com", "NL")
    assert (buyer.email, buyer.vat_number, buyer.contact_name) == (None, None, None)
    text = xml.decode()
    for personal in (ALIAS, "Jansen", "Dorpsstraat", "1234 AB", "Utrecht"):
        assert personal not in text, f"{personal} is in the file"
    assert checked == ("xsd", "en16931")
    assert read_totals(xml).totals.tax_inclusive == order.totals.total_incl_vat


def test_a_consumer_abroad_is_the_collective_debtor_of_that_country_in_a_valid_invoice() -> None:
    order = consumer(country="BE")
    document = invoice_of(order, bol_settings())
    xml, checked = valid(document)
    buyer = read_totals(xml).buyer
    assert (buyer.legal_name, buyer.country) == ("Consumenten Bol.com (BE)", "BE")
    # The buyer abroad allows NLCIUS (the seller has a KvK number): it holds too.
    assert document.specification == Specification.NLCIUS and "nlcius" in checked
    assert {v.vat.rate for v in read_totals(xml).vat} == {21}  # Belgian VAT (OSS)


def test_a_business_buyer_and_consumers_own_are_written_as_the_order_names_them() -> None:
    business = consumer(company_name="Boon B.V.", vat_number="NL123456789B01")
    xml, _ = valid(invoice_of(business, bol_settings()))
    buyer = read_totals(xml).buyer
    assert (buyer.legal_name, buyer.vat_number, buyer.email) == (
        "Boon B.V.",
        "NL123456789B01",
        ALIAS,
    )
    own, _ = valid(invoice_of(consumer(), bol_settings(consumers=ConsumerDebtor.OWN)))
    assert read_totals(own).buyer.email == ALIAS
    assert read_totals(own).buyer.legal_name == "Jan Jansen"


async def test_the_collective_debtor_is_the_booked_debtor_and_the_read_back_agrees(
    mongo_db,
) -> None:
    driver = Driver(AsperionAdapter(mongo_db))
    await driver.connect(bol_settings())
    for ref in ("B-1", "B-2"):
        event = make_order_event(consumer(ref), connection_id=CONNECTION)
        record = await driver.order(event)
        assert record.state == State.VERIFIED, record.failure
        assert record.ledger.debtor.source == "collective"
        assert record.ledger.debtor.external_id == "Consumenten Bol.com"
    assert {b.ledger_ref.debtor_id for b in driver.bookings()} == {"Consumenten Bol.com"}
    assert [c.outcome.value for c in driver.checks()] == ["matched", "matched"]
