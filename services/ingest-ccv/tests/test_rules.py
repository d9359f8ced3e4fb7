"""The small rules that decide what gets published and what the poll re-reads."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from koppel_contracts import OrderEventKind, OrderStatus
from koppel_ingest_ccv.handlers import cancelled_version, next_kind, supersedes
from koppel_ingest_ccv.mapping import Trigger
from koppel_ingest_ccv.reconcile import decide_recheck, window_start
from koppel_ingest_ccv.state import OrderRef
from koppel_testkit import make_order

UNPUBLISHED = OrderRef(
    connection_id="c1",
    order_ref="100",
    ccv_ordernumber=7,
    source_order_id="100",
    revision=0,
    fingerprint=None,
    cancelled=False,
    last_order=None,
    outbox=None,
)
PUBLISHED = replace(UNPUBLISHED, revision=1, fingerprint="f1")


def test_next_kind() -> None:
    assert next_kind(UNPUBLISHED, "f1", bookable=False) is None
    assert next_kind(UNPUBLISHED, "f1", bookable=True) == OrderEventKind.CREATED
    assert next_kind(PUBLISHED, "f1", bookable=True) is None, "nothing changed"
    assert next_kind(PUBLISHED, "f2", bookable=False) == OrderEventKind.AMENDED
    assert next_kind(replace(PUBLISHED, cancelled=True), "f2", bookable=True) is None


def test_supersedes_only_on_a_new_ccv_id() -> None:
    assert supersedes(PUBLISHED, "100") is None
    assert supersedes(PUBLISHED, "101") == "100"


def test_a_cancellation_carries_the_order_as_booked() -> None:
    order = make_order(order_id="100")
    cancelled = cancelled_version(order)
    assert (cancelled.status, cancelled.source_status) == (OrderStatus.CANCELLED, "8")
    assert cancelled.lines == order.lines and cancelled.totals == order.totals


def test_poll_window_starts_at_the_connection_or_the_window() -> None:
    now = datetime(2026, 11, 23, 12, 0, 0, 654321, tzinfo=UTC)
    assert window_start(now, now - timedelta(days=30), 14) == datetime(
        2026, 11, 9, 12, 0, 0, tzinfo=UTC
    )
    connected = now - timedelta(hours=2)
    assert window_start(now, connected, 14) == connected.replace(microsecond=0)


def test_which_known_orders_the_poll_re_reads() -> None:
    paid = {"is_completed": True, "paid": True, "status": 1}
    unpaid = {**paid, "paid": False}
    trigger = Trigger.parse(["paid"])

    def recheck(order: dict[str, object], **state: bool) -> bool:
        known = {"published": True, "cancelled": False, "is_current": True, "changed": False}
        return decide_recheck(order=order, trigger=trigger, **{**known, **state})

    assert recheck(paid, published=False) and not recheck(unpaid, published=False)
    assert not recheck(paid), "published and unchanged"
    assert recheck(paid, changed=True)
    assert recheck({**paid, "status": 8})
    assert not recheck({**paid, "status": 8}, cancelled=True)
    assert not recheck({**paid, "status": 8}, is_current=False), "an id an edit replaced"
