"""CCV Shop → SnelStart end to end: the tea shop's paid orders become sales bookings in
SnelStart, exactly once each, read back and checked — with the VAT per rate the shop
charged, also when the shop charged shipping at one rate on a mixed-rate order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from koppel_contracts import LEDGER_CHECKS, CheckEvent, CheckOutcome
from koppel_demo.demo_data import (
    TEA_CONNECTION_ID,
    demo_tea_connection,
    place_paid_order,
    publish_demo_connection,
    wait_until_connected,
)
from koppel_demo.processes import ProcessGroup
from koppel_demo.system import SystemConfig
from koppel_sandbox_ccvshop import CcvShopControl
from koppel_sandbox_snelstart import DEMO, SnelStartControl
from koppel_testkit import eventually, read_events

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

ADMIN = DEMO.main.administratie_id


@pytest.fixture
async def tea_shop(config: SystemConfig, system: ProcessGroup) -> AsyncIterator[CcvShopControl]:
    async with CcvShopControl(config.url(config.ports.ccvshop_tea)) as control:
        yield control


@pytest.fixture
async def snelstart(config: SystemConfig, system: ProcessGroup) -> AsyncIterator[SnelStartControl]:
    async with SnelStartControl(config.url(config.ports.snelstart)) as control:
        yield control


async def _booked(snelstart: SnelStartControl, orders: list[dict[str, Any]]) -> list[dict]:
    numbers = {str(o["ordernumber_full"]) for o in orders}

    async def all_there() -> list[dict]:
        found = [b for b in await snelstart.bookings(ADMIN) if b["factuurnummer"] in numbers]
        return found if len(found) >= len(numbers) else []

    return await eventually(all_there, timeout=60)


async def test_the_tea_shop_books_in_snelstart_once_with_the_vat_it_charged(
    config, system, tea_shop, snelstart
) -> None:
    await publish_demo_connection(config, demo_tea_connection(config), TEA_CONNECTION_ID)
    await wait_until_connected(config, TEA_CONNECTION_ID, config.ports.ccvshop_tea)

    # A real-shaped order: 71.50 incl. 10.89 VAT — 9.52 at 21 %, 1.37 at 9 % — with the
    # shipping (4.95) charged at 21 % although the goods have two rates.
    mixed = await place_paid_order(
        tea_shop,
        {
            "rows": [
                {"product_name": "Theepot Gietijzer", "count": 1, "price": "49.90", "tax": 21},
                {"product_name": "Sencha 100g", "count": 3, "price": "5.55", "tax": 9},
            ],
            "shipping": "4.95",
            "shipping_tax_percentage": 21,
        },
    )
    plain = await place_paid_order(tea_shop, {})
    bookings = await _booked(snelstart, [mixed, plain])
    by_number = {b["factuurnummer"]: b for b in bookings}
    assert len(by_number) == 2

    booked = by_number[str(mixed["ordernumber_full"])]
    assert Decimal(str(booked["factuurbedrag"])) == Decimal("71.50")
    vat = {b["btwSoort"]: Decimal(str(b["btwBedrag"])) for b in booked["btw"]}
    assert vat == {"VerkopenHoog": Decimal("9.52"), "VerkopenLaag": Decimal("1.37")}
    assert Decimal(str(by_number[str(plain["ordernumber_full"])]["factuurbedrag"])) == Decimal(
        str(plain["total_price"])
    )

    async def both_checked() -> list[CheckEvent]:
        # The topic holds the other modules' checks too: wait for this shop's two.
        checks = await read_events(
            config.kafka_bootstrap, config.isolation + LEDGER_CHECKS.name, CheckEvent, timeout=5
        )
        found = [c for c in checks if c.connection_id == TEA_CONNECTION_ID]
        return found if len(found) >= len(by_number) else []

    ours = await eventually(both_checked, timeout=60, interval=0.5)
    assert sorted(c.order.order_number for c in ours) == sorted(by_number)
    assert {c.outcome for c in ours} == {CheckOutcome.MATCHED}
    mixed_check = next(c for c in ours if c.order.order_number == booked["factuurnummer"])
    assert {(v.vat_rate, v.amount) for v in mixed_check.booked_vat} == {
        (Decimal("21"), Decimal("9.52")),
        (Decimal("9"), Decimal("1.37")),
    }
    assert [n.code for n in mixed_check.notices], "the §6 notice reaches the check"

    # Paying again (a webhook redelivered, a reconciliation poll) books nothing twice.
    await tea_shop.mark_paid(mixed["id"])
    await eventually(lambda: _settled(snelstart), timeout=30)
    numbers = [b["factuurnummer"] for b in await snelstart.bookings(ADMIN)]
    assert sorted(numbers) == sorted(set(numbers)) == sorted(by_number)


async def _settled(snelstart: SnelStartControl) -> bool:
    calls = await snelstart.calls(ADMIN)
    return calls.get("POST /verkoopboekingen", 0) == 2
