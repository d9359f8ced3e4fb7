"""The collective debtor in Octopus: Bol.com consumers booked (as sales bookings, Bol's
default) on one relation per connection and country, created once and without any
consumer's data; business buyers and `consumers=own` on relations of their own.

The runtime on in-memory stores (`koppel_ledger.testing.Driver`), the adapter on the real
MongoDB-compatible server, the Octopus sandbox on a real port.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from koppel_chassis import SecretBox
from koppel_contracts import (
    BookingMode,
    BookingStatus,
    CheckOutcome,
    ConnectionSettings,
    ConsumerDebtor,
    ShopConnection,
)
from koppel_ledger import State, choose_debtor
from koppel_ledger.testing import CONNECTION, Driver
from koppel_ledger_octopus import LedgerOctopusSettings
from koppel_ledger_octopus.adapter import OctopusAdapter
from koppel_ledger_octopus.debtors import external_id_for
from koppel_sandbox_octopus import DEMO, demo_booking
from koppel_testkit import line, make_order, make_order_event

from .helpers import demo_settings

D = DEMO.dossier_id
PERSONAL = ("email", "firstName", "streetAndNr", "postalCode", "city", "telephone", "vatNr")


def bol_settings(url: str, secrets_key: str, **booking: Any) -> ConnectionSettings:
    """A Bol.com connection: consumers collective and sales bookings unless set otherwise."""
    bol = ShopConnection(system="bol", base_url="https://api.bol.com")
    return demo_settings(url, secrets_key, booking=demo_booking(**booking), shop=bol)


def consumer(ref: str, alias: str, **changes: Any):
    """A Bol consumer order: no company, the e-mail a relay alias of this order."""
    order = make_order(
        order_id=ref,
        email=alias,
        payment_method="bol.com",
        lines=[line("Mok", "1", "12.10", "21")],
        **changes,
    )
    return make_order_event(order, connection_id=CONNECTION)


@pytest.fixture
async def adapters(mongo_db, secrets_key):
    """adapters() -> a new OctopusAdapter (a new process or replica) on the same database."""
    made: list[OctopusAdapter] = []

    def make() -> OctopusAdapter:
        settings = LedgerOctopusSettings(
            http_timeout_seconds=1.0,
            http_max_attempts=2,
            http_initial_backoff_seconds=0.01,
            http_max_backoff_seconds=0.05,
        )
        adapter = OctopusAdapter(settings, mongo_db, None, SecretBox(secrets_key))
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        await adapter.aclose()


@pytest.fixture
async def bol(octopus, secrets_key, adapters) -> Driver:
    driver = Driver(adapters())
    await driver.connect(bol_settings(octopus.url, secrets_key))
    return driver


def relation_of(booking: dict[str, Any]) -> int:
    return booking["relationIdentificationServiceData"]["relationKey"]["id"]


def rid(relation: dict[str, Any]) -> int:
    return relation["relationIdentificationServiceData"]["relationKey"]["id"]


async def relations_by_name(octopus) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in await octopus.control.relations(D)}


async def test_a_bol_consumer_order_is_a_sales_booking_on_the_collective_relation(
    bol, octopus
) -> None:
    record = await bol.order(consumer("B-1", "2ad3f1c0@verkopen.bol.com"))
    assert record.state == State.VERIFIED, record.failure
    assert await octopus.control.invoices(D) == []
    [booking] = await octopus.control.buysell_bookings(D)
    collective = (await relations_by_name(octopus))["Consumenten Bol.com"]
    assert relation_of(booking) == rid(collective)
    # No consumer's data on it: only its name, the country and a private EU VAT type (8).
    assert not {k for k in PERSONAL if collective.get(k)}
    assert (collective["country"], collective["vatType"]) == ("NL", 8)
    [event] = bol.bookings()
    assert event.status == BookingStatus.BOOKED
    assert event.ledger_ref.debtor_id == str(rid(collective))
    assert [c.outcome for c in bol.checks()] == [CheckOutcome.MATCHED]
    assert record.ledger.debtor.source == "collective"


async def test_two_consumer_orders_share_the_collective_relation_created_once(bol, octopus) -> None:
    before = len(await octopus.control.relations(D))
    await bol.order(consumer("B-2", "first@verkopen.bol.com"))
    calls = await octopus.control.calls(D)
    second = await bol.order(consumer("B-3", "other@verkopen.bol.com"))
    assert second.state == State.VERIFIED, second.failure
    assert len(await octopus.control.relations(D)) == before + 1
    assert len({relation_of(b) for b in await octopus.control.buysell_bookings(D)}) == 1
    after = await octopus.control.calls(D)
    spent = {k: after[k] - calls.get(k, 0) for k in after if after[k] != calls.get(k)}
    assert not [k for k in spent if "relations" in k], "the collective relation is known"


async def test_a_consumer_in_belgium_is_on_the_belgian_collective_relation(bol, octopus) -> None:
    await bol.order(consumer("B-4", "nl@verkopen.bol.com"))
    record = await bol.order(consumer("B-5", "be@verkopen.bol.com", country="BE"))
    assert record.state == State.VERIFIED, record.failure
    names = await relations_by_name(octopus)
    belgian = names["Consumenten Bol.com (BE)"]
    assert (belgian["country"], belgian["vatType"]) == ("BE", 7)  # a private Belgian
    bookings = {b["reference"]: relation_of(b) for b in await octopus.control.buysell_bookings(D)}
    assert bookings == {"WEB-B-4": rid(names["Consumenten Bol.com"]), "WEB-B-5": rid(belgian)}


async def test_a_business_buyer_gets_a_relation_of_its_own(bol, octopus) -> None:
    await bol.order(consumer("B-6", "c1@verkopen.bol.com"))
    business = consumer(
        "B-7", "inkoop@verkopen.bol.com", company_name="Boon B.V.", vat_number="NL123456789B01"
    )
    record = await bol.order(business)
    assert record.state == State.VERIFIED, record.failure
    own = (await relations_by_name(octopus))["Boon B.V."]
    assert own["email"] == "inkoop@verkopen.bol.com" and own["vatNr"] == "NL123456789B01"
    bookings = {b["reference"]: relation_of(b) for b in await octopus.control.buysell_bookings(D)}
    assert bookings["WEB-B-7"] == rid(own) != bookings["WEB-B-6"]


async def test_consumers_own_gives_each_consumer_a_relation_of_their_own(
    octopus, secrets_key, adapters
) -> None:
    driver = Driver(adapters())
    settings = bol_settings(octopus.url, secrets_key, consumers=ConsumerDebtor.OWN)
    assert settings.ledger.octopus.booking_mode == BookingMode.SALES
    await driver.connect(settings)
    await driver.order(consumer("B-8", "een@verkopen.bol.com"))
    await driver.order(consumer("B-9", "twee@verkopen.bol.com"))
    relations = await octopus.control.relations(D)
    assert not [r for r in relations if r["name"].startswith("Consumenten")]
    by_email = {r.get("email"): rid(r) for r in relations}
    bookings = {b["reference"]: relation_of(b) for b in await octopus.control.buysell_bookings(D)}
    assert bookings == {
        "WEB-B-8": by_email["een@verkopen.bol.com"],
        "WEB-B-9": by_email["twee@verkopen.bol.com"],
    }


async def test_another_process_finds_the_collective_relation_and_replicas_make_one(
    octopus, secrets_key, adapters
) -> None:
    settings = bol_settings(octopus.url, secrets_key)
    before = len(await octopus.control.relations(D))
    # Three replicas meeting their first consumer order at once: one relation.
    replicas = [adapters() for _ in range(3)]
    sessions = [r.session(CONNECTION, settings) for r in replicas]
    orders = [consumer(f"R-{i}", f"r{i}@verkopen.bol.com").order for i in range(3)]
    found = await asyncio.gather(
        *(
            r.relations.debtor_for(
                s.client,
                o,
                settings.ledger.booking,
                order_key=f"{CONNECTION}:R-{i}",
                shop=settings.shop.system,
            )
            for i, (r, s, o) in enumerate(zip(replicas, sessions, orders, strict=True))
        )
    )
    assert len({d.id for d in found}) == 1
    assert len(await octopus.control.relations(D)) == before + 1
    # A process started later looks it up by its external id and creates nothing.
    calls = await octopus.control.calls(D)
    later = adapters()
    session = later.session(CONNECTION, settings)
    again = await later.relations.debtor_for(
        session.client,
        orders[0],
        settings.ledger.booking,
        order_key=f"{CONNECTION}:R-9",
        shop=settings.shop.system,
    )
    assert again == found[0]
    after = await octopus.control.calls(D)
    assert after.get("PUT /dossiers/{d}/relations", 0) == calls.get(
        "PUT /dossiers/{d}/relations", 0
    )


async def test_a_customer_relation_under_the_derived_id_is_left_alone(
    octopus, secrets_key, adapters
) -> None:
    settings = bol_settings(octopus.url, secrets_key)
    order = consumer("S-1", "s1@verkopen.bol.com").order
    choice = choose_debtor(
        order,
        settings.ledger.booking,
        connection_id=CONNECTION,
        order_key=f"{CONNECTION}:S-1",
        shop=settings.shop.system,
    )
    adapter = adapters()
    session = adapter.session(CONNECTION, settings)
    taken = external_id_for(choice.seed)  # type: ignore[union-attr]
    await session.client.put_relation(
        {
            "relationIdentificationServiceData": {"externalRelationId": taken},
            "name": "Klant van elders",
            "email": "elders@example.nl",
            "client": True,
        }
    )
    debtor = await adapter.relations.debtor_for(
        session.client,
        order,
        settings.ledger.booking,
        order_key=f"{CONNECTION}:S-1",
        shop=settings.shop.system,
    )
    names = await relations_by_name(octopus)
    assert names["Klant van elders"]["email"] == "elders@example.nl", "not overwritten"
    assert debtor.id == str(rid(names["Consumenten Bol.com"]))
    assert debtor.external_id == str(external_id_for(choice.seed, 1))  # type: ignore[union-attr]


async def test_a_collective_relation_deleted_in_octopus_is_created_again(bol, octopus) -> None:
    await bol.order(consumer("X-1", "x1@verkopen.bol.com"))
    gone = rid((await relations_by_name(octopus))["Consumenten Bol.com"])
    del octopus.state.dossiers[D].relations[gone]  # removed by someone in Octopus
    record = await bol.order(consumer("X-2", "x2@verkopen.bol.com"))
    if record.state != State.VERIFIED:
        await bol.later(60)
        record = await bol.record("X-2")
    assert record.state == State.VERIFIED, record.failure
    anew = rid((await relations_by_name(octopus))["Consumenten Bol.com"])
    assert anew != gone
    bookings = {b["reference"]: relation_of(b) for b in await octopus.control.buysell_bookings(D)}
    assert bookings["WEB-X-2"] == anew
