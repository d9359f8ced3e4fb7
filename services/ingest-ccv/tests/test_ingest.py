"""The "done when" list, on the real broker and database, against the CCV sandbox."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from decimal import Decimal

import httpx
from koppel_contracts import (
    AlertKind,
    OrderEventKind,
    OrderStatus,
    SourceSystem,
    order_content_hash,
    order_event_id,
)
from koppel_ingest.states import MongoStateStore
from koppel_ingest.store import MongoOrderStore
from koppel_sandbox_ccvshop import webhook_signature

from .conftest import CONNECTION_ID, Koppel, eventually

Start = Callable[..., Awaitable[Koppel]]


async def test_paid_order_is_published_exactly_once(start_koppel: Start) -> None:
    koppel = await start_koppel()
    await koppel.connect()
    shop = koppel.shop.control
    order = await shop.seed_order(
        rows=[
            {"product_name": "Koffiebonen Espresso 1kg", "count": 2, "price": "24.95", "tax": 9},
            {"product_name": "Koffiemok wit", "count": 1, "price": "12.10", "tax": 21},
        ]
    )
    assert await koppel.order_events(at_least=0, settle=1.5) == [], "not paid yet"
    await shop.mark_paid(order["id"])

    events = await koppel.order_events()
    assert len(events) == 1
    event = events[0]
    ccv_id = str(order["id"])
    assert (event.kind, event.revision, event.order_ref) == (OrderEventKind.CREATED, 1, ccv_id)
    assert event.connection_id == CONNECTION_ID and event.source_system == SourceSystem.CCVSHOP
    assert event.supersedes_source_order_id is None
    assert event.content_hash == order_content_hash(event.order)
    assert event.event_id == order_event_id(
        CONNECTION_ID, ccv_id, OrderEventKind.CREATED, event.content_hash, 1
    )
    assert event.order.source_order_id == ccv_id and event.order.paid is True
    assert event.order.order_number == order["ordernumber_full"]
    assert event.order.totals.total_incl_vat == Decimal("66.95")  # 49.90 + 12.10 + 4.95
    deliveries = await shop.deliveries()
    assert [(d["event"], d["http_status"]) for d in deliveries] == [
        ("orders.created", 200),
        ("orders.updated.ispaid", 200),
    ]


async def test_duplicate_webhook_publishes_nothing_new(start_koppel: Start) -> None:
    koppel = await start_koppel()
    await koppel.connect()
    shop = koppel.shop.control
    order = await shop.seed_order(paid=True)
    assert len(await koppel.order_events(settle=0.5)) == 1
    (delivery,) = await shop.deliveries()
    for _ in range(2):
        again = await shop.redeliver(delivery["id"])
        assert again["http_status"] == 200, "a duplicate is accepted, just not republished"
    await shop.set_status(order["id"], 2)  # progress only: nothing to book differently

    events = await koppel.order_events(settle=3.0)
    assert [e.revision for e in events] == [1]


async def test_forged_webhook_is_refused_and_publishes_nothing(start_koppel: Start) -> None:
    koppel = await start_koppel()
    await koppel.connect()
    shop = koppel.shop.control
    await shop.pause_webhooks()
    order = await shop.seed_order(paid=True)
    body = json.dumps({"id": order["id"], "paid": True, "order_number": 1}).encode()
    async with httpx.AsyncClient() as http:
        forged = await http.post(
            koppel.webhook_url,
            content=body,
            headers={"x-hash": webhook_signature("not-a-key-ccv-gave-us", body)},
        )
        unsigned = await http.post(koppel.webhook_url, content=body)
    assert (forged.status_code, unsigned.status_code) == (401, 401)
    assert forged.json() == {"error": "invalid webhook signature"}
    assert await koppel.order_events(at_least=0, settle=3.0) == []
    assert await MongoOrderStore(koppel.service.db).source(CONNECTION_ID, str(order["id"])) is None


async def test_missed_webhook_is_caught_by_the_poll(start_koppel: Start) -> None:
    koppel = await start_koppel(reconcile_interval_seconds=1)
    await koppel.connect()
    shop = koppel.shop.control
    await shop.pause_webhooks()
    paid_at_checkout = await shop.seed_order(paid=True)
    paid_later = await shop.seed_order()
    await shop.mark_paid(paid_later["id"])
    never_paid = await shop.seed_order()

    events = await koppel.order_events(at_least=2, settle=3.0)
    assert sorted(e.order_ref for e in events) == sorted(
        [str(paid_at_checkout["id"]), str(paid_later["id"])]
    )
    assert all(e.kind == OrderEventKind.CREATED for e in events)
    assert str(never_paid["id"]) not in {e.order_ref for e in events}
    assert all(d["status"] == "paused" for d in await shop.deliveries())


async def test_edit_is_published_as_an_amendment_of_the_same_order(start_koppel: Start) -> None:
    koppel = await start_koppel()
    await koppel.connect()
    shop = koppel.shop.control
    original = await shop.seed_order(paid=True)
    assert len(await koppel.order_events(settle=0.5)) == 1
    edited = await shop.edit_order(
        original["id"],
        rows=[{"product_name": "Koffiebonen Espresso 1kg", "count": 3, "price": "24.95", "tax": 9}],
    )

    events = await koppel.order_events(at_least=2, settle=3.0)
    assert [(e.kind, e.revision) for e in events] == [
        (OrderEventKind.CREATED, 1),
        (OrderEventKind.AMENDED, 2),
    ]
    amendment = events[1]
    assert amendment.order_ref == str(original["id"]), "the same order, not a second one"
    assert amendment.order.source_order_id == str(edited["id"])
    assert amendment.supersedes_source_order_id == str(original["id"])
    assert amendment.order.order_number == original["ordernumber_full"]
    assert amendment.order.lines[0].quantity == 3
    assert amendment.order.status != OrderStatus.CANCELLED


async def test_edit_that_removes_the_old_order_is_an_amendment_too(start_koppel: Start) -> None:
    koppel = await start_koppel(reconcile_interval_seconds=1)
    await koppel.connect()
    shop = koppel.shop.control
    original = await shop.seed_order(paid=True)
    assert len(await koppel.order_events(settle=0.5)) == 1
    await shop.pause_webhooks()  # only the poll sees the edit
    edited = await shop.edit_order(original["id"], old="delete", shipping="0")

    events = await koppel.order_events(at_least=2, settle=3.0)
    assert [(e.kind, e.order_ref, e.order.source_order_id) for e in events] == [
        (OrderEventKind.CREATED, str(original["id"]), str(original["id"])),
        (OrderEventKind.AMENDED, str(original["id"]), str(edited["id"])),
    ]
    assert events[1].order.shipping is None


async def test_cancelled_order_publishes_a_cancellation(start_koppel: Start) -> None:
    koppel = await start_koppel()
    await koppel.connect()
    shop = koppel.shop.control
    order = await shop.seed_order(paid=True)
    created = (await koppel.order_events(settle=0.5))[0]
    await shop.cancel_order(order["id"])

    events = await koppel.order_events(at_least=2, settle=3.0)
    assert [(e.kind, e.revision) for e in events] == [
        (OrderEventKind.CREATED, 1),
        (OrderEventKind.CANCELLED, 2),
    ]
    cancellation = events[1]
    assert cancellation.order_ref == str(order["id"])
    assert cancellation.order.status == OrderStatus.CANCELLED
    assert cancellation.order.source_status == "8"
    assert cancellation.order.lines == created.order.lines, "what was booked is cancelled"


async def test_server_errors_and_429_are_retried(start_koppel: Start) -> None:
    koppel = await start_koppel()
    await koppel.connect()
    shop = koppel.shop.control
    order = await shop.seed_order()
    error = {"code": "500.10", "status": 500, "developermessage": "Unknown error"}
    limited = {"code": "429.10", "status": 429, "developermessage": "Each method ..."}
    await shop.inject_fault(500, path=rf"/orders/{order['id']}$", body=error, times=2)
    await shop.inject_fault(429, path="/orderrows", body=limited)
    await shop.mark_paid(order["id"])

    events = await koppel.order_events(settle=2.0)
    assert [e.order_ref for e in events] == [str(order["id"])]
    faults = await shop.faults()
    assert faults["pending"] == [] and faults["injected"] == 3


async def test_an_order_whose_fetch_keeps_failing_is_not_lost(start_koppel: Start) -> None:
    koppel = await start_koppel(reconcile_interval_seconds=1)
    await koppel.connect()
    shop = koppel.shop.control
    order = await shop.seed_order()
    await shop.inject_fault(503, path=rf"/orders/{order['id']}", times=1000)
    await shop.mark_paid(order["id"])
    await eventually(lambda: _delivered(koppel, "orders.updated.ispaid"))
    # The webhook's processing gives up after its retries; CCV stays down a while.
    assert await koppel.order_events(at_least=0, settle=2.0) == []
    await shop.clear_faults()

    events = await koppel.order_events(settle=2.0)
    assert [(e.order_ref, e.revision) for e in events] == [(str(order["id"]), 1)]


async def _delivered(koppel: Koppel, event: str) -> bool:
    return any(d["event"] == event for d in await koppel.shop.control.deliveries())


async def test_invalid_credentials_publish_one_connection_broken_alert(
    start_koppel: Start,
) -> None:
    koppel = await start_koppel(reconcile_interval_seconds=1)
    shop = koppel.shop
    await koppel.connect(secret="an-old-revoked-secret", wait=False)

    alerts = await koppel.alerts(settle=3.0)
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert.kind, alert.reason_code) == (
        AlertKind.CONNECTION_BROKEN,
        "shop_credentials_refused",
    )
    assert alert.component == "ingest-ccv" and alert.connection_id == CONNECTION_ID
    assert "API-sleutel" in alert.reason and "nieuwe API-sleutel" in alert.suggestion
    state = await MongoStateStore(koppel.service.db).get(CONNECTION_ID)
    assert state is not None and state.broken_cause == alert.cause_id
    refused = (await shop.control.counters())["auth_refused"]
    assert refused >= 1
    assert await shop.control.webhooks() == []

    # Broken: no polling, no further alerts — until new settings arrive.
    await shop.control.seed_order(paid=True)
    assert len(await koppel.alerts(settle=2.5)) == 1
    assert (await shop.control.counters())["auth_refused"] == refused

    await koppel.connect(version=2)
    state = await MongoStateStore(koppel.service.db).get(CONNECTION_ID)
    assert state is not None and not state.broken
    events = await koppel.order_events(settle=1.0)
    assert len(events) == 1, "the order paid while the connection was broken is caught up"


async def test_malformed_order_becomes_one_ingest_failure(start_koppel: Start) -> None:
    koppel = await start_koppel()
    await koppel.connect()
    shop = koppel.shop.control
    # CCV's own total disagrees with its rows, shipping and discounts.
    order = await shop.seed_order(paid=True, overrides={"total_price": "12.34"})
    alerts = await koppel.alerts(settle=0.5)
    (delivery,) = await shop.deliveries()
    await shop.redeliver(delivery["id"])

    alerts = await koppel.alerts(settle=2.5)
    assert len(alerts) == 1, "one alert per order and cause"
    alert = alerts[0]
    assert (alert.kind, alert.reason_code) == (AlertKind.INGEST_FAILURE, "ccv_order_unreadable")
    assert alert.order_ref == str(order["id"]) and "totals.total_incl_vat" in alert.reason
    assert alert.order is not None and alert.order.total_incl_vat == Decimal("12.34")
    assert await koppel.order_events(at_least=0, settle=0.5) == []
    failures = await MongoOrderStore(koppel.service.db).failures(CONNECTION_ID)
    assert [(f.source_order_id, f.order_ref) for f in failures] == [(str(order["id"]),) * 2]
    assert "totals.total_incl_vat" in failures[0].reason


async def test_trigger_statuses_decide_when_an_order_is_published(start_koppel: Start) -> None:
    koppel = await start_koppel()
    await koppel.connect(triggers=("5",))  # "sent", e.g. for orders paid on invoice
    shop = koppel.shop.control
    order = await shop.seed_order(paid=True, paymethod="OnAccount")
    assert await koppel.order_events(at_least=0, settle=1.5) == []
    await shop.set_status(order["id"], 5)

    events = await koppel.order_events(settle=1.5)
    assert [(e.order_ref, e.order.status) for e in events] == [
        (str(order["id"]), OrderStatus.SHIPPED)
    ]
