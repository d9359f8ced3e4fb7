"""A producer that outlives a fatal error of the idempotent protocol.

The broker's producer is idempotent (acks=all, sequence numbers per partition). When a
broker restarts it can answer a batch with OutOfOrderSequenceNumber (or fence the
producer id); aiokafka treats that as fatal: its sender task ends and every later send
raises the same error, for the life of the process. Seen in the fault-injection run:
after one Kafka restart ingest-ccv logged 480 failed publishes and published nothing
more until it was restarted by hand.

The Java client resets its producer id in that case; here the chassis does the
equivalent — it replaces the dead aiokafka producer with a new one (a new producer id,
sequence numbers from zero) and sends the failed event once more. What was not
acknowledged was not written, and what the broker did write is deduplicated by the
consumers' own idempotence (event ids, content hashes, order records), so a resend is
safe. Only one task renews; the others wait for it and resend.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiokafka
from aiokafka.errors import OutOfOrderSequenceNumber, ProducerFenced
from faststream.kafka import KafkaBroker

log = logging.getLogger(__name__)

T = TypeVar("T")

FATAL_PRODUCER_ERRORS = (OutOfOrderSequenceNumber, ProducerFenced)


class ProducerKeeper:
    """Sends through the broker's producer; on a fatal producer error, renews it once."""

    def __init__(self, broker: KafkaBroker) -> None:
        self._broker = weakref.ref(broker)  # weak: the keepers table keeps no broker
        self.renewals = 0
        self._lock = asyncio.Lock()

    async def send(self, attempt: Callable[[], Awaitable[T]]) -> T:
        seen = self.renewals
        try:
            return await attempt()
        except FATAL_PRODUCER_ERRORS as error:
            await self._renew(seen, error)
        return await attempt()

    async def _renew(self, seen: int, error: BaseException) -> None:
        async with self._lock:
            if self.renewals != seen:
                return  # another task renewed it while this one's send failed
            log.warning(
                "Kafka producer failed fatally; starting a new one",
                extra={"producer_error": type(error).__name__},
            )
            broker = self._broker()
            if broker is None:
                raise error
            config: Any = broker.config.broker_config
            fast_producer = config.producer
            with contextlib.suppress(Exception):  # the old one is dead: stopping may fail
                await fast_producer.disconnect()
            connection: dict[str, Any] = broker._connection_kwargs
            await fast_producer.connect(
                aiokafka.AIOKafkaProducer(**connection),
                serializer=config.fd_config._serializer,
                codec=config.broker_codec,
            )
            self.renewals += 1


_KEEPERS: weakref.WeakKeyDictionary[KafkaBroker, ProducerKeeper] = weakref.WeakKeyDictionary()


def keeper_for(broker: KafkaBroker) -> ProducerKeeper:
    """One keeper per broker: the event publisher and the dead-letter path share it."""
    found = _KEEPERS.get(broker)
    if found is None:
        found = _KEEPERS[broker] = ProducerKeeper(broker)
    return found
