"""What the privacy end-to-end test looks with: every record of every topic and every
document of every database of a run, searched for a person's details; a consumer group's
progress; the customer-key topic's compaction hurried along; a copy of the topics for a
fresh ledger."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from koppel_chassis import SecretBox
from koppel_chassis.topic_reader import partitions_of, read_to_end, stop_consumer
from koppel_contracts import (
    CheckEvent,
    ConnectionSettings,
    Merchant,
    ShopConnection,
)
from koppel_demo.ledgers import demo_octopus_ledger
from koppel_demo.system import SystemConfig
from pymongo import AsyncMongoClient

CONNECTION = "privacy-koffie-ccv-octopus"
CCV_KEY, CCV_SECRET = "privacy-public-key", "privacy-secret-0123456789"


async def topics_with(bootstrap: str, prefix: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return sorted(t for t in await admin.list_topics() if t.startswith(prefix))
    finally:
        await admin.close()


async def found_on_topics(bootstrap: str, prefix: str, needles: Iterable[str]) -> list[str]:
    """`topic: needle` for every needle that some record of some topic of the run holds, in
    its key, value or headers — raw bytes, as anyone reading the topics would see them."""
    wanted = [n.encode() for n in needles]
    hits: set[str] = set()
    for topic in await topics_with(bootstrap, prefix):
        for record in await read_to_end(bootstrap, topic):
            raw = b"".join(
                [record.key or b"", record.value or b""]
                + [k.encode() + (v or b"") for k, v in record.headers or ()]
            )
            hits |= {f"{topic}: {n.decode()}" for n in wanted if n in raw}
    return sorted(hits)


async def found_in_databases(mongodb_uri: str, prefix: str, needles: Iterable[str]) -> list[str]:
    """`database.collection: needle` for every needle some document of the run holds."""
    needles = list(needles)
    hits: set[str] = set()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri)
    try:
        for name in await client.list_database_names():
            if not name.startswith(prefix):
                continue
            db = client[name]
            for collection in await db.list_collection_names():
                async for doc in db[collection].find({}):
                    text = json.dumps(doc, default=repr)  # bytes (GridFS chunks) as b'...'
                    hits |= {f"{name}.{collection}: {n}" for n in needles if n in text}
    finally:
        await client.close()
    return sorted(hits)


async def caught_up(bootstrap: str, group: str, topic: str, timeout: float = 120.0) -> None:
    """Wait until `group` has committed the end of every partition of `topic`."""
    partitions = [TopicPartition(topic, p) for p in await partitions_of(bootstrap, topic)]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await admin.start()
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout
        while True:
            ends = await consumer.end_offsets(partitions)
            committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
            behind = {}
            for tp in partitions:
                done = committed[tp].offset if tp in committed else 0
                if ends[tp] > max(done, 0):
                    behind[tp.partition] = ends[tp] - max(done, 0)
            if not behind:
                return
            assert time.monotonic() < deadline, f"{group} still behind on {topic}: {behind}"
            await asyncio.sleep(1.0)
    finally:
        await stop_consumer(consumer)
        await admin.close()


async def compact_soon(bootstrap: str, topic: str) -> None:
    """Make the compacted topic roll its segments at once and clean any dirt, so a test sees
    what production sees within the hour (`PRIVACY_KEYS.configs`)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        configs = {
            "cleanup.policy": "compact",
            "segment.ms": "100",
            "min.cleanable.dirty.ratio": "0.01",
            "delete.retention.ms": "100",
        }
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs)])
    finally:
        await admin.close()


async def copy_records(
    bootstrap: str, records: Iterable[tuple[bytes | None, bytes | None]], topic: str
) -> int:
    """Publish raw (key, value) records, in order, to `topic`."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    count = 0
    try:
        for key, value in records:
            await producer.send_and_wait(topic, value=value, key=key)
            count += 1
    finally:
        await producer.stop()
    return count


async def tombstone(bootstrap: str, topic: str, key: bytes) -> None:
    await copy_records(bootstrap, [(key, None)], topic)


def customer(first_name: str, last_name: str, email: str, street: str) -> dict[str, Any]:
    """A CCV Shop customer with details no other test uses."""
    return {
        "email": email,
        "billingaddress": {
            "first_name": first_name,
            "last_name": last_name,
            "full_name": f"{first_name} {last_name}",
            "street": street,
            "address_line_1": f"{street} 7",
            "housenumber": 7,
            "zipcode": "1011 AB",
            "city": "Amsterdam",
        },
    }


def connection(config: SystemConfig, shop_url: str, octopus_url: str) -> ConnectionSettings:
    box = SecretBox(config.secrets_key)
    return ConnectionSettings(
        merchant=Merchant(name="Koffie Privacy", contact_email="boekhouding@privacy.test"),
        shop=ShopConnection(
            system="ccvshop",
            base_url=shop_url,
            account_id=CCV_KEY,
            credentials={"api_secret": box.encrypt(CCV_SECRET)},
        ),
        ledger=demo_octopus_ledger(box, octopus_url),
    )


def koppel_cli(config: SystemConfig, *args: str, prefix: str | None = None) -> str:
    """The operator CLI as a process, as an operator runs it."""
    env = {
        **os.environ,
        "KOPPEL_KAFKA_BOOTSTRAP_SERVERS": config.kafka_bootstrap,
        "KOPPEL_TOPIC_PREFIX": config.isolation if prefix is None else prefix,
        "KOPPEL_SECRETS_KEY": config.secrets_key,
    }
    done = subprocess.run(
        [sys.executable, "-m", "koppel_cli", *args], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


async def checks(bootstrap: str, topic: str) -> dict[str, CheckEvent]:
    """The latest read-back check per order of the connection."""
    found: dict[str, CheckEvent] = {}
    for record in await read_to_end(bootstrap, topic):
        event = CheckEvent.model_validate_json(record.value)
        if event.connection_id == CONNECTION:
            found[event.order.order_number] = event
    return found


def vat_of(check: CheckEvent) -> list[tuple[Decimal, Decimal]]:
    return sorted((r.vat_rate, r.amount) for r in check.booked_vat or [])


def found_in_logs(folder: Path, needles: Iterable[str]) -> list[str]:
    """`file: needle` for every needle a Koppel service's log holds (the sandboxes stand for
    the shop and the ledger, which keep the customer: their logs are not Koppel's)."""
    hits: set[str] = set()
    for path in folder.rglob("*.log"):
        if any(part in path.name for part in ("sandbox", "ccvshop", "octopus-", "mailcatcher")):
            continue
        text = path.read_text(errors="replace")
        hits |= {f"{path.name}: {n}" for n in needles if n in text}
    return sorted(hits)
