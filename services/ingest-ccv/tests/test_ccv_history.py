"""Historic migration on CCV: the orders created in a period, listed by CCV's create-date
filter and cut to the exact moment, through the same fetch + mapping as new orders."""

from __future__ import annotations

from datetime import UTC, datetime

from koppel_ingest.testing import CONNECTION, Driver

from .ccv_harness import CcvHarness

OCTOBER = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)


async def test_the_orders_of_a_period_are_published_once(harness: CcvHarness) -> None:
    placed = {
        moment: await harness.control.seed_order(paid=True, create_date=moment)
        for moment in (
            "2026-09-30T23:59:59Z",
            "2026-10-01T00:00:00Z",
            "2026-10-31T23:59:59Z",
            "2026-11-01T00:00:00Z",
        )
    }
    unpaid = await harness.control.seed_order(create_date="2026-10-15T12:00:00Z")
    driver = Driver(harness.adapter, box=harness.box)
    await driver.connect(harness.settings())

    report = await driver.runtime.migrate(CONNECTION, *OCTOBER)

    october = [placed["2026-10-01T00:00:00Z"], placed["2026-10-31T23:59:59Z"]]
    assert report.orders == 3, "the two paid ones of October and the unpaid one"
    assert [e.order_ref for e in driver.orders()] == [str(o["id"]) for o in october]
    assert [e.order.placed_at.isoformat() for e in driver.orders()] == [
        "2026-10-01T00:00:00+00:00",
        "2026-10-31T23:59:59+00:00",
    ]
    assert str(unpaid["id"]) not in {e.order_ref for e in driver.orders()}
    again = await driver.runtime.migrate(CONNECTION, *OCTOBER)
    assert again.orders == 3 and len(driver.orders()) == 2
    await driver.aclose()
