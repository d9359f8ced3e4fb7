"""Historic orders (`koppel migrate` for bol): what bol still lists and what it shipped in
its three-month window, placed in the period, through the same fetch and mapping."""

from __future__ import annotations

from datetime import timedelta

from koppel_ingest.testing import CONNECTION

from .bol_harness import BOOK
from .conftest import START, Timed


async def aged(timed: Timed, days: float, *, ship: bool = True) -> str:
    """An order placed (and shipped at once) `days` ago."""
    order = await timed.harness.control.place_order(items=[{"ean": BOOK}], ship=ship)
    await timed.harness.control.age_order(order["orderId"], days * 24)
    return str(order["orderId"])


async def test_the_orders_of_a_period_are_published_once_oldest_first(timed: Timed) -> None:
    await timed.harness.control.configure(order_detail_retention_days=20)
    before = await aged(timed, 40)  # before the period
    long_ago = await aged(timed, 30)  # out of the order list, detail gone: its shipment
    open_order = await aged(timed, 2, ship=False)  # still open: in the order list
    after = await aged(timed, 0.5)  # after the period
    await timed.connect()
    start, end = START - timedelta(days=35), START - timedelta(days=1)

    report = await timed.driver.runtime.migrate(CONNECTION, start, end)

    assert report.orders == 2 and report.connection_usable
    published = [e.order_ref for e in timed.driver.orders()]
    assert published == [long_ago, open_order], "oldest first, in the period only"
    assert before not in published and after not in published
    assert timed.harness.metrics.orders_read.labels("shipments")._value.get() == 1, "rebuilt"
    again = await timed.driver.runtime.migrate(CONNECTION, start, end)
    assert again.orders == 2 and len(timed.driver.orders()) == 2, "nothing new the second time"


async def test_orders_handled_before_bols_three_month_window_cannot_be_found(
    timed: Timed,
) -> None:
    await aged(timed, 120)
    await timed.connect()
    report = await timed.driver.runtime.migrate(CONNECTION, START - timedelta(days=150), START)
    assert report.orders == 0 and timed.driver.orders() == []
