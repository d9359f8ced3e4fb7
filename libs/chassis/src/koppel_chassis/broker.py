"""The Kafka broker every service uses.

- Producer: idempotent, acks=all — a publish that returned is on every in-sync replica.
- Consumers: NACK_ON_ERROR. FastStream's Kafka default (ACK_FIRST) auto-commits
  before the handler has run, which loses orders on a crash. With NACK_ON_ERROR
  the offset is committed after the handler returned, i.e. after the effect is
  recorded, and a handler that raises is redelivered from the same offset.
- Undecodable messages never reach a handler: they go to `<topic>.dlq` with
  the error and origin in headers, and the consumer keeps going.
- Decoded once: the broker's decoder validates a message against its topic's contract
  (`contract_decoder`); the dead-letter middleware asks for that decoding, and FastStream
  hands the same event to the handler (`msg.decode()` keeps it), so a handler typed with
  the contract model, or one reading `await decoded(msg, Model)`, validates nothing again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from faststream import AckPolicy, BaseMiddleware
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.kafka.publisher import DefaultPublisher
from faststream.message import StreamMessage
from koppel_contracts import ALL_TOPICS, Envelope, Topic, dead_letter_topic, event_key
from koppel_contracts.topics import (
    DLQ_HEADER_CONSUMER,
    DLQ_HEADER_ERROR,
    DLQ_HEADER_FAILED_AT,
    DLQ_HEADER_ORIGINAL_OFFSET,
    DLQ_HEADER_ORIGINAL_PARTITION,
    DLQ_HEADER_ORIGINAL_TOPIC,
)
from prometheus_client import CollectorRegistry, Counter
from pydantic import ValidationError

from .asyncapi import publisher_title, topic_description
from .logging import log_context
from .producer import keeper_for
from .settings import ServiceSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TopicNames:
    """Actual topic names: the contract's name behind an optional prefix."""

    prefix: str = ""

    def name(self, topic: Topic | str) -> str:
        return self.prefix + (topic.name if isinstance(topic, Topic) else topic)

    def dead_letter(self, topic: Topic | str) -> str:
        return dead_letter_topic(self.name(topic))

    def contract_for(self, actual_name: str) -> Topic | None:
        if not actual_name.startswith(self.prefix):
            return None
        bare = actual_name[len(self.prefix) :]
        return next((t for t in ALL_TOPICS if t.name == bare), None)


def describe_validation_error(error: ValidationError) -> str:
    """One line naming each failing field, e.g. `order.totals.total_incl_vat: ...`."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "<event>"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


M = TypeVar("M", bound=Envelope)


def contract_decoder(
    names: TopicNames,
) -> Callable[[StreamMessage[Any], Callable[..., Awaitable[Any]]], Awaitable[Any]]:
    """The broker's decoder: a record of a contract topic becomes its event (ValueError
    with the reason when it is not one); a batch is the events the dead-letter middleware
    decoded; tombstones and other topics are FastStream's own."""

    async def decode(msg: StreamMessage[Any], original: Callable[..., Awaitable[Any]]) -> Any:
        record = msg.raw_message
        if isinstance(record, tuple | list):
            events = getattr(msg, "_koppel_events", None)
            return events if events is not None else await original(msg)
        contract = names.contract_for(getattr(record, "topic", ""))
        if contract is None or not msg.body:
            return await original(msg)
        return decode_event(contract, msg.body)

    return decode


async def decoded(msg: StreamMessage[Any], model: type[M]) -> M:
    """The event of a handler that takes the whole message (for its key or tombstones):
    as the broker decoded it, or validated here when it was decoded as something else."""
    event = await msg.decode()
    return event if isinstance(event, model) else model.model_validate_json(msg.body)


def batch_events(msg: StreamMessage[Any]) -> list[Any]:
    """The events of a batch subscriber's fetch (tombstones left out), as the dead-letter
    middleware decoded them against the topic's contract: a handler does not decode again."""
    events: list[Any] = msg._koppel_events  # type: ignore[attr-defined]
    return events


