"""The collective debtor in SnelStart: Bol.com consumers booked on one klant per connection
and country, found or created once under its derived relatiecode and without any
consumer's data; business buyers and `consumers=own` on relaties of their own."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from koppel_chassis import SecretBox
from koppel_contracts import (
    ConnectionSettings,
    ConsumerDebtor,
    LedgerConnection,
    Merchant,
    ShopConnection,
    SnelStartOptions,
)
from koppel_ledger import State, choose_debtor
from koppel_ledger.testing import CONNECTION, Driver
from koppel_ledger_snelstart.debtors import relation_code
from koppel_sandbox_snelstart import DEMO, demo_booking
from koppel_testkit import line, make_order, make_order_event

MAIN, OSS = DEMO.main, DEMO.oss
PERSONAL = ("email", "telefoon", "mobieleTelefoon", "btwNummer", "kvkNummer")


def bol_settings(
    url: str, secrets_key: str, *, koppelsleutel: str = MAIN.koppelsleutel, **booking: Any
) -> ConnectionSettings:
    """A Bol.com connection: consumers on the collective debtor unless set otherwise."""
    box = SecretBox(secrets_key)
    return ConnectionSettings(
        merchant=Merchant(name="Demo Bol", contact_email="shop@example.nl"),
        shop=ShopConnection(system="bol", base_url="https://api.bol.com"),
        ledger=LedgerConnection(
            system="snelstart",
            base_url=f"{url}/v2",
            credentials={"koppelsleutel": box.encrypt(koppelsleutel)},
            booking=demo_booking(**booking),
            snelstart=SnelStartOptions(),
        ),
    )


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
async def bol(snelstart, secrets_key, adapter_for) -> Driver:
    driver = Driver(adapter_for())
    await driver.connect(bol_settings(snelstart.url, secrets_key))
    return driver


async def klanten(snelstart, admin=MAIN) -> dict[str, str]:
    """factuurnummer -> the klant's relatie id, per booking."""
    return {
        b["factuurnummer"]: b["klant"]["id"]
        for b in await snelstart.control.bookings(admin.administratie_id)
    }


async def relaties_by_name(snelstart, admin=MAIN) -> dict[str, dict[str, Any]]:
    return {r["naam"]: r for r in await snelstart.control.relaties(admin.administratie_id)}


def seed_of(settings: ConnectionSettings, event) -> str:
    choice = choose_debtor(
        event.order,
        settings.ledger.booking,
        connection_id=CONNECTION,
        order_key=f"{CONNECTION}:{event.order_ref}",
        shop=settings.shop.system,
    )
    return choice.seed  # type: ignore[union-attr]


async def test_a_bol_consumer_is_booked_on_the_collective_klant_with_its_derived_code(
    bol, snelstart, secrets_key
) -> None:
    event = consumer("B-1", "2ad3f1c0@verkopen.bol.com")
    record = await bol.order(event)
    assert record.state == State.VERIFIED, record.failure
    collective = (await relaties_by_name(snelstart))["Consumenten Bol.com"]
    assert (await klanten(snelstart))["WEB-B-1"] == collective["id"]
    assert collective["relatiesoort"] == ["Klant"]
    settings = bol_settings(snelstart.url, secrets_key)
    assert collective["relatiecode"] == relation_code(seed_of(settings, event))
    # Nothing of the consumer on it; no address either (SnelStart takes Nederland).
    assert not {k for k in PERSONAL if collective.get(k)}
    assert not (collective.get("vestigingsAdres") or {}).get("straat")
    assert record.ledger.debtor.source == "collective"


async def test_two_consumers_share_the_collective_klant_created_once(bol, snelstart) -> None:
    before = len(await snelstart.control.relaties(MAIN.administratie_id))
    await bol.order(consumer("B-2", "eerste@verkopen.bol.com"))
    calls = await snelstart.control.calls(MAIN.administratie_id)
    second = await bol.order(consumer("B-3", "tweede@verkopen.bol.com"))
    assert second.state == State.VERIFIED, second.failure
    assert len(await snelstart.control.relaties(MAIN.administratie_id)) == before + 1
    assert len(set((await klanten(snelstart)).values())) == 1
    after = await snelstart.control.calls(MAIN.administratie_id)
    spent = [k for k in after if after[k] != calls.get(k) and "relaties" in k]
    assert spent == [], "the collective klant is known"


async def test_a_business_buyer_gets_a_klant_of_its_own(bol, snelstart) -> None:
    await bol.order(consumer("B-4", "c@verkopen.bol.com"))
    business = consumer(
        "B-5", "inkoop@verkopen.bol.com", company_name="Boon B.V.", vat_number="NL123456789B01"
    )
    record = await bol.order(business)
    assert record.state == State.VERIFIED, record.failure
    own = (await relaties_by_name(snelstart))["Boon B.V."]
    assert own["email"] == "inkoop@verkopen.bol.com" and own["btwNummer"] == "NL123456789B01"
    booked = await klanten(snelstart)
    assert booked["WEB-B-5"] == own["id"] != booked["WEB-B-4"]


