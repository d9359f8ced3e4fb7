"""Each message is validated against its topic's contract once: the dead-letter middleware
asks the broker's decoder, and the handler gets that same event (on the real broker)."""

from __future__ import annotations

from typing import Any

import pytest
from faststream.kafka import KafkaMessage
from koppel_chassis import Service, broker, decoded
from koppel_contracts import SHOP_ORDERS, OrderEvent
from koppel_testkit import eventually, make_order_event, publish_raw, read_records


@pytest.fixture
def decodings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    original = broker.decode_event

    def counting(topic: Any, body: bytes) -> Any:
        seen.append(topic.name)
        return original(topic, body)

    monkeypatch.setattr(broker, "decode_event", counting)
    return seen


async def test_a_handler_gets_the_event_the_middleware_decoded_and_nothing_validates_again(
    kafka_topics, make_settings, kafka_bootstrap, decodings: list[str]
) -> None:
    service = Service(make_settings(service_name="decoded-once"))
    handled: list[tuple[str, bool]] = []

    @service.subscriber(SHOP_ORDERS)
    async def seen(event: OrderEvent, msg: KafkaMessage) -> None:
        handled.append((event.order_ref, event is await msg.decode()))

    topic = kafka_topics[SHOP_ORDERS.name]
    for ref in ("1", "2"):
        event = make_order_event(connection_id="shop-d", order_ref=ref)
        await publish_raw(kafka_bootstrap, topic, event.model_dump_json().encode(), b"shop-d:1")
    await publish_raw(kafka_bootstrap, topic, b'{"not": "an order"}', b"shop-d:1")
    await service.start()
    try:

        async def both() -> bool:
            return len(handled) == 2

        await eventually(both)
    finally:
        await service.stop()
    assert handled == [("1", True), ("2", True)], "the decoded event itself"
    assert decodings == [SHOP_ORDERS.name] * 3, "once per message, the undecodable one too"
    dead = await read_records(kafka_bootstrap, topic + ".dlq", at_least=1, settle=1.0)
    assert [r.value for r in dead] == [b'{"not": "an order"}']


class Message:
    """A message as a handler of whole messages sees it, decoded to `decodes_to`."""

    def __init__(self, body: bytes, decodes_to: Any) -> None:
        self.body = body
        self.decodes_to = decodes_to

    async def decode(self) -> Any:
        return self.decodes_to


async def test_a_handler_of_whole_messages_reads_the_decoded_event() -> None:
    event = make_order_event(connection_id="shop-d", order_ref="9")
    body = event.model_dump_json().encode()
    kept = await decoded(Message(body, event), OrderEvent)  # type: ignore[arg-type]
    assert kept is event, "the broker's event, not validated again"
    # A broker without the contract decoder gives plain JSON: then it is validated here.
    plain = await decoded(Message(body, {"event_id": event.event_id}), OrderEvent)  # type: ignore[arg-type]
    assert plain == event and plain is not event
