"""Read a topic from its beginning to its current end, without a consumer group.

For operator tools: the compacted settings topic, dead-letter topics.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


async def partitions_of(bootstrap: str, topic: str) -> list[int]:
    """The topic's partition ids, or [] when it does not exist (yet)."""
    return (await _partitions(bootstrap, [topic])).get(topic, [])


async def _partitions(bootstrap: str, topics: list[str]) -> dict[str, list[int]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return {
        found["topic"]: sorted(p["partition"] for p in found.get("partitions", ()))
        for found in described
        if found.get("topic") in topics and not found.get("error_code")
    }


async def read_to_end(bootstrap: str, topic: str) -> list[ConsumerRecord[Any, Any]]:
    return (await read_topics_to_end(bootstrap, [topic])).get(topic, [])


async def read_topics_to_end(
    bootstrap: str, topics: list[str]
) -> dict[str, list[ConsumerRecord[Any, Any]]]:
    """Every record of each topic up to its end at the time of the call, read by one
    consumer (topics that do not exist are left out)."""
    partitions = await _partitions(bootstrap, topics)
    records: dict[str, list[ConsumerRecord[Any, Any]]] = {t: [] for t in partitions}
    assigned = [TopicPartition(t, p) for t, ids in partitions.items() for p in ids]
    if not assigned:
        return records
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        end = await consumer.end_offsets(assigned)
        remaining = {tp for tp in assigned if end[tp] > 0}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, recs in batch.items():
                records[tp.topic].extend(recs)
                if recs and recs[-1].offset + 1 >= end[tp]:
                    remaining.discard(tp)
            for tp in list(remaining):
                # Compaction and transaction markers leave gaps: the position tells.
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
        return records
    finally:
        await stop_consumer(consumer)


async def stop_consumer(consumer: AIOKafkaConsumer) -> None:
    """Stop a consumer; aiokafka may surface the cancellation of its own internal
    offset task here, which is not a cancellation of ours."""
    try:
        await consumer.stop()
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