async def test_consumers_own_gives_each_consumer_a_klant_of_their_own(
    snelstart, secrets_key, adapter_for
) -> None:
    driver = Driver(adapter_for())
    await driver.connect(bol_settings(snelstart.url, secrets_key, consumers=ConsumerDebtor.OWN))
    await driver.order(consumer("B-6", "een@verkopen.bol.com"))
    await driver.order(consumer("B-7", "twee@verkopen.bol.com"))
    relaties = await snelstart.control.relaties(MAIN.administratie_id)
    assert not [r for r in relaties if r["naam"].startswith("Consumenten")]
    by_email = {r.get("email"): r["id"] for r in relaties}
    assert await klanten(snelstart) == {
        "WEB-B-6": by_email["een@verkopen.bol.com"],
        "WEB-B-7": by_email["twee@verkopen.bol.com"],
    }


async def test_an_oss_consumer_in_belgium_is_booked_on_a_belgian_collective_klant(
    snelstart, secrets_key, adapter_for
) -> None:
    # SnelStart books foreign VAT only on a klant in that country (notes §6.4).
    driver = Driver(adapter_for())
    await driver.connect(bol_settings(snelstart.url, secrets_key, koppelsleutel=OSS.koppelsleutel))
    await driver.order(consumer("B-8", "nl@verkopen.bol.com"))
    record = await driver.order(consumer("B-9", "be@verkopen.bol.com", country="BE"))
    assert record.state == State.VERIFIED, record.failure
    assert record.ledger.placement["oss"] is True
    names = await relaties_by_name(snelstart, OSS)
    belgian = names["Consumenten Bol.com (BE)"]
    address = belgian["vestigingsAdres"]
    assert address["land"]["id"] == await country_id(snelstart, "BE")
    assert (address["straat"], address["postcode"], address["plaats"]) == ("-", "-", "-")
    assert not {k for k in PERSONAL if belgian.get(k)}
    assert await klanten(snelstart, OSS) == {
        "WEB-B-8": names["Consumenten Bol.com"]["id"],
        "WEB-B-9": belgian["id"],
    }


async def country_id(snelstart, code: str) -> str:
    from koppel_sandbox_snelstart.refdata import LANDEN

    return next(land.id for land in LANDEN if land.landcode == code)


async def test_replicas_and_later_processes_find_the_one_collective_klant(
    snelstart, secrets_key, adapter_for
) -> None:
    settings = bol_settings(snelstart.url, secrets_key)
    before = len(await snelstart.control.relaties(MAIN.administratie_id))
    replicas = [adapter_for() for _ in range(3)]
    events = [consumer(f"R-{i}", f"r{i}@verkopen.bol.com") for i in range(3)]

    async def debtor(adapter, event):
        session = adapter.session(CONNECTION, settings)
        return await adapter.debtors.debtor_for(
            session.client,
            event.order,
            settings.ledger.booking,
            order_key=f"{CONNECTION}:{event.order_ref}",
            shop=settings.shop.system,
        )

    found = await asyncio.gather(*(debtor(a, e) for a, e in zip(replicas, events, strict=True)))
    assert len({d.id for d in found}) == 1
    assert len(await snelstart.control.relaties(MAIN.administratie_id)) == before + 1
    calls = await snelstart.control.calls(MAIN.administratie_id)
    assert (await debtor(adapter_for(), events[0])) == found[0]
    after = await snelstart.control.calls(MAIN.administratie_id)
    created = [k for k in after if k.startswith("POST") and "relaties" in k]
    assert created, "the first order created it"
    assert all(after[k] == calls.get(k) for k in created), "looked up, not created"


async def test_a_customers_klant_under_the_derived_code_is_left_alone(
    snelstart, secrets_key, adapter_for
) -> None:
    settings = bol_settings(snelstart.url, secrets_key)
    event = consumer("S-1", "s1@verkopen.bol.com")
    seed = seed_of(settings, event)
    adapter = adapter_for()
    session = adapter.session(CONNECTION, settings)
    await session.client.create_relation(
        {
            "relatiesoort": ["Klant"],
            "relatiecode": relation_code(seed),
            "naam": "Klant van elders",
            "email": "elders@example.nl",
        }
    )
    debtor = await adapter.debtors.debtor_for(
        session.client,
        event.order,
        settings.ledger.booking,
        order_key=f"{CONNECTION}:S-1",
        shop=settings.shop.system,
    )
    names = await relaties_by_name(snelstart)
    assert names["Klant van elders"]["email"] == "elders@example.nl"
    assert debtor.id == names["Consumenten Bol.com"]["id"]
    assert names["Consumenten Bol.com"]["relatiecode"] == relation_code(seed, 1)
