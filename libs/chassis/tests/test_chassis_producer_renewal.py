"""A producer killed by a fatal idempotence error (what a broker restart can cause) is
replaced on the real broker: the event that met the error and every later one arrive."""

from __future__ import annotations

from typing import Any

from aiokafka.errors import OutOfOrderSequenceNumber
from koppel_chassis import Service
from koppel_contracts import SHOP_ORDERS, OrderEvent
from koppel_testkit import make_order_event, read_records


def dead_aiokafka_producer(service: Service) -> Any:
    """Put the running producer in the state aiokafka leaves it in after its sender task
    ended on OutOfOrderSequenceNumber: every later send raises that error."""
    producer = service.broker.config.broker_config.producer._producer.producer
    producer._message_accumulator.fail_all(OutOfOrderSequenceNumber())
    return producer


async def test_a_fatally_failed_producer_is_renewed_and_the_event_sent_once_more(
    kafka_topics, make_settings, kafka_bootstrap
) -> None:
    service = Service(make_settings(service_name="producer-example"), publishes=[SHOP_ORDERS])
    topic = kafka_topics[SHOP_ORDERS.name]
    events = [make_order_event(connection_id="shop-p", order_ref=str(i)) for i in range(3)]
    await service.start()
    try:
        await service.publisher.publish(SHOP_ORDERS, events[0])
        dead = dead_aiokafka_producer(service)
        await service.publisher.publish(SHOP_ORDERS, events[1])
        await service.publisher.publish(SHOP_ORDERS, events[2])
        current = service.broker.config.broker_config.producer._producer.producer
    finally:
        await service.stop()
    assert current is not dead
    records = await read_records(kafka_bootstrap, topic, at_least=3, settle=1.0)
    refs = [OrderEvent.model_validate_json(r.value).order_ref for r in records]
    assert sorted(refs) == ["0", "1", "2"]
