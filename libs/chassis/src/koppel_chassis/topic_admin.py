"""Creating Koppel's topics, idempotently: every contract topic and its `.dlq`.

The compacted settings topic gets `cleanup.policy=compact`; every other topic
`cleanup.policy=delete` with the given retention (the replay window). Existing
topics are kept; configs that differ are updated; partitions are never added
(that would move keys and break per-order ordering) — fewer than asked is reported.
Used by `koppel topics ensure` (the Helm hook), the demo and the test fixtures.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError
from koppel_contracts import ALL_TOPICS, dead_letter_topic

TOPIC_ALREADY_EXISTS = 36
DYNAMIC_TOPIC_CONFIG = 1  # DescribeConfigs config_source: set on this topic


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int
    configs: dict[str, str] = field(default_factory=dict)


@dataclass
class TopicOutcome:
    name: str
    action: str  # created | exists | updated | would-create | would-update
    detail: str = ""
    warnings: list[str] = field(default_factory=list)


def plan_topics(
    *,
    partitions: int,
    replication_factor: int,
    retention_ms: int | None = None,
    prefix: str = "",
    extra_configs: dict[str, str] | None = None,
) -> list[TopicSpec]:
    """Every contract topic and its dead-letter topic, with the configs it must have."""
    extra = dict(extra_configs or {})
    specs: list[TopicSpec] = []
    deleting: dict[str, str] = {"cleanup.policy": "delete"}
    if retention_ms is not None:
        deleting["retention.ms"] = str(retention_ms)
    for topic in ALL_TOPICS:
        name = prefix + topic.name
        own = {**extra, "cleanup.policy": "compact"} if topic.compacted else {**extra, **deleting}
        own.update(topic.configs)  # the topic's own (privacy.keys.v1: compaction within an hour)
        specs.append(TopicSpec(name, partitions, replication_factor, own))
        # Dead letters are a log of failures, never "latest per key": always deleting.
        dlq = dead_letter_topic(name)
        specs.append(TopicSpec(dlq, partitions, replication_factor, {**extra, **deleting}))
    return specs


async def ensure_topics(
    bootstrap: str, specs: list[TopicSpec], *, dry_run: bool = False, wait_s: float = 30.0
) -> list[TopicOutcome]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="koppel-cli")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        outcomes = {s.name: TopicOutcome(s.name, "exists") for s in specs}
        missing = [s for s in specs if s.name not in existing]
        present = [s for s in specs if s.name in existing]

        if missing and not dry_run:
            await _create(admin, missing, outcomes)
        for spec in missing:
            if dry_run:
                outcomes[spec.name].action = "would-create"
            outcomes[spec.name].detail = _describe(spec)

        if present:
            await _check_partitions(admin, present, outcomes)
            await _reconcile_configs(admin, present, outcomes, dry_run=dry_run)

        if missing and not dry_run:
            await _wait_for_leaders(admin, [s.name for s in missing], wait_s)
        return [outcomes[s.name] for s in specs]
    finally:
        await admin.close()


async def _create(
    admin: AIOKafkaAdminClient, missing: list[TopicSpec], outcomes: dict[str, TopicOutcome]
) -> None:
    try:
        response = await admin.create_topics(
            [
                NewTopic(s.name, s.partitions, s.replication_factor, topic_configs=s.configs)
                for s in missing
            ]
        )
    except TopicAlreadyExistsError:  # another job created them in between: fine
        return
    errors = []
    for entry in response.to_object()["topic_errors"]:
        code = entry["error_code"]
        if code == 0:
            outcomes[entry["topic"]].action = "created"
        elif code != TOPIC_ALREADY_EXISTS:
            errors.append(f"{entry['topic']}: {entry.get('error_message') or f'error {code}'}")
    if errors:
        raise TopicError("could not create topics: " + "; ".join(errors))


async def _check_partitions(
    admin: AIOKafkaAdminClient, present: list[TopicSpec], outcomes: dict[str, TopicOutcome]
) -> None:
    described = {t["topic"]: t for t in await admin.describe_topics([s.name for s in present])}
    for spec in present:
        parts = described.get(spec.name, {}).get("partitions", [])
        if len(parts) < spec.partitions:
            outcomes[spec.name].warnings.append(
                f"has {len(parts)} partitions, {spec.partitions} asked: partitions are never "
                "added automatically (keys would move to other partitions); add them with "
                "kafka-topics.sh --alter --partitions only when consumers are stopped"
            )
        replicas = {len(p["replicas"]) for p in parts}
        if replicas and replicas != {spec.replication_factor}:
            outcomes[spec.name].warnings.append(
                f"replication factor {sorted(replicas)}, {spec.replication_factor} asked "
                "(changed only by a partition reassignment, not by this command)"
            )


async def _reconcile_configs(
    admin: AIOKafkaAdminClient,
    present: list[TopicSpec],
    outcomes: dict[str, TopicOutcome],
    *,
    dry_run: bool,
) -> None:
    current = await _topic_configs(admin, [s.name for s in present])
    changes: list[ConfigResource] = []
    for spec in present:
        values, dynamic = current.get(spec.name, ({}, {}))
        diff = {k: v for k, v in spec.configs.items() if values.get(k) != v}
        if not diff:
            continue
        outcomes[spec.name].action = "would-update" if dry_run else "updated"
        outcomes[spec.name].detail = ", ".join(
            f"{k} {values.get(k, '<unset>')} -> {v}" for k, v in sorted(diff.items())
        )
        # AlterConfigs replaces a topic's whole set of dynamic configs: send the
        # ones set on the topic today too, so nothing someone set by hand is lost.
        changes.append(
            ConfigResource(ConfigResourceType.TOPIC, spec.name, {**dynamic, **spec.configs})
        )
    if changes and not dry_run:
        for response in await admin.alter_configs(changes):
            failed = [
                f"{r['resource_name']}: {r['error_message'] or r['error_code']}"
                for r in response.to_object()["resources"]
                if r["error_code"]
            ]
            if failed:
                raise TopicError("could not update topic configs: " + "; ".join(failed))


async def _topic_configs(
    admin: AIOKafkaAdminClient, names: list[str]
) -> dict[str, tuple[dict[str, str], dict[str, str]]]:
    """Per topic: (every effective config, the ones set dynamically on the topic)."""
    found: dict[str, tuple[dict[str, str], dict[str, str]]] = {}
    responses = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, n) for n in names]
    )
    for response in responses:
        for resource in response.to_object()["resources"]:
            if resource["error_code"]:
                raise TopicError(
                    f"cannot read configs of {resource['resource_name']}: "
                    f"{resource['error_message'] or resource['error_code']}"
                )
            values: dict[str, str] = {}
            dynamic: dict[str, str] = {}
            for entry in resource["config_entries"]:
                key, value = entry["config_names"], entry["config_value"]
                values[key] = value
                if value is None or entry.get("is_sensitive"):
                    continue
                if "config_source" in entry:
                    is_dynamic = entry["config_source"] == DYNAMIC_TOPIC_CONFIG
                else:
                    is_dynamic = not entry["is_default"] and not entry["read_only"]
                if is_dynamic:
                    dynamic[key] = value
            found[resource["resource_name"]] = (values, dynamic)
    return found


async def _wait_for_leaders(admin: AIOKafkaAdminClient, names: list[str], wait_s: float) -> None:
    """New topics are usable once every partition has a leader; wait for that."""
    deadline = time.monotonic() + wait_s
    while True:
        described = await admin.describe_topics(names)
        if all(
            t["error_code"] == 0
            and t["partitions"]
            and all(p["leader"] >= 0 for p in t["partitions"])
            for t in described
        ):
            return
        if time.monotonic() > deadline:
            raise TopicError(f"created topics still have no leader after {wait_s:.0f}s")
        await asyncio.sleep(0.5)


def _describe(spec: TopicSpec) -> str:
    configs = " ".join(f"{k}={v}" for k, v in sorted(spec.configs.items()))
    return f"partitions={spec.partitions} replication-factor={spec.replication_factor} {configs}"


class TopicError(RuntimeError):
    pass
