"""Historic migration on PrestaShop: the orders placed in a period, listed by `date_add`
(shop-local time, no zone) and cut to the exact moment, through the same fetch + mapping
as new orders."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from koppel_ingest.testing import CONNECTION, Driver

from .prestashop_harness import PrestashopHarness

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# October 2026 in the shop's own time; summer time ends on the 25th.
OCTOBER = datetime(2026, 10, 1, tzinfo=AMSTERDAM), datetime(2026, 11, 1, tzinfo=AMSTERDAM)


async def test_the_orders_of_a_period_are_published_once(harness: PrestashopHarness) -> None:
    placed = {
        moment: await harness.place_order(date_add=moment)
        for moment in (
            "2026-09-30 23:59:59",
            "2026-10-01 00:00:00",
            "2026-10-25 02:30:00",
            "2026-10-31 23:59:59",
            "2026-11-01 00:00:00",
        )
    }
    unpaid = await harness.place_order(bookable=False, date_add="2026-10-15 12:00:00")
    driver = Driver(harness.adapter, box=harness.box)
    await driver.connect(harness.settings())

    report = await driver.runtime.migrate(CONNECTION, *OCTOBER)

    october = ["2026-10-01 00:00:00", "2026-10-25 02:30:00", "2026-10-31 23:59:59"]
    assert report.orders == 4, "the three paid ones of October and the unpaid one"
    assert [e.order_ref for e in driver.orders()] == [placed[m] for m in october]
    assert [e.order.placed_at.astimezone(AMSTERDAM).isoformat() for e in driver.orders()] == [
        "2026-10-01T00:00:00+02:00",
        "2026-10-25T02:30:00+02:00",
        "2026-10-31T23:59:59+01:00",
    ]
    assert unpaid not in {e.order_ref for e in driver.orders()}
    again = await driver.runtime.migrate(CONNECTION, *OCTOBER)
    assert again.orders == 4 and len(driver.orders()) == 3
    await driver.aclose()
