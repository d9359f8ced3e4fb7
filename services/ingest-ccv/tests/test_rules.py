"""What a CCV order and a CCV list item tell the runtime: bookable (the connection's
trigger), cancelled, its number, whether the list item changed. Pure, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from koppel_ingest import OrderUnreadable
from koppel_ingest_ccv.orders import Trigger, candidate, observe

PAID = {
    "id": 339400001,
    "ordernumber": 7,
    "ordernumber_full": "DB-7",
    "is_completed": True,
    "paid": True,
    "status": 1,
    "create_date": "2026-11-20T10:00:00Z",
    "total_price": Decimal("66.95"),
    "currency": "EUR",
    "customer": {"billingaddress": {"full_name": "Anna de Vries"}},
}
TRIGGER = Trigger.parse(["paid"])


def test_a_paid_order_is_bookable_and_keeps_what_the_runtime_needs() -> None:
    order = observe(PAID, TRIGGER)
    assert (order.source_order_id, order.order_number, order.lookup_key) == (
        "339400001",
        "DB-7",
        "7",
    )
    assert order.bookable and not order.cancelled and order.placed
    assert order.placed_at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert order.source_status == "1" and order.payload is PAID
    assert order.summary is not None and order.summary.customer_name == "Anna de Vries"


def test_unfinished_cancelled_and_unpaid_orders() -> None:
    basket = observe(
        {
            **PAID,
            "is_completed": False,
            "ordernumber": None,
            "ordernumber_full": None,
            "status": None,
        },
        TRIGGER,
    )
    assert not basket.placed and not basket.bookable and basket.lookup_key is None
    cancelled = observe({**PAID, "status": 8}, TRIGGER)
    assert cancelled.cancelled and not cancelled.bookable, "a cancelled order is never bookable"
    assert not observe({**PAID, "paid": False}, TRIGGER).bookable
    assert observe({**PAID, "paid": False, "status": 5}, Trigger.parse(["5"])).bookable


def test_an_order_whose_date_is_unreadable_is_an_ingest_failure_naming_its_number() -> None:
    with pytest.raises(OrderUnreadable, match="create_date") as unreadable:
        observe({**PAID, "create_date": "gisteren"}, TRIGGER)
    assert unreadable.value.number == "DB-7"


def test_the_list_item_fingerprint_follows_amounts_and_customer_not_progress() -> None:
    def fingerprint(**changes: Any) -> str | None:
        return candidate({**PAID, **changes}, TRIGGER).fingerprint

    assert fingerprint(status=5) == fingerprint(), "progress is not a change"
    assert fingerprint(total_price=Decimal(70)) != fingerprint()
    assert fingerprint(customer={"email": "x@y.nl"}) != fingerprint()
    item = candidate({**PAID, "status": 8}, TRIGGER)
    assert (item.order_number, item.bookable, item.cancelled) == ("DB-7", False, True)


def test_triggers_are_alternatives_and_unknown_entries_are_ignored() -> None:
    trigger = Trigger.parse(["paid", " 5 ", "bogus"])
    assert (trigger.paid, trigger.statuses) == (True, frozenset({5}))
