"""At the default log level a consumed message writes no log line of its own (FastStream's
"Received" / "Processed" are DEBUG), on the real broker."""

from __future__ import annotations

import logging

import pytest
from koppel_chassis import Service
from koppel_contracts import SHOP_ORDERS, OrderEvent
from koppel_testkit import eventually, make_order_event


async def test_a_consumed_message_logs_nothing_at_info(
    kafka_topics, make_settings, caplog: pytest.LogCaptureFixture
) -> None:
    service = Service(make_settings(service_name="quiet-example"), publishes=[SHOP_ORDERS])
    seen: list[str] = []

    @service.subscriber(SHOP_ORDERS)
    async def handle(event: OrderEvent) -> None:
        seen.append(event.order_ref)

    caplog.set_level(logging.DEBUG, logger="quiet-example.kafka")
    await service.start()
    try:
        await service.publisher.publish(
            SHOP_ORDERS, make_order_event(connection_id="shop-q", order_ref="1")
        )

        async def handled() -> bool:
            return seen == ["1"]

        await eventually(handled)
    finally:
        await service.stop()
    per_message = [
        r for r in caplog.records if r.name == "quiet-example.kafka" and r.message == "Received"
    ]
    assert per_message, "FastStream still logs each message, at DEBUG"
    assert all(r.levelno == logging.DEBUG for r in per_message)
