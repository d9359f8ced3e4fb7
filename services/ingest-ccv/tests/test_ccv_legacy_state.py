"""A database of ingest-ccv before the ingest runtime is taken over at start: what it
published stays published (a re-issue of an old order is still an amendment), an event
a crash left unpublished is still sent, broken connections stay broken."""

from __future__ import annotations

from datetime import UTC, datetime

from koppel_contracts import OrderEventKind
from koppel_ingest import OrderRecord, booking_fingerprint
from koppel_ingest.states import MongoStateStore
from koppel_ingest.store import MongoOrderStore
from koppel_ingest_ccv import legacy
from koppel_testkit import make_order, make_order_event

PLACED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


async def _old_database(db) -> str:
    published = make_order(order_id="1001", order_number="DB-1")
    unsent = make_order_event(
        make_order(order_id="1002", order_number="DB-2"), connection_id="c1", revision=1
    )
    for ref, number, order, outbox, day in (
        ("1001", 1, published, None, 1),
        ("1002", 2, unsent.order, unsent.model_dump_json(), 2),
    ):
        await db["order_refs"].insert_one(
            {
                "_id": f"c1:{ref}",
                "connection_id": "c1",
                "order_ref": ref,
                "order_number": f"DB-{number}",
                "ccv_ordernumber": number,
                "source_order_id": ref,
                "revision": 1,
                "fingerprint": booking_fingerprint(order),
                "cancelled": False,
                "last_order": order.model_dump(mode="json"),
                "placed_at": PLACED,
                "outbox": outbox,
                "created_at": datetime(2026, 11, day, tzinfo=UTC),
            }
        )
        await db["ccv_orders"].insert_one(
            {
                "_id": f"c1:{ref}",
                "connection_id": "c1",
                "ccv_order_id": int(ref),
                "order_ref": ref,
                "superseded_by": None,
                "resource_fingerprint": f"list-{ref}",
            }
        )
    await db["ccv_connections"].insert_one(
        {
            "_id": "c1",
            "settings_version": 3,
            "connected_at": PLACED,
            "next_poll_at": PLACED,
            "webhooks": [{"webhook_id": 5100001, "event": "orders.created", "key": "enc:v1:k"}],
            "webhooks_address": "https://koppel.example/webhooks/ccvshop/c1",
            "broken": {"cause_id": "cause-1", "reason_code": "shop_credentials_refused"},
        }
    )
    await db["ingest_failures"].insert_one(
        {
            "_id": "cause-2",
            "connection_id": "c1",
            "ccv_order_id": 1003,
            "order_ref": "1003",
            "reason": "the order has no rows",
            "failed_at": PLACED,
        }
    )
    return unsent.model_dump_json()


async def test_the_old_state_is_taken_over_once(mongo_db) -> None:
    unsent = await _old_database(mongo_db)
    copied = await legacy.migrate(mongo_db)
    assert copied == {"orders": 2, "outbox": 1, "sources": 2, "numbers": 2, "connections": 1}
    store, states = MongoOrderStore(mongo_db), MongoStateStore(mongo_db)

    reissue = OrderRecord("c1", "2001", "2001", PLACED, order_number="DB-1", lookup_key="1")
    record, seen = await store.resolve(reissue, by_number=True)
    assert (record.order_ref, record.revision, seen.order_ref) == ("1001", 1, "1001")
    assert record.lookup_key == "1", "CCV's ordernumber still finds the re-issue"
    old = await store.source("c1", "1001")
    assert old is not None and old.fingerprint == "list-1001"

    pending = await store.order("c1", "1002")
    assert pending is not None and pending.pending == 1
    [entry] = await store.outbox("c1", datetime.now(UTC))
    assert entry.event_json == unsent and entry.event.kind == OrderEventKind.CREATED

    state = await states.get("c1")
    assert state is not None and state.settings_version == 3
    assert state.broken_cause == "cause-1" and state.webhooks[0].webhook_id == "5100001"
    [failure] = await store.failures("c1")
    assert (failure.source_order_id, failure.reason) == ("1003", "the order has no rows")

    assert await legacy.migrate(mongo_db) == {}, "once per database"


async def test_a_new_database_has_nothing_to_take_over(mongo_db) -> None:
    assert not any((await legacy.migrate(mongo_db)).values())
    assert await legacy.migrate(mongo_db) == {}
