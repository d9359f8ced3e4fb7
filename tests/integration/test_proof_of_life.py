"""Proof of life: a canonical order published to `shop.orders.v1` on the real broker
is stored in the real MongoDB exactly once, even when the same event arrives twice.
"""

from __future__ import annotations

from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from koppel_chassis import IndexSpec, Service
from koppel_contracts import SHOP_ORDERS, OrderEvent
from koppel_testkit import eventually, make_order_event, publish_raw
from pymongo.errors import DuplicateKeyError


def build_order_store(settings: Any) -> Service:
    service = Service(
        settings,
        indexes=[IndexSpec("orders", [("connection_id", 1), ("order_ref", 1)], unique=True)],
    )

    @service.subscriber(SHOP_ORDERS)
    async def store_order(event: OrderEvent) -> None:
        try:
            await service.db["orders"].insert_one(
                {
                    "_id": event.event_id,
                    "connection_id": event.connection_id,
                    "order_ref": event.order_ref,
                    "total": str(event.order.totals.total_incl_vat),
                }
            )
        except DuplicateKeyError:
            pass  # delivered before: the effect already exists

    return service


async def test_same_event_twice_is_stored_once(
    kafka_topics, make_settings, kafka_bootstrap
) -> None:
    settings = make_settings(service_name="proof-of-life")
    service = build_order_store(settings)
    await service.start()
    try:
        event = make_order_event(connection_id="shop-a")
        body = event.model_dump_json().encode()
        key = b"shop-a:" + event.order_ref.encode()
        topic = kafka_topics[SHOP_ORDERS.name]
        await publish_raw(kafka_bootstrap, topic, body, key)
        await publish_raw(kafka_bootstrap, topic, body, key)  # Kafka redelivers; producers retry

        orders = service.db["orders"]

        async def both_consumed() -> bool:
            return await _committed_offset(kafka_bootstrap, settings.group_id(), topic) == 2

        await eventually(both_consumed)
        stored = await orders.find({}).to_list(None)
        assert len(stored) == 1
        assert stored[0]["_id"] == event.event_id
        assert stored[0]["total"] == str(event.order.totals.total_incl_vat)
    finally:
        await service.stop()


async def _committed_offset(bootstrap: str, group: str, topic: str) -> int:
    """Sum of the group's committed offsets on `topic`: the offset moves only after the effect."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset > 0)
