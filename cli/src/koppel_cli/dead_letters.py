"""Dead letters: look at them, and send them back to where they came from after a fix.

Re-publishing reads `<topic>.dlq` in its own consumer group and commits after
each record is back on its original topic, so running the command twice sends
nothing twice; a record whose origin header is missing is reported and skipped.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from koppel_chassis import ServiceSettings, TopicNames
from koppel_chassis.topic_reader import partitions_of, read_to_end, stop_consumer
from koppel_contracts.topics import (
    DLQ_HEADER_CONSUMER,
    DLQ_HEADER_ERROR,
    DLQ_HEADER_FAILED_AT,
    DLQ_HEADER_ORIGINAL_OFFSET,
    DLQ_HEADER_ORIGINAL_TOPIC,
    dead_letter_topic,
)

REPUBLISHED_FROM = "x-koppel-republished-from"
GROUP = "koppel-cli.dlq-republish"


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    key: str | None
    headers: dict[str, str]
    value: bytes | None

    @property
    def origin(self) -> str | None:
        return self.headers.get(DLQ_HEADER_ORIGINAL_TOPIC)


def _dead_letter(record: Any) -> DeadLetter:
    return DeadLetter(
        partition=record.partition,
        offset=record.offset,
        key=record.key.decode(errors="replace") if record.key else None,
        headers={k: v.decode(errors="replace") for k, v in (record.headers or ())},
        value=record.value,
    )


async def list_dead_letters(settings: ServiceSettings, topic: str) -> list[DeadLetter]:
    dlq = dead_letter_topic(TopicNames(settings.topic_prefix).name(topic))
    return [_dead_letter(r) for r in await read_to_end(settings.kafka_bootstrap_servers, dlq)]


async def republish(settings: ServiceSettings, topic: str, *, dry_run: bool) -> list[DeadLetter]:
    """Send every not-yet-republished dead letter of `topic` back to its original topic."""
    bootstrap = settings.kafka_bootstrap_servers
    dlq = dead_letter_topic(TopicNames(settings.topic_prefix).name(topic))
    partitions = await partitions_of(bootstrap, dlq)
    if not partitions:
        return []
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=settings.consumer_group_prefix + GROUP,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await consumer.start()
    await producer.start()
    sent: list[DeadLetter] = []
    try:
        assigned = [TopicPartition(dlq, p) for p in partitions]
        consumer.assign(assigned)
        end = await consumer.end_offsets(assigned)
        for tp in assigned:
            committed = await consumer.committed(tp)
            if committed is None:
                await consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, committed)
        for tp in assigned:
            while await consumer.position(tp) < end[tp]:
                batch = await consumer.getmany(tp, timeout_ms=1000)
                for record in batch.get(tp, []):
                    letter = _dead_letter(record)
                    if letter.origin is None:
                        typer.secho(
                            f"skipped {dlq}[{tp.partition}]@{record.offset}: no origin header",
                            fg=typer.colors.YELLOW,
                            err=True,
                        )
                        continue
                    if not dry_run:
                        await producer.send_and_wait(
                            letter.origin,
                            value=record.value,
                            key=record.key,
                            headers=[
                                (REPUBLISHED_FROM, f"{dlq}:{tp.partition}:{record.offset}".encode())
                            ],
                        )
                        await consumer.commit({tp: record.offset + 1})
                    sent.append(letter)
        return sent
    finally:
        await producer.stop()
        await stop_consumer(consumer)


dead_letters = typer.Typer(no_args_is_help=True, help="Dead-letter topics (<topic>.dlq).")


def _settings() -> ServiceSettings:
    return ServiceSettings(service_name="koppel-cli")


@dead_letters.command("list")
def list_command(
    topic: Annotated[str, typer.Argument(help="The original topic, e.g. shop.orders.v1")],
) -> None:
    """Show the dead letters of a topic with their error and origin."""
    letters = asyncio.run(list_dead_letters(_settings(), topic))
    if not letters:
        typer.echo(f"no dead letters for {topic}")
        return
    for letter in letters:
        h = letter.headers
        origin = f"{h.get(DLQ_HEADER_ORIGINAL_TOPIC)}@{h.get(DLQ_HEADER_ORIGINAL_OFFSET)}"
        typer.echo(
            f"[{letter.partition}@{letter.offset}] key={letter.key} from {origin}"
            f" by {h.get(DLQ_HEADER_CONSUMER)} at {h.get(DLQ_HEADER_FAILED_AT)}"
        )
        typer.echo(f"    error: {h.get(DLQ_HEADER_ERROR)}")


@dead_letters.command("republish")
def republish_command(
    topic: Annotated[str, typer.Argument(help="The original topic, e.g. shop.orders.v1")],
    dry_run: Annotated[bool, typer.Option(help="Only show what would be sent")] = False,
) -> None:
    """Send dead letters back to their original topic (once each), e.g. after a fix."""
    sent = asyncio.run(republish(_settings(), topic, dry_run=dry_run))
    verb = "would republish" if dry_run else "republished"
    typer.echo(f"{verb} {len(sent)} dead letter(s) of {topic}")
