"""Publishers and subscribers declared once make the service's AsyncAPI document; a publish on
an undeclared topic fails; on the wire nothing changed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from koppel_chassis import ConnectionStore, Service, ServiceSettings, follow_connections
from koppel_chassis.broker import EventPublisher, TopicNames, UndeclaredTopic, create_broker
from koppel_contracts import (
    CONNECTIONS,
    OPS_ALERTS,
    SETTINGS_APPLIED,
    SHOP_ORDERS,
    event_key,
)
from koppel_testkit import make_order_event, read_records
from prometheus_client import CollectorRegistry

PREFIX = "t42."


def _service(**options: Any) -> Service:
    # Building a service connects nothing: no Kafka, no MongoDB needed here.
    return Service(ServiceSettings(service_name="mapped", topic_prefix=PREFIX), **options)


def _channel(document: dict[str, Any], key: str) -> dict[str, Any]:
    assert key in document["channels"], sorted(document["channels"])
    return document["channels"][key]


def _payload(document: dict[str, Any], channel_key: str) -> str:
    """The schema name of the (only) message on a channel of a FastStream document."""
    (reference,) = _channel(document, channel_key)["messages"].values()
    message = document["components"]["messages"][reference["$ref"].rsplit("/", 1)[-1]]
    return message["payload"]["$ref"].rsplit("/", 1)[-1]


async def test_publishing_on_a_topic_the_service_did_not_declare_fails() -> None:
    service = _service(publishes=[OPS_ALERTS])
    with pytest.raises(UndeclaredTopic, match=r"shop\.orders\.v1 is not declared"):
        await service.publisher.publish(SHOP_ORDERS, make_order_event())


def test_declared_publishers_are_in_the_document_with_their_contract_model() -> None:
    service = _service(publishes=[SHOP_ORDERS, OPS_ALERTS])
    document = service.asyncapi()
    orders = _channel(document, f"{PREFIX}shop.orders.v1:publish")
    assert orders["address"] == f"{PREFIX}shop.orders.v1"
    assert "canonical order" in orders["description"]
    assert "Key: `connection_id:order_ref`" in orders["description"]
    assert _payload(document, f"{PREFIX}shop.orders.v1:publish") == "OrderEvent"
    assert _payload(document, f"{PREFIX}ops.alerts.v1:publish") == "AlertEvent"
    assert "OrderLine" in document["components"]["schemas"], "nested models come along"
    assert [op["action"] for op in document["operations"].values()] == ["send", "send"]


def test_a_topic_declared_twice_is_one_publisher() -> None:
    service = _service(publishes=[SHOP_ORDERS])
    first = service.publisher.declare(SHOP_ORDERS)
    service.publishes(SHOP_ORDERS, SHOP_ORDERS)
    assert service.publisher.declare(SHOP_ORDERS) is first
    assert service.publisher.topics == [SHOP_ORDERS]
    assert len(service.broker.publishers) == 1


def test_a_consumer_of_raw_messages_is_documented_with_its_contract_model() -> None:
    # follow_connections' handler takes the raw KafkaMessage (tombstones have no body):
    # FastStream alone would document an empty payload.
    service = _service()
    follow_connections(service, ConnectionStore(service.db["connections"]))
    document = service.asyncapi()
    key = f"{PREFIX}config.connections.v1:subscribe:connections"
    assert _payload(document, key) == "ConnectionSettingsEvent"
    assert "EmptyPayload" not in document["components"]["schemas"]
    assert "Consumer group `mapped.connections`" in _channel(document, key)["description"]
    # it announces what it applied, and what it cannot read goes to the dead letters
    assert _payload(document, f"{PREFIX}config.applied.v1:publish") == "SettingsApplied"
    dead = f"{PREFIX}config.connections.v1.dlq:publish"
    assert _payload(document, dead) == "DeadLetter"
    assert "x-koppel-error" in _channel(document, dead)["description"]
    assert SETTINGS_APPLIED in service.publisher.topics


def test_two_consumers_of_one_topic_share_its_dead_letter_channel() -> None:
    service = _service()

    @service.subscriber(CONNECTIONS, purpose="one")
    async def one(msg: Any) -> None: ...

    @service.subscriber(CONNECTIONS, purpose="two")
    async def two(msg: Any) -> None: ...

    channels = service.asyncapi()["channels"]
    assert sorted(channels) == [
        f"{PREFIX}config.connections.v1.dlq:publish",
        f"{PREFIX}config.connections.v1:subscribe:one",
        f"{PREFIX}config.connections.v1:subscribe:two",
    ]


async def test_the_service_serves_its_document() -> None:
    service = _service(publishes=[OPS_ALERTS])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=service.asgi()), base_url="http://t"
    ) as http:
        response = await http.get("/asyncapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    served = response.json()
    assert served["asyncapi"] == "3.0.0"
    assert served["info"]["title"] == "mapped"
    assert served == service.asyncapi()


async def test_a_declared_publisher_puts_the_same_record_on_the_wire_as_publishing_by_name(
    kafka_topics, make_settings, kafka_bootstrap
) -> None:
    """What consumers and replays read must not change: topic, key, headers, body."""
    service = Service(make_settings(service_name="mapped"), publishes=[SHOP_ORDERS])
    event = make_order_event(connection_id="shop-a", order_ref="1001")
    topic = kafka_topics[SHOP_ORDERS.name]
    await service.broker.start()
    try:
        await service.publisher.publish(SHOP_ORDERS, event)
        # how EventPublisher published before publishers were declared
        await service.broker.publish(
            event.model_dump_json().encode(),
            topic=topic,
            key=event_key(event).encode(),
            correlation_id=event.correlation_id or event.event_id,
            headers={
                "event_id": event.event_id,
                "event_type": event.event_type,
                "content-type": "application/json",
            },
        )
    finally:
        await service.broker.stop()
        await service.mongo.close()
    declared, by_name = await read_records(kafka_bootstrap, topic, at_least=2)
    assert declared.key == by_name.key == b"shop-a:1001"
    assert declared.value == by_name.value == event.model_dump_json().encode()
    assert declared.partition == by_name.partition
    assert sorted(declared.headers) == sorted(by_name.headers)
    assert ("event_id", event.event_id.encode()) in declared.headers


async def test_a_publisher_outside_a_service_declares_a_topic_on_first_use(
    kafka_topics, make_settings, kafka_bootstrap
) -> None:
    """The operator CLI publishes without a service (and serves no map)."""
    settings = make_settings(service_name="tool")
    broker = create_broker(settings, CollectorRegistry())
    publisher = EventPublisher(broker, TopicNames(settings.topic_prefix))
    event = make_order_event(connection_id="shop-b", order_ref="7")
    await broker.start()
    try:
        await publisher.publish(SHOP_ORDERS, event)
    finally:
        await broker.stop()
    assert publisher.topics == [SHOP_ORDERS]
    (record,) = await read_records(kafka_bootstrap, kafka_topics[SHOP_ORDERS.name])
    assert record.key == b"shop-b:7"
