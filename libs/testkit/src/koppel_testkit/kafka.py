"""Small real-Kafka helpers for tests: create isolated topics, publish raw bytes, read events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


async def create_topics(bootstrap: str, names: Sequence[str], partitions: int = 3) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(n, num_partitions=partitions, replication_factor=1) for n in names]
        )
    except TopicAlreadyExistsError:
        pass
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
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    records: list[ConsumerRecord[Any, Any]] = []
    try:
        deadline = time.monotonic() + timeout
        partitions: set[int] | None = None
        while partitions is None and time.monotonic() < deadline:
            partitions = consumer.partitions_for_topic(topic)
            if partitions is None:
                await consumer._client.force_metadata_update()  # topic may not exist yet
                await asyncio.sleep(0.2)
        if partitions is None:
            return records
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
        await consumer.stop()


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
