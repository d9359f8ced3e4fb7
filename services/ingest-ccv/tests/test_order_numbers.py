"""Which order a CCV id belongs to: a re-issue keeps the order number, so the number
decides, looked up by `_id` in `order_numbers` (real MongoDB-compatible server)."""

from __future__ import annotations

from datetime import UTC, datetime

from koppel_ingest_ccv.state import OrderStore

PLACED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


async def test_a_reissued_id_joins_the_order_with_its_number(mongo_db) -> None:
    store = OrderStore(mongo_db)
    first, _ = await store.resolve(
        "shop-1", 1001, order_number="WEB-1", ccv_ordernumber=1, placed_at=PLACED
    )
    reissued, seen = await store.resolve(
        "shop-1", 1002, order_number="WEB-1", ccv_ordernumber=1, placed_at=PLACED
    )
    other_shop, _ = await store.resolve(
        "shop-2", 2001, order_number="WEB-1", ccv_ordernumber=1, placed_at=PLACED
    )
    assert first.order_ref == reissued.order_ref == "1001" and seen.order_ref == "1001"
    assert other_shop.order_ref == "2001", "numbers are per connection"
    assert (await store.ref_with_number("shop-1", "WEB-1")).order_ref == "1001"  # type: ignore[union-attr]
    assert await store.ref_with_number("shop-1", "WEB-2") is None


async def test_orders_stored_before_the_number_index_are_found_after_a_backfill(mongo_db) -> None:
    store = OrderStore(mongo_db)
    for ref, created in (("1001", 1), ("1002", 2)):  # the older order keeps the number
        await store.refs.insert_one(
            {
                "_id": f"shop-1:{ref}",
                "connection_id": "shop-1",
                "order_ref": ref,
                "order_number": "WEB-1",
                "source_order_id": ref,
                "placed_at": PLACED,
                "revision": 1,
                "cancelled": False,
                "outbox": None,
                "created_at": datetime(2026, 11, created, tzinfo=UTC),
            }
        )
    assert await store.ref_with_number("shop-1", "WEB-1") is None
    assert await store.backfill_numbers() == 1
    assert (await store.ref_with_number("shop-1", "WEB-1")).order_ref == "1001"  # type: ignore[union-attr]
    assert await store.backfill_numbers() == 0, "once per database"
