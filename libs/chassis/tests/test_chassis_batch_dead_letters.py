"""A batch subscriber on the real broker: undecodable records of a fetch go to the
dead-letter topic, the handler gets the others, and consuming goes on."""

from __future__ import annotations

from typing import Any

from faststream.kafka import KafkaMessage
from koppel_chassis import Service, batch_events
from koppel_contracts import SHOP_ORDERS, OrderEvent
from koppel_contracts.topics import DLQ_HEADER_ERROR
from koppel_testkit import eventually, make_order_event, publish_raw, read_records


def batch_service(settings: Any) -> tuple[Service, list[list[str]]]:
    service = Service(settings)
    batches: list[list[str]] = []

    @service.subscriber(SHOP_ORDERS, batch=True, max_records=50, batch_timeout_ms=20)
    async def seen(msg: KafkaMessage) -> None:
        events = batch_events(msg)  # decoded once, by the dead-letter middleware
        assert all(isinstance(e, OrderEvent) for e in events)
        batches.append([e.order_ref for e in events])

    return service, batches


async def test_undecodable_records_of_a_batch_are_dead_lettered_and_the_rest_handled(
    kafka_topics, make_settings, kafka_bootstrap
) -> None:
    service, batches = batch_service(make_settings(service_name="batch-example"))
    topic = kafka_topics[SHOP_ORDERS.name]
    good = [make_order_event(connection_id="shop-b", order_ref=str(i)) for i in range(4)]
    for event in good[:2]:
        await publish_raw(kafka_bootstrap, topic, event.model_dump_json().encode(), b"shop-b:1")
    await publish_raw(kafka_bootstrap, topic, b"{not json", b"shop-b:1")
    for event in good[2:]:
        await publish_raw(kafka_bootstrap, topic, event.model_dump_json().encode(), b"shop-b:1")
    await service.start()
    try:

        async def all_seen() -> bool:
            return sorted(ref for batch in batches for ref in batch) == ["0", "1", "2", "3"]

        await eventually(all_seen)
    finally:
        await service.stop()
    dead = await read_records(kafka_bootstrap, topic + ".dlq", at_least=1, settle=1.0)
    assert [r.value for r in dead] == [b"{not json"]
    assert b"Invalid JSON" in dict(dead[0].headers)[DLQ_HEADER_ERROR]
