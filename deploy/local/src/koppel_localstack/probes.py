"""Readiness probes: a quick ping and a full write/read round trip per server.

A TCP connect is not enough: Kafka accepts connections seconds before its
metadata/group coordinator can serve, and tests that start right after start()
would fail intermittently. The round trips exercise what services use.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo import MongoClient

PROBE_TOPIC = "koppel-localstack-probe"
PROBE_GROUP = "koppel-localstack-probe"
PROBE_DB = "koppel_localstack_probe"
PROBE_COLLECTION = "probe"
_TOPIC_ALREADY_EXISTS = 36

T = TypeVar("T")


class ProbeFailed(Exception):
    """The server answered, but not correctly (wrong record, error code...)."""


def run_async(factory: Callable[[], Awaitable[T]], timeout: float) -> T:
    """Run a coroutine to completion from sync code, even inside a running event loop.

    start() is called from sync CLIs and from async pytest fixtures alike; in the
    latter case asyncio.run() would refuse, so the probe gets its own thread+loop.
    """

    async def bounded() -> T:
        return await asyncio.wait_for(factory(), timeout)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(bounded())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, bounded()).result()


@contextlib.contextmanager
def quiet_kafka_client_logs() -> Iterator[None]:
    """aiokafka logs every refused connection at ERROR while the broker boots."""
    logger = logging.getLogger("aiokafka")
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _ms(seconds: float) -> int:
    return max(1000, int(seconds * 1000))


async def kafka_ping(bootstrap: str, timeout: float) -> None:
    """Cheap check: bootstrap + a metadata request that lists at least one broker."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=_ms(timeout))
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
    finally:
        await admin.close()
    if not cluster.get("brokers"):
        raise ProbeFailed(f"metadata from {bootstrap} lists no brokers")


def topic_errors(response: Any) -> list[tuple[str, int, str | None]]:
    """(topic, error_code, message) for each failed topic of a CreateTopics response.

    Walks the dict form because the field is called `topic_errors` or `topics`
    depending on the negotiated API version.
    """
    obj = response.to_object() if hasattr(response, "to_object") else response
    errors: list[tuple[str, int, str | None]] = []
    for value in obj.values():
        if not isinstance(value, list):
            continue
        for item in value:
            if isinstance(item, dict) and item.get("error_code"):
                name = item.get("topic", item.get("name", "?"))
                errors.append((str(name), int(item["error_code"]), item.get("error_message")))
    return errors


async def kafka_roundtrip(bootstrap: str, timeout: float) -> None:
    """Create the probe topic, produce one record, consume it back, commit an offset.

    The commit goes through the group coordinator, which on a fresh data dir
    creates __consumer_offsets; doing that here means the first real consumer
    group in a test does not pay for it.
    """
    request_ms = _ms(timeout)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=request_ms)
    await admin.start()
    try:
        response = await admin.create_topics(
            [NewTopic(PROBE_TOPIC, num_partitions=1, replication_factor=1)]
        )
    finally:
        await admin.close()
    failed = [e for e in topic_errors(response) if e[1] != _TOPIC_ALREADY_EXISTS]
    if failed:
        raise ProbeFailed(f"creating topic {PROBE_TOPIC} failed: {failed}")

    token = uuid.uuid4().hex.encode()
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", request_timeout_ms=request_ms
    )
    await producer.start()
    try:
        sent = await producer.send_and_wait(PROBE_TOPIC, token)
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=PROBE_GROUP,
        enable_auto_commit=False,
        request_timeout_ms=request_ms,
    )
    await consumer.start()
    try:
        tp = TopicPartition(PROBE_TOPIC, sent.partition)
        consumer.assign([tp])
        consumer.seek(tp, sent.offset)
        record = await consumer.getone(tp)
        if record.value != token:
            raise ProbeFailed(
                f"read back {record.value!r} at offset {record.offset}, expected {token!r}"
            )
        await consumer.commit({tp: record.offset + 1})
    finally:
        await consumer.stop()


def _mongo_client(uri: str, timeout: float) -> MongoClient[dict[str, Any]]:
    ms = _ms(timeout)
    return MongoClient(
        uri,
        serverSelectionTimeoutMS=ms,
        connectTimeoutMS=ms,
        socketTimeoutMS=ms,
        appname="koppel-localstack-probe",
    )


def mongo_ping(uri: str, timeout: float) -> None:
    with _mongo_client(uri, timeout) as client:
        client.admin.command("ping")


def mongo_roundtrip(uri: str, timeout: float) -> None:
    """ping, then insert/find/delete one document: proves the SQLite backend writes."""
    token = uuid.uuid4().hex
    with _mongo_client(uri, timeout) as client:
        client.admin.command("ping")
        collection = client[PROBE_DB][PROBE_COLLECTION]
        collection.insert_one({"_id": token, "at": dt.datetime.now(dt.UTC)})
        found = collection.find_one({"_id": token})
        if found is None:
            raise ProbeFailed(f"inserted document {token} was not found again")
        collection.delete_one({"_id": token})
