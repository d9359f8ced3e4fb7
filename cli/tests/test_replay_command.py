"""`koppel replay reset-offsets` against the real broker, with record timestamps set exactly."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from koppel_cli.main import app
from koppel_cli.replay import parse_datetime
from koppel_testkit.kafka import create_topics
from typer.testing import CliRunner, Result

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


async def invoke(*args: str) -> Result:
    # The command runs its own event loop (asyncio.run): give it a thread.
    return await asyncio.to_thread(CliRunner().invoke, app, list(args))


@pytest.fixture
async def topic(kafka_bootstrap: str, topic_prefix: str) -> AsyncIterator[str]:
    """Two partitions: p0 holds 2 records at T0 and 1 at T1, p1 holds 1 at T0 and 2 at T1."""
    name = topic_prefix + "replay.orders"
    await create_topics(kafka_bootstrap, [name], partitions=2)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for partition, at in [(0, T0), (0, T0), (0, T1), (1, T0), (1, T1), (1, T1)]:
            await producer.send_and_wait(name, b"{}", partition=partition, timestamp_ms=ms(at))
    finally:
        await producer.stop()
    yield name
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.delete_topics([name])
    finally:
        await admin.close()


@pytest.fixture
def group(topic_prefix: str) -> str:
    return topic_prefix + "ledger.main"


async def commit(bootstrap: str, group: str, topic: str, offsets: dict[int, int]) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        tps = {TopicPartition(topic, p): o for p, o in offsets.items()}
        consumer.assign(list(tps))
        await consumer.commit(tps)
    finally:
        await consumer.stop()


async def committed(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        found = await admin.list_consumer_group_offsets(group)
        return {tp.partition: meta.offset for tp, meta in found.items() if tp.topic == topic}
    finally:
        await admin.close()


def reset(bootstrap: str, group: str, topic: str, at: str, *extra: str) -> list[str]:
    return [
        "replay",
        "reset-offsets",
        "--bootstrap-servers",
        bootstrap,
        "--group",
        group,
        "--topic",
        topic,
        "--to-datetime",
        at,
        *extra,
    ]


async def test_dry_run_shows_the_plan_and_changes_nothing(kafka_bootstrap, topic, group) -> None:
    await commit(kafka_bootstrap, group, topic, {0: 3, 1: 3})
    result = await invoke(*reset(kafka_bootstrap, group, topic, T1.isoformat()))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.split() == ["0", "3", "2", "3", "1"] for line in lines), result.output
    assert any(line.split() == ["1", "3", "1", "3", "2"] for line in lines), result.output
    assert "3 message(s) will be consumed again" in result.output
    assert "dry run: nothing changed" in result.output
    assert await committed(kafka_bootstrap, group, topic) == {0: 3, 1: 3}


async def test_execute_commits_the_first_offset_at_or_after_the_time(
    kafka_bootstrap, topic, group
) -> None:
    await commit(kafka_bootstrap, group, topic, {0: 3, 1: 3})
    # A zone other than UTC: the same instant as T1.
    at = T1.astimezone(datetime.now().astimezone().tzinfo).isoformat()
    result = await invoke(*reset(kafka_bootstrap, group, topic, at, "--execute"))
    assert result.exit_code == 0, result.output
    assert await committed(kafka_bootstrap, group, topic) == {0: 2, 1: 1}

    # Before every record: from the start. After every record: the end.
    early = await invoke(*reset(kafka_bootstrap, group, topic, "2025-12-31T00:00:00Z", "--execute"))
    assert early.exit_code == 0, early.output
    assert await committed(kafka_bootstrap, group, topic) == {0: 0, 1: 0}


async def test_moving_forward_skips_messages_and_needs_allow_forward(
    kafka_bootstrap, topic, group
) -> None:
    await commit(kafka_bootstrap, group, topic, {0: 0, 1: 0})
    refused = await invoke(*reset(kafka_bootstrap, group, topic, T1.isoformat(), "--execute"))
    assert refused.exit_code == 1
    assert "would move forward and skip messages" in refused.output
    assert await committed(kafka_bootstrap, group, topic) == {0: 0, 1: 0}

    allowed = await invoke(
        *reset(kafka_bootstrap, group, topic, T1.isoformat(), "--execute", "--allow-forward")
    )
    assert allowed.exit_code == 0, allowed.output
    assert await committed(kafka_bootstrap, group, topic) == {0: 2, 1: 1}


async def test_a_group_with_active_members_is_refused(kafka_bootstrap, topic, group) -> None:
    await commit(kafka_bootstrap, group, topic, {0: 3, 1: 3})
    member = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False
    )
    await member.start()
    try:
        for _ in range(100):  # until the member has joined and got its partitions
            await member.getmany(timeout_ms=100)
            if member.assignment():
                break
        assert member.assignment()
        result = await invoke(*reset(kafka_bootstrap, group, topic, T1.isoformat(), "--execute"))
        assert result.exit_code == 1
        assert "active member" in result.output and "scale its Deployment to 0" in result.output
    finally:
        await member.stop()
    assert await committed(kafka_bootstrap, group, topic) == {0: 3, 1: 3}


async def test_an_unknown_topic_is_an_error(kafka_bootstrap, topic_prefix, group) -> None:
    result = await invoke(*reset(kafka_bootstrap, group, topic_prefix + "nope", "2026-01-01"))
    assert result.exit_code == 1
    assert "does not exist" in result.output
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:  # ...and looking did not create it (brokers may auto-create on metadata requests)
        assert topic_prefix + "nope" not in await admin.list_topics()
    finally:
        await admin.close()


def test_times_without_a_zone_are_utc_and_nonsense_is_refused() -> None:
    assert parse_datetime("2026-01-01T10:00:00") == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert parse_datetime("2026-01-01 10:00:00+01:00") == datetime(2026, 1, 1, 9, tzinfo=UTC)
    result = CliRunner().invoke(
        app, ["replay", "reset-offsets", "--group", "g", "--topic", "t", "--to-datetime", "soon"]
    )
    assert result.exit_code == 2
    assert "ISO 8601" in result.output


# --- the runbook's other command: Kafka's own kafka-consumer-groups.sh ---------------------

KAFKA_TOOLS_VERSION = "4.3.1"  # the broker version deploy/local runs
KAFKA_TOOLS_POM = f"""<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>koppel.test</groupId>
  <artifactId>kafka-tools-jars</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka-tools</artifactId>
      <version>{KAFKA_TOOLS_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-nop</artifactId>
      <version>1.7.36</version>
    </dependency>
  </dependencies>
</project>
"""


@pytest.fixture(scope="session")
def kafka_consumer_groups() -> list[str]:
    """`kafka-consumer-groups.sh` without a Kafka tarball: its class from Maven Central jars."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    home = cache / "koppel" / "kafka-tools" / KAFKA_TOOLS_VERSION
    if not (home / ".complete").exists():
        assert shutil.which("mvn"), "mvn is needed (scripts/bootstrap.sh checks for it)"
        home.mkdir(parents=True, exist_ok=True)
        (home / "pom.xml").write_text(KAFKA_TOOLS_POM)
        subprocess.run(
            ["mvn", "-q", "-B", "-f", str(home / "pom.xml"), "dependency:copy-dependencies",
             f"-DoutputDirectory={home / 'libs'}"],
            check=True, timeout=600,
        )  # fmt: skip
        (home / ".complete").touch()
    return ["java", "-cp", str(home / "libs" / "*"), CONSUMER_GROUP_COMMAND]


CONSUMER_GROUP_COMMAND = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"


async def test_kafka_consumer_groups_sh_computes_the_same_reset(
    kafka_bootstrap, topic, group, kafka_consumer_groups
) -> None:
    """REPLAY.md's alternative command gives the same offsets as `koppel replay`."""
    await commit(kafka_bootstrap, group, topic, {0: 3, 1: 3})
    at = T1.strftime("%Y-%m-%dT%H:%M:%S.000Z")  # the format kafka-consumer-groups.sh takes
    command = [
        *kafka_consumer_groups,
        "--bootstrap-server", kafka_bootstrap,
        "--group", group,
        "--topic", topic,
        "--reset-offsets",
        "--to-datetime", at,
    ]  # fmt: skip

    def run(*extra: str) -> dict[int, int]:
        done = subprocess.run(
            [*command, *extra], capture_output=True, text=True, timeout=120, check=True
        )
        rows = [line.split() for line in done.stdout.splitlines()]
        return {int(r[2]): int(r[3]) for r in rows if len(r) == 4 and r[0] == group}

    assert await asyncio.to_thread(run, "--dry-run") == {0: 2, 1: 1}
    assert await committed(kafka_bootstrap, group, topic) == {0: 3, 1: 3}

    ours = await invoke(*reset(kafka_bootstrap, group, topic, T1.isoformat()))
    assert any(line.split()[:3] == ["0", "3", "2"] for line in ours.output.splitlines())
    assert any(line.split()[:3] == ["1", "3", "1"] for line in ours.output.splitlines())

    assert await asyncio.to_thread(run, "--execute") == {0: 2, 1: 1}
    assert await committed(kafka_bootstrap, group, topic) == {0: 2, 1: 1}
