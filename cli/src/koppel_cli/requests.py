"""Asking the services through Kafka, as the dashboard does: publish a `ConnectionRequest`
on `ops.requests.v1`, follow the `ConnectionAnswer`s on `ops.answers.v1`.

The CLI never calls a shop or a ledger itself: the service that owns the API answers (the
shop's ingest service, the ledger's service), with the same code the dashboard reaches.
The answers topic is read from its end *before* the request goes out, so no answer is
missed; answers to other requests are skipped by their request id.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from koppel_chassis import EventPublisher, ServiceSettings, TopicNames, create_broker
from koppel_chassis.topic_reader import partitions_of, stop_consumer
from koppel_contracts import (
    OPS_ANSWERS,
    OPS_REQUESTS,
    AnswerState,
    ConnectionAnswer,
    ConnectionRequest,
    ConnectionSettings,
    RequestKind,
    SourceSystem,
    make_event_id,
)
from prometheus_client import CollectorRegistry

FINAL = frozenset({AnswerState.OK, AnswerState.FAILED, AnswerState.DONE})


class NoAnswer(Exception):
    """Nobody answered in time: the service that should is not running (or lags)."""


def request(
    connection_id: str,
    kind: RequestKind,
    *,
    settings: ConnectionSettings | None = None,
    since: date | None = None,
    until: date | None = None,
    dry_run: bool = True,
) -> ConnectionRequest:
    request_id = uuid.uuid4().hex
    return ConnectionRequest(
        event_id=make_event_id("connection_request", request_id),
        occurred_at=datetime.now(UTC),
        connection_id=connection_id,
        source_system=SourceSystem.KOPPEL,
        correlation_id=request_id,
        request_id=request_id,
        kind=kind,
        settings=settings,
        since=since,
        until=until,
        dry_run=dry_run,
        requested_by="koppel-cli",
    )


async def ask(
    settings: ServiceSettings,
    requests: list[ConnectionRequest],
    *,
    silence_seconds: float,
    on_answer: Callable[[ConnectionAnswer], None] = lambda _: None,
) -> dict[str, ConnectionAnswer]:
    """Publish `requests` and wait for each one's final answer; returns them by request id.

    Raises NoAnswer naming the requests still open when nothing arrived for one of them
    for `silence_seconds` (a running import answers about every second)."""
    names = TopicNames(settings.topic_prefix)
    topic = names.name(OPS_ANSWERS)
    bootstrap = settings.kafka_bootstrap_servers
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in await partitions_of(bootstrap, topic)]
        if not partitions:
            raise NoAnswer(f"topic {topic} does not exist: run `koppel topics ensure`")
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        for tp in partitions:  # fix the position now, before anything can be answered
            await consumer.position(tp)
        await _publish(settings, requests)
        return await _collect(consumer, requests, silence_seconds, on_answer)
    finally:
        await stop_consumer(consumer)


async def _publish(settings: ServiceSettings, requests: list[ConnectionRequest]) -> None:
    broker = create_broker(settings, CollectorRegistry())
    try:
        await broker.connect()
        publisher = EventPublisher(broker, TopicNames(settings.topic_prefix))
        for one in requests:
            await publisher.publish(OPS_REQUESTS, one)
    finally:
        await broker.stop()


async def _collect(
    consumer: AIOKafkaConsumer,
    requests: list[ConnectionRequest],
    silence_seconds: float,
    on_answer: Callable[[ConnectionAnswer], None],
) -> dict[str, ConnectionAnswer]:
    waiting = {r.request_id: r for r in requests}
    final: dict[str, ConnectionAnswer] = {}
    heard = time.monotonic()
    while waiting:
        batch = await consumer.getmany(timeout_ms=500)
        for records in batch.values():
            for record in records:
                answer = ConnectionAnswer.model_validate_json(record.value)
                if answer.request_id not in waiting:
                    continue
                heard = time.monotonic()
                on_answer(answer)
                if answer.state in FINAL:
                    final[answer.request_id] = answer
                    del waiting[answer.request_id]
        if waiting and time.monotonic() - heard > silence_seconds:
            kinds = ", ".join(sorted(r.kind.value for r in waiting.values()))
            raise NoAnswer(f"no answer to {kinds} within {silence_seconds:.0f} s")
        await asyncio.sleep(0)
    return final