def decode_event(topic: Topic, body: bytes) -> Any:
    """Validate a message body against its topic's contract; raises ValueError with a reason."""
    try:
        return topic.event.model_validate_json(body)
    except ValidationError as error:
        raise ValueError(describe_validation_error(error)) from None


class _Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.dead_letters = Counter(
            "koppel_dead_letters_total",
            "Messages sent to a dead-letter topic",
            ["topic"],
            registry=registry,
        )
        self.redeliveries = Counter(
            "koppel_redeliveries_total",
            "Messages handed back to Kafka for redelivery after a handler error",
            ["topic"],
            registry=registry,
        )


def _dead_letter_middleware(
    broker_ref: list[KafkaBroker], settings: ServiceSettings, names: TopicNames, metrics: _Metrics
) -> type[BaseMiddleware]:
    class DeadLetterMiddleware(BaseMiddleware):
        async def consume_scope(self, call_next: Any, msg: StreamMessage[Any]) -> Any:
            record = msg.raw_message
            if isinstance(record, tuple):
                return await self._consume_batch(call_next, msg, record)
            topic_name: str = getattr(record, "topic", "")
            contract = names.contract_for(topic_name)
            # Tombstones on compacted topics carry no body: they are deletions, not errors.
            if contract is not None and msg.body:
                try:
                    await msg.decode()  # kept by the message: the handler gets this event
                except ValueError as error:
                    await self._dead_letter(record, topic_name, str(error))
                    return None
            ids = _ids_from_key(getattr(record, "key", None))
            with log_context(**ids, topic=topic_name, offset=getattr(record, "offset", None)):
                try:
                    return await call_next(msg)
                except Exception:
                    metrics.redeliveries.labels(topic_name).inc()
                    log.exception("handler failed; message will be redelivered")
                    # Without a pause a broken dependency (MongoDB down) turns the
                    # seek-back into a hot loop.
                    await asyncio.sleep(settings.redelivery_delay_seconds)
                    raise

        async def _consume_batch(
            self, call_next: Any, msg: StreamMessage[Any], records: tuple[Any, ...]
        ) -> Any:
            """A batch subscriber's fetch: undecodable records go to the dead-letter topic,
            the handler gets the rest (a seek-back after an error starts at the earliest
            of those, per partition; the commit covers everything fetched). The events
            decoded here travel with the message (`batch_events`): decoded once."""
            kept: list[int] = []
            decoded: list[Any] = []
            for index, record in enumerate(records):
                contract = names.contract_for(record.topic)
                if contract is not None and record.value:
                    try:
                        decoded.append(decode_event(contract, record.value))
                    except ValueError as error:
                        await self._dead_letter(record, record.topic, str(error))
                        continue
                kept.append(index)
            msg._koppel_events = decoded  # type: ignore[attr-defined]  # see batch_events
            if not kept:
                return None
            if len(kept) < len(records):
                headers = msg.batch_headers
                msg.raw_message = tuple(records[i] for i in kept)
                msg.body = [records[i].value or b"" for i in kept]
                msg.batch_headers = [headers[i] for i in kept] if headers else []
                msg.clear_cache()
            topic_name = records[kept[0]].topic
            with log_context(topic=topic_name, records=len(kept)):
                try:
                    return await call_next(msg)
                except Exception:
                    metrics.redeliveries.labels(topic_name).inc()
                    log.exception("batch handler failed; the batch will be redelivered")
                    await asyncio.sleep(settings.redelivery_delay_seconds)
                    raise

        async def _dead_letter(self, record: Any, topic_name: str, error: str) -> None:
            headers = {
                DLQ_HEADER_ERROR: error[:4000],
                DLQ_HEADER_ORIGINAL_TOPIC: topic_name,
                DLQ_HEADER_ORIGINAL_PARTITION: str(record.partition),
                DLQ_HEADER_ORIGINAL_OFFSET: str(record.offset),
                DLQ_HEADER_CONSUMER: settings.service_name,
                DLQ_HEADER_FAILED_AT: datetime.now(UTC).isoformat(),
            }
            target = dead_letter_topic(topic_name)
            broker = broker_ref[0]
            # A Service declares each dead-letter topic of what it consumes (the event map
            # shows it); a broker without declarations publishes by name, to the same topic.
            declared = next((p for p in broker.publishers if p.topic == target), None)

            async def send() -> Any:
                if declared is not None:
                    return await declared.publish(record.value, key=record.key, headers=headers)
                return await broker.publish(
                    record.value, topic=target, key=record.key, headers=headers
                )

            await keeper_for(broker).send(send)
            metrics.dead_letters.labels(topic_name).inc()
            log.warning(
                "undecodable message sent to dead-letter topic",
                extra={"dead_letter_error": error, "topic": topic_name, "offset": record.offset},
            )

    return DeadLetterMiddleware


