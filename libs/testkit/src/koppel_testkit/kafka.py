"""Small real-Kafka helpers for tests: create isolated topics, publish raw bytes, read events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from koppel_chassis.topic_admin import TopicSpec, ensure_topics
from koppel_chassis.topic_reader import partitions_of, stop_consumer
from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


async def create_topics(bootstrap: str, names: Sequence[str], partitions: int = 3) -> None:
    """Create topics (any names) and wait until every partition has a leader."""
    specs = [TopicSpec(name, partitions, 1) for name in names]
    await ensure_topics(bootstrap, specs)


async def delete_topics(bootstrap: str, names: Sequence[str]) -> None:
    """Delete topics; ones that are already gone are fine."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        doomed = [n for n in names if n in existing]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()


async def publish_raw(
    bootstrap: str,
    topic: str,
    value: bytes | None,
    key: bytes | None = None,
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


async def read_records(
    bootstrap: str, topic: str, *, at_least: int = 1, timeout: float = 20.0, settle: float = 0.0
) -> list[ConsumerRecord[Any, Any]]:
    """Every record on `topic` from the beginning, waiting until at least `at_least` arrived.

    `settle` keeps reading that long after the minimum was reached, so a test that
    asserts "exactly one" also sees a second record that would arrive late.
    """
    records: list[ConsumerRecord[Any, Any]] = []
    deadline = time.monotonic() + timeout
    partitions = await partitions_of(bootstrap, topic)
    while not partitions and time.monotonic() < deadline:  # the topic may not exist yet
        await asyncio.sleep(0.2)
        partitions = await partitions_of(bootstrap, topic)
    if not partitions:
        return records
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in partitions])
        await consumer.seek_to_beginning()
        settle_until: float | None = None
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for recs in batch.values():
                records.extend(recs)
            if len(records) >= at_least:
                settle_until = settle_until or time.monotonic() + settle
                if time.monotonic() >= settle_until:
                    break
        return records
    finally:
        await stop_consumer(consumer)


async def read_events(
    bootstrap: str,
    topic: str,
    model: type[M],
    *,
    at_least: int = 1,
    timeout: float = 20.0,
    settle: float = 0.0,
) -> list[M]:
    records = await read_records(
        bootstrap, topic, at_least=at_least, timeout=timeout, settle=settle
    )
    return [model.model_validate_json(r.value) for r in records if r.value]
