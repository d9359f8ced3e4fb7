"""The CCV Shop → Octopus slice end to end: every service and sandbox as its own
process, on the real broker and database, mails received by a real SMTP server.

One system is started for the module and the scenarios run in order, as a
merchant's day would: orders, a mismatch, a refused order, garbage on the
topic, a changed Octopus password and new settings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from koppel_contracts import SHOP_ORDERS
from koppel_contracts.topics import DLQ_HEADER_CONSUMER
from koppel_demo.demo_data import (
    MERCHANT_EMAIL,
    demo_connection,
    place_paid_order,
    publish_demo_connection,
    wait_until_connected,
)
from koppel_demo.processes import ProcessGroup
from koppel_demo.system import SystemConfig
from koppel_sandbox_ccvshop import CcvShopControl
from koppel_sandbox_octopus import DEMO, OctopusControl
from koppel_testkit import eventually, publish_raw, read_records

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

NEW_PASSWORD = "nieuw-wachtwoord-2"


@pytest.fixture
async def shop(config: SystemConfig, system: ProcessGroup) -> AsyncIterator[CcvShopControl]:
    async with CcvShopControl(config.url(config.ports.ccvshop)) as control:
        yield control


@pytest.fixture
async def octopus(config: SystemConfig, system: ProcessGroup) -> AsyncIterator[OctopusControl]:
    async with OctopusControl(config.url(config.ports.octopus)) as control:
        yield control


async def _invoices_for(octopus: OctopusControl, references: set[str]) -> list[dict[str, Any]]:
    return [i for i in await octopus.invoices(DEMO.dossier_id) if i.get("reference") in references]


async def _booked(octopus: OctopusControl, orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    references = {str(o["ordernumber_full"]) for o in orders}

    async def all_there() -> list[dict[str, Any]]:
        found = await _invoices_for(octopus, references)
        return found if len(found) >= len(references) else []

    return await eventually(all_there, timeout=60)


async def test_the_slice(config, system, smtp, shop, octopus) -> None:
    await publish_demo_connection(config, demo_connection(config))
    await wait_until_connected(config)

    # 1. Orders paid in the shop become concept invoices in Octopus, once each.
    orders = [
        await place_paid_order(shop, {}),
        await place_paid_order(
            shop,
            {
                "rows": [
                    {"product_name": "Molen", "count": 1, "price": "89.00", "tax": 21},
                    {"product_name": "Bonen", "count": 2, "price": "12.50", "tax": 9},
                ]
            },
        ),
    ]
    invoices = await _booked(octopus, orders)
    assert len(invoices) == 2
    by_reference = {i["reference"]: i for i in invoices}
    for order in orders:
        invoice = by_reference[str(order["ordernumber_full"])]
        assert Decimal(str(invoice["_sandbox"]["totalInclVat"])) == Decimal(
            str(order["total_price"])
        )
        assert invoice["_sandbox"]["booked"] is False, "a concept invoice, not booked"
    assert (await smtp.settled(2.0)) == [], "nothing to tell the merchant yet"

    # 2. A booking that reads back differently → exactly one e-mail about it.
    await octopus.tamper_next_document(total_delta="1.00")
    tampered = await place_paid_order(shop, {})
    await _booked(octopus, [tampered])
    mails = await smtp.wait_for(1, timeout=60)
    assert len(await smtp.settled(3.0)) == 1
    assert mails[0].rcpt_tos == [MERCHANT_EMAIL]
    assert str(tampered["ordernumber_full"]) in mails[0].body

    # 3. An order the ledger refuses (a VAT rate without a ledger account) → one e-mail.
    refused = await place_paid_order(
        shop, {"rows": [{"product_name": "Boek", "count": 1, "price": "19.95", "tax": 6}]}
    )
    mails = await smtp.wait_for(2, timeout=60)
    assert len(await smtp.settled(3.0)) == 2
    assert str(refused["ordernumber_full"]) in mails[1].body
    assert await _invoices_for(octopus, {str(refused["ordernumber_full"])}) == []

    # 4. An event nobody can read goes to the dead-letter topic; consuming goes on.
    orders_topic = config.isolation + SHOP_ORDERS.name
    await publish_raw(config.kafka_bootstrap, orders_topic, b"{garbage", b"x:1")
    after_garbage = await place_paid_order(shop, {})
    await _booked(octopus, [after_garbage])
    # Every consumer of the topic dead-letters it once, saying who it was.
    dead = await read_records(config.kafka_bootstrap, orders_topic + ".dlq", at_least=4, settle=2.0)
    assert {r.value for r in dead} == {b"{garbage"}
    consumers = sorted(dict(r.headers)[DLQ_HEADER_CONSUMER].decode() for r in dead)
    assert consumers == ["dashboard", "ledger-asperion", "ledger-octopus", "ledger-snelstart"]

    # 5. The merchant changes the Octopus password: one e-mail, orders wait (not fail)...
    await octopus.set_password(DEMO.user, NEW_PASSWORD)
    await octopus.expire_tokens()
    held = [await place_paid_order(shop, {}) for _ in range(3)]
    mails = await smtp.wait_for(3, timeout=60)
    assert len(await smtp.settled(3.0)) == 3, (
        "one mail for the broken connection, not one per order"
    )
    assert "wachtwoord" in mails[2].body.lower() or "inlog" in mails[2].body.lower()
    references = {str(o["ordernumber_full"]) for o in held}
    assert await _invoices_for(octopus, references) == []

    # ...and once the new settings arrive, every held order is booked exactly once.
    await publish_demo_connection(config, demo_connection(config, octopus_password=NEW_PASSWORD))
    await _booked(octopus, held)
    all_invoices = await octopus.invoices(DEMO.dossier_id)
    counted: dict[str, int] = {}
    for invoice in all_invoices:
        counted[invoice["reference"]] = counted.get(invoice["reference"], 0) + 1
    assert all(n == 1 for n in counted.values()), counted
    # The dossier also holds what other modules booked for the coffee roaster: count ours.
    ours = [*orders, tampered, refused, after_garbage, *held]
    references = {str(o["ordernumber_full"]) for o in ours}
    assert sum(n for reference, n in counted.items() if reference in references) == 2 + 1 + 1 + 3
