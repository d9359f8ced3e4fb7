"""The small rules that decide what gets published, what a poll fetches, and when the
connection is polled or alerted: pure functions, no I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from koppel_contracts import OrderEventKind, OrderStatus, SourceSystem
from koppel_ingest import Candidate, ConnectionState, OrderRecord, SourceOrder
from koppel_ingest.decide import (
    OnCancelled,
    booking_fingerprint,
    cancelled_version,
    needs_fetch,
    next_kind,
    on_cancelled,
    order_event,
    poll_due,
    poll_window,
    signature_alarm,
    supersedes,
)
from koppel_testkit import line, make_order

NOW = datetime(2026, 11, 23, 12, 0, 0, 654321, tzinfo=UTC)
UNPUBLISHED = OrderRecord(
    connection_id="c1",
    order_ref="100",
    source_order_id="100",
    placed_at=NOW,
    order_number="WEB-7",
    lookup_key="7",
)
PUBLISHED = replace(UNPUBLISHED, revision=1, fingerprint="f1")
SEEN = SourceOrder("c1", "100", "100", fingerprint="list-1")


def test_nothing_is_published_before_the_order_is_bookable() -> None:
    assert next_kind(UNPUBLISHED, "f1", bookable=False) is None
    assert next_kind(UNPUBLISHED, "f1", bookable=True) == OrderEventKind.CREATED


def test_once_published_a_change_of_what_is_booked_is_an_amendment_whatever_the_trigger() -> None:
    assert next_kind(PUBLISHED, "f1", bookable=True) is None, "nothing changed"
    assert next_kind(PUBLISHED, "f2", bookable=False) == OrderEventKind.AMENDED
    assert next_kind(replace(PUBLISHED, cancelled=True), "f2", bookable=True) is None


def test_progress_does_not_change_the_booking_fingerprint() -> None:
    order = make_order(order_id="100")
    shipped = order.model_copy(update={"status": OrderStatus.SHIPPED, "source_status": "5"})
    other_lines = make_order(order_id="100", lines=[line("Thee", "1", "4.95", "9")])
    assert booking_fingerprint(order) == booking_fingerprint(shipped)
    assert booking_fingerprint(order) != booking_fingerprint(other_lines)


def test_a_cancellation_needs_a_published_current_order() -> None:
    assert on_cancelled(UNPUBLISHED, "100", reissues=True) == OnCancelled.NOTHING
    assert on_cancelled(replace(PUBLISHED, cancelled=True), "100", True) == OnCancelled.NOTHING
    assert on_cancelled(PUBLISHED, "99", reissues=True) == OnCancelled.NOTHING, "an older id"
    assert on_cancelled(PUBLISHED, "100", reissues=False) == OnCancelled.CANCEL
    assert on_cancelled(PUBLISHED, "100", reissues=True) == OnCancelled.LOOK_FOR_SUCCESSOR
    no_key = replace(PUBLISHED, lookup_key=None)
    assert on_cancelled(no_key, "100", reissues=True) == OnCancelled.CANCEL


def test_a_reissue_names_the_id_it_replaces() -> None:
    assert supersedes(PUBLISHED, "100") is None
    assert supersedes(PUBLISHED, "101") == "100"
    event = order_event(
        PUBLISHED, OrderEventKind.AMENDED, make_order(order_id="101"), SourceSystem.BOL, NOW
    )
    assert (event.revision, event.supersedes_source_order_id) == (2, "100")
    assert (event.order_ref, event.source_system, event.occurred_at) == ("100", "bol", NOW)
    again = order_event(
        PUBLISHED, OrderEventKind.AMENDED, make_order(order_id="101"), SourceSystem.BOL, NOW
    )
    assert again.event_id == event.event_id, "the same change has the same id"


def test_a_cancellation_carries_the_order_as_booked() -> None:
    order = make_order(order_id="100")
    cancelled = cancelled_version(order, "8")
    assert (cancelled.status, cancelled.source_status) == (OrderStatus.CANCELLED, "8")
    assert cancelled.lines == order.lines and cancelled.totals == order.totals


@pytest.mark.parametrize(
    ("candidate", "source", "record", "number_known", "fetch"),
    [
        (Candidate("100", bookable=False), None, None, False, False),
        (Candidate("100", bookable=None), None, None, False, True),
        (Candidate("100", bookable=False), None, None, True, True),
        (Candidate("100", bookable=True), replace(SEEN, superseded_by="101"), None, False, False),
        (Candidate("100"), SEEN, None, False, True),
        (Candidate("100"), SEEN, replace(PUBLISHED, pending=1), False, True),
        (Candidate("100", bookable=False), SEEN, UNPUBLISHED, False, False),
        (Candidate("100", bookable=True), SEEN, UNPUBLISHED, False, True),
        (Candidate("100", fingerprint="list-1"), SEEN, PUBLISHED, False, False),
        (Candidate("100", fingerprint="list-2"), SEEN, PUBLISHED, False, True),
        (Candidate("100", fingerprint=None), SEEN, PUBLISHED, False, True),
        (Candidate("100", cancelled=True, fingerprint="list-1"), SEEN, PUBLISHED, False, True),
        (Candidate("100", cancelled=True), SEEN, replace(PUBLISHED, cancelled=True), False, False),
        (Candidate("99", cancelled=True), replace(SEEN, source_order_id="99"), PUBLISHED, 0, 0),
    ],
    ids=[
        "new-unbookable",
        "new-unknown",
        "reissue",
        "superseded",
        "record-missing",
        "pending",
        "unpublished-unbookable",
        "unpublished-bookable",
        "unchanged",
        "changed",
        "list-tells-nothing",
        "cancelled-now",
        "cancelled-already",
        "older-id",
    ],
)
def test_which_listed_orders_a_poll_fetches(
    candidate: Candidate,
    source: SourceOrder | None,
    record: OrderRecord | None,
    number_known: bool,
    fetch: bool,
) -> None:
    assert needs_fetch(candidate, source, record, number_known=number_known) == bool(fetch)


def test_the_poll_window_starts_at_the_connection_or_the_window() -> None:
    window = timedelta(days=14)
    assert poll_window(NOW, NOW - timedelta(days=30), window) == datetime(
        2026, 11, 9, 12, 0, 0, tzinfo=UTC
    )
    connected = NOW - timedelta(hours=2)
    assert poll_window(NOW, connected, window) == connected.replace(microsecond=0)


def test_a_poll_is_due_on_time_or_for_missing_webhooks_never_when_broken() -> None:
    state = ConnectionState("c1", 1, NOW, NOW + timedelta(minutes=5), webhooks_address="a")
    assert not poll_due(state, NOW, "a")
    assert poll_due(state, NOW + timedelta(minutes=5), "a")
    assert poll_due(state, NOW, "b"), "webhooks to register at a new address"
    assert not poll_due(state, NOW, None), "a poll-only shop registers nothing"
    broken = replace(state, broken_cause="x")
    assert not poll_due(broken, NOW + timedelta(days=1), "b")


def test_refused_deliveries_alarm_only_when_their_orders_exist() -> None:
    refused = ["1", "2", "3", "4"]
    assert signature_alarm(refused, {"1", "2"}, threshold=3).alarm is False
    verdict = signature_alarm(refused, {"1", "2", "4"}, threshold=3)
    assert (verdict.confirmed, verdict.alarm) == (3, True)
    assert signature_alarm([], set(), threshold=1).alarm is False
