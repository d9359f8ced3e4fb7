"""`koppel topics ensure` against the real broker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from koppel_chassis.topic_admin import plan_topics
from koppel_cli.main import app
from koppel_contracts import ALL_TOPICS, CONNECTIONS, SHOP_ORDERS
from koppel_testkit import eventually
from koppel_testkit.kafka import create_topics
from typer.testing import CliRunner, Result

DAY_MS = 86_400_000


def every_topic(prefix: str) -> list[str]:
    return [prefix + n for t in ALL_TOPICS for n in (t.name, t.name + ".dlq")]


async def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    # The command runs its own event loop (asyncio.run): give it a thread.
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)


@pytest.fixture
async def admin(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await client.start()
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def cleanup(admin: AIOKafkaAdminClient, topic_prefix: str) -> AsyncIterator[None]:
    yield
    ours = [t for t in await admin.list_topics() if t.startswith(topic_prefix)]
    if ours:
        await admin.delete_topics(ours)


async def configs(admin: AIOKafkaAdminClient, topic: str) -> dict[str, str]:
    [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    [resource] = response.to_object()["resources"]
    return {e["config_names"]: e["config_value"] for e in resource["config_entries"]}


async def partitions(admin: AIOKafkaAdminClient, topic: str) -> int:
    [described] = await admin.describe_topics([topic])
    return len(described["partitions"])


def ensure_args(bootstrap: str, prefix: str, *extra: str) -> list[str]:
    return [
        "topics",
        "ensure",
        "--bootstrap-servers",
        bootstrap,
        "--prefix",
        prefix,
        "--replication-factor",
        "1",
        *extra,
    ]


def test_the_plan_covers_every_contract_topic_and_its_dead_letters() -> None:
    specs = {s.name: s for s in plan_topics(partitions=6, replication_factor=3, retention_ms=5)}
    assert set(specs) == set(every_topic(""))
    assert specs[CONNECTIONS.name].configs == {"cleanup.policy": "compact"}
    assert specs[CONNECTIONS.name + ".dlq"].configs["cleanup.policy"] == "delete"
    assert specs[SHOP_ORDERS.name].configs == {"cleanup.policy": "delete", "retention.ms": "5"}
    assert {(s.partitions, s.replication_factor) for s in specs.values()} == {(6, 3)}


async def test_ensure_creates_every_topic_with_partitions_and_retention(
    kafka_bootstrap, topic_prefix, admin, cleanup
) -> None:
    result = await invoke(
        *ensure_args(kafka_bootstrap, topic_prefix, "--partitions", "2", "--retention-ms", "7")
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("created") == len(ALL_TOPICS) * 2

    existing = set(await admin.list_topics())
    for name in every_topic(topic_prefix):
        assert name in existing
        assert await partitions(admin, name) == 2
    compacted = await configs(admin, topic_prefix + CONNECTIONS.name)
    assert compacted["cleanup.policy"] == "compact"
    orders = await configs(admin, topic_prefix + SHOP_ORDERS.name)
    assert orders["cleanup.policy"] == "delete"
    assert orders["retention.ms"] == "7"
    dead_letters = await configs(admin, topic_prefix + CONNECTIONS.name + ".dlq")
    assert dead_letters["cleanup.policy"] == "delete"


async def test_ensure_twice_changes_nothing_and_updates_only_what_differs(
    kafka_bootstrap, topic_prefix, admin, cleanup
) -> None:
    args = ensure_args(kafka_bootstrap, topic_prefix, "--partitions", "1")
    first = await invoke(*args, "--retention-ms", str(DAY_MS))
    assert first.exit_code == 0, first.output

    again = await invoke(*args, "--retention-ms", str(DAY_MS))
    assert again.exit_code == 0, again.output
    assert "created" not in again.output and "updated" not in again.output
    assert again.output.count("exists") == len(ALL_TOPICS) * 2

    # A setting someone made by hand survives a retention change.
    orders = topic_prefix + SHOP_ORDERS.name
    await admin.alter_configs(
        [
            ConfigResource(
                ConfigResourceType.TOPIC,
                orders,
                {"cleanup.policy": "delete", "retention.ms": str(DAY_MS), "segment.ms": "3600000"},
            )
        ]
    )
    changed = await invoke(*args, "--retention-ms", str(7 * DAY_MS))
    assert changed.exit_code == 0, changed.output
    assert f"retention.ms {DAY_MS} -> {7 * DAY_MS}" in changed.output

    # A broker applies an altered config from the metadata log: a read right after may be stale.
    async def changed_config() -> dict[str, str] | None:
        current = await configs(admin, orders)
        return current if current["retention.ms"] == str(7 * DAY_MS) else None

    now = await eventually(changed_config, timeout=10)
    assert now["segment.ms"] == "3600000"
    assert (await configs(admin, topic_prefix + CONNECTIONS.name))["cleanup.policy"] == "compact"


async def test_dry_run_creates_nothing(kafka_bootstrap, topic_prefix, admin, cleanup) -> None:
    result = await invoke(
        *ensure_args(kafka_bootstrap, topic_prefix, "--partitions", "1"), "--dry-run"
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("would-create") == len(ALL_TOPICS) * 2
    assert not [t for t in await admin.list_topics() if t.startswith(topic_prefix)]


async def test_fewer_partitions_than_asked_is_reported_not_changed(
    kafka_bootstrap, topic_prefix, admin, cleanup
) -> None:
    orders = topic_prefix + SHOP_ORDERS.name
    await create_topics(kafka_bootstrap, [orders], partitions=1)
    result = await invoke(*ensure_args(kafka_bootstrap, topic_prefix, "--partitions", "3"))
    assert result.exit_code == 0, result.output
    assert f"{orders}" in result.output and "has 1 partitions, 3 asked" in result.output
    assert await partitions(admin, orders) == 1
    assert await partitions(admin, topic_prefix + SHOP_ORDERS.name + ".dlq") == 3


def test_a_bad_config_pair_is_refused(kafka_bootstrap, topic_prefix) -> None:
    result = CliRunner().invoke(
        app,
        ensure_args(kafka_bootstrap, topic_prefix, "--partitions", "1", "--config", "nonsense"),
    )
    assert result.exit_code == 2
    assert "KEY=VALUE" in result.output