def _ids_from_key(key: bytes | None) -> dict[str, str]:
    if not key:
        return {}
    text = key.decode(errors="replace")
    connection_id, _, order_ref = text.partition(":")
    return {"connection_id": connection_id, "order_ref": order_ref or None}  # type: ignore[dict-item]


def create_broker(
    settings: ServiceSettings,
    registry: CollectorRegistry,
    *,
    extra_middlewares: Sequence[Any] = (),
) -> KafkaBroker:
    names = TopicNames(settings.topic_prefix)
    metrics = _Metrics(registry)
    broker_ref: list[KafkaBroker] = []
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=settings.service_name,
        acks="all",
        enable_idempotence=True,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=contract_decoder(names),
        middlewares=(
            KafkaPrometheusMiddleware(registry=registry),
            _dead_letter_middleware(broker_ref, settings, names, metrics),
            *extra_middlewares,
        ),
        logger=logging.getLogger(f"{settings.service_name}.kafka"),
        # FastStream logs "Received" and "Processed" for every message at this level: at
        # INFO that was two lines per order (130 MB of ledger log in a 100,000-order
        # replay). DEBUG keeps them for LOG_LEVEL=DEBUG; failures are still logged.
        log_level=logging.DEBUG,
    )
    broker_ref.append(broker)
    return broker


class UndeclaredTopic(LookupError):
    """A service published on a topic it did not declare: the event map would miss it."""


class EventPublisher:
    """Publishes contract events with their key rule and ids in headers, each topic through
    one declared FastStream publisher (so the service's AsyncAPI document lists it, with the
    contract model as its payload).

    `strict` (every `Service`): publishing on a topic that was not declared raises
    `UndeclaredTopic`. Otherwise (a tool such as the CLI, which serves no map) a topic is
    declared on its first use.
    """

    def __init__(self, broker: KafkaBroker, names: TopicNames, *, strict: bool = False) -> None:
        self.broker = broker
        self.names = names
        self.strict = strict
        self._declared: dict[str, tuple[Topic, DefaultPublisher]] = {}

    def declare(self, topic: Topic) -> DefaultPublisher:
        """Declare that this service publishes on `topic`; once per topic (idempotent)."""
        found = self._declared.get(topic.name)
        if found is not None:
            return found[1]
        actual = self.names.name(topic)
        publisher = self.broker.publisher(
            actual,
            title=publisher_title(actual),
            description=topic_description(topic),
            schema=topic.event,
        )
        self._declared[topic.name] = (topic, publisher)
        return publisher

    @property
    def topics(self) -> list[Topic]:
        """The topics declared so far, in the order they were declared."""
        return [topic for topic, _ in self._declared.values()]

    async def publish(self, topic: Topic, event: Envelope) -> None:
        found = self._declared.get(topic.name)
        if found is not None:
            publisher = found[1]
        elif self.strict:
            raise UndeclaredTopic(
                f"{topic.name} is not declared: add it to Service(..., publishes=[...]) "
                "(or service.publishes(...)) where the code that publishes it is set up"
            )
        else:
            publisher = self.declare(topic)
        body = event.model_dump_json().encode()
        key = event_key(event).encode()
        headers = {
            "event_id": event.event_id,
            "event_type": str(getattr(event, "event_type", "")),
            "content-type": "application/json",
        }

        async def send() -> Any:
            return await publisher.publish(
                body,
                key=key,
                correlation_id=event.correlation_id or event.event_id,
                headers=headers,
            )

        # A broker restart can kill the idempotent producer for good (producer.py).
        await keeper_for(self.broker).send(send)
