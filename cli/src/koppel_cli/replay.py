"""`koppel replay` — make one service's consumer group re-consume a topic from a point in time.

    koppel replay reset-offsets --group ledger-octopus.main --topic shop.orders.v1 \\
        --to-datetime 2026-11-01T00:00:00+01:00            # dry run: prints the plan
    koppel replay reset-offsets ... --execute                # commits the new offsets

The same as `kafka-consumer-groups.sh --reset-offsets --to-datetime` (see
deploy/REPLAY.md): per partition the earliest offset whose record timestamp is
at or after the given time (`offsets_for_times`), or the partition's end when
no record is that new, committed for the group. It refuses while the group has
active members — a running consumer would overwrite the reset with its own
position — and refuses to move a partition forward (that would skip messages)
unless `--allow-forward` is given.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from koppel_chassis import ServiceSettings

app = typer.Typer(no_args_is_help=True, help="Replays: re-consume a topic from a point in time.")

INACTIVE_STATES = {"Empty", "Dead"}


class ReplayError(RuntimeError):
    pass


@dataclass(frozen=True)
class PartitionReset:
    partition: int
    current: int | None  # the group's committed offset; None: never committed
    target: int
    end: int

    @property
    def replayed(self) -> int:
        """How many messages the group will consume again (0 if it moves forward)."""
        base = self.end if self.current is None else self.current
        return max(0, base - self.target)

    @property
    def forward(self) -> bool:
        return self.current is not None and self.target > self.current


@dataclass(frozen=True)
class ResetPlan:
    group: str
    topic: str
    at: datetime
    state: str
    members: int
    partitions: list[PartitionReset]

    @property
    def timestamp_ms(self) -> int:
        return int(self.at.timestamp() * 1000)


def parse_datetime(text: str) -> datetime:
    """ISO 8601; a time without a zone is taken as UTC (say the zone to be sure)."""
    try:
        value = datetime.fromisoformat(text.strip().replace(" ", "T"))
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not an ISO 8601 time, e.g. 2026-11-01T00:00:00+01:00",
            param_hint="--to-datetime",
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


async def group_state(admin: AIOKafkaAdminClient, group: str) -> tuple[str, int]:
    """(state, number of active members) of a consumer group."""
    for response in await admin.describe_consumer_groups([group]):
        for described in response.to_object()["groups"]:
            if described["group"] == group:
                if described["error_code"]:
                    raise ReplayError(
                        f"cannot describe group {group!r}: error {described['error_code']}"
                    )
                return described["state"], len(described["members"])
    return "Dead", 0


def _refuse_if_active(group: str, state: str, members: int) -> None:
    if members or state not in INACTIVE_STATES:
        raise ReplayError(
            f"group {group!r} is {state} with {members} active member(s): stop the service "
            "(scale its Deployment to 0) and wait until its consumers have left the group "
            "(at most the session timeout), then run this again"
        )


async def plan_reset(bootstrap: str, group: str, topic: str, at: datetime) -> ResetPlan:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="koppel-replay")
    await admin.start()
    try:
        state, members = await group_state(admin, group)
        # Listed first: a metadata request naming a missing topic would create it
        # on a broker with auto.create.topics.enable.
        if topic not in await admin.list_topics():
            raise ReplayError(f"topic {topic!r} does not exist")
        [described] = await admin.describe_topics([topic])
        tps = sorted(
            (TopicPartition(topic, p["partition"]) for p in described["partitions"]),
            key=lambda tp: tp.partition,
        )
        committed = await admin.list_consumer_group_offsets(group, partitions=tps)
        found, end = await _offsets_at(bootstrap, tps, int(at.timestamp() * 1000))
    finally:
        await admin.close()
    resets = []
    for tp in tps:
        meta = committed.get(tp)
        current = meta.offset if meta is not None and meta.offset >= 0 else None
        hit = found.get(tp)
        resets.append(
            PartitionReset(tp.partition, current, hit.offset if hit else end[tp], end[tp])
        )
    return ResetPlan(group, topic, at, state, members, resets)


async def _offsets_at(bootstrap: str, tps: list[TopicPartition], ts_ms: int) -> tuple[Any, Any]:
    """Per partition: the first offset at/after `ts_ms` (None: none that new), and the end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        found = await consumer.offsets_for_times({tp: ts_ms for tp in tps})
        return found, await consumer.end_offsets(tps)
    finally:
        await consumer.stop()


async def execute_reset(bootstrap: str, plan: ResetPlan) -> dict[int, int]:
    """Commit the plan's offsets for the group; returns what the group has committed after."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="koppel-replay")
    await admin.start()
    try:
        # Checked again right before committing: the plan may be minutes old.
        _refuse_if_active(plan.group, *await group_state(admin, plan.group))
        committer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=plan.group, enable_auto_commit=False
        )
        await committer.start()
        try:
            tps = {TopicPartition(plan.topic, r.partition): r.target for r in plan.partitions}
            # assign(), not subscribe(): the committer never joins the group, so
            # the broker accepts the commit only while the group has no members.
            committer.assign(list(tps))
            await committer.commit(tps)
        finally:
            await committer.stop()
        after = await admin.list_consumer_group_offsets(plan.group, partitions=list(tps))
        return {tp.partition: meta.offset for tp, meta in after.items()}
    finally:
        await admin.close()


def _print_plan(plan: ResetPlan) -> None:
    typer.echo(
        f"group {plan.group} ({plan.state}, {plan.members} member(s)), topic {plan.topic}, "
        f"to {plan.at.astimezone(UTC).isoformat()} ({plan.timestamp_ms} ms)"
    )
    typer.echo(f"{'PARTITION':>9} {'CURRENT':>10} {'NEW':>10} {'END':>10} {'RE-READ':>8}")
    for r in plan.partitions:
        current = "-" if r.current is None else str(r.current)
        note = "  moves FORWARD: skips messages" if r.forward else ""
        typer.echo(
            f"{r.partition:>9} {current:>10} {r.target:>10} {r.end:>10} {r.replayed:>8}{note}"
        )
    typer.echo(f"{sum(r.replayed for r in plan.partitions)} message(s) will be consumed again")


@app.command("reset-offsets")
def reset_offsets(
    group: Annotated[str, typer.Option(help="Consumer group, e.g. ledger-octopus.main")],
    topic: Annotated[str, typer.Option(help="Topic name as in Kafka, prefix included")],
    to_datetime: Annotated[
        str, typer.Option(help="ISO 8601 time, e.g. 2026-11-01T00:00:00+01:00 (no zone = UTC)")
    ],
    execute: Annotated[
        bool, typer.Option(help="Commit the new offsets (without it: dry run)")
    ] = False,
    allow_forward: Annotated[
        bool, typer.Option(help="Allow moving a partition forward, i.e. skipping messages")
    ] = False,
    bootstrap_servers: Annotated[
        str | None,
        typer.Option(help="Kafka bootstrap servers; default KOPPEL_KAFKA_BOOTSTRAP_SERVERS"),
    ] = None,
) -> None:
    """Reset GROUP's offsets on TOPIC to the first message at or after a time (dry run first)."""
    at = parse_datetime(to_datetime)
    settings = ServiceSettings(service_name="koppel-cli")
    bootstrap = bootstrap_servers or settings.kafka_bootstrap_servers
    try:
        plan = asyncio.run(plan_reset(bootstrap, group, topic, at))
        _print_plan(plan)
        if any(r.current is None for r in plan.partitions):
            typer.secho(
                "note: the group has no committed offset on some partitions (never consumed "
                "them, or the offsets expired)",
                err=True,
            )
        forward = [r.partition for r in plan.partitions if r.forward]
        if forward and not allow_forward:
            raise ReplayError(
                f"partition(s) {forward} would move forward and skip messages; pick an "
                "earlier time, or pass --allow-forward if skipping is what you want"
            )
        _refuse_if_active(plan.group, plan.state, plan.members)
        if not execute:
            typer.echo("dry run: nothing changed; add --execute to commit these offsets")
            return
        after = asyncio.run(execute_reset(bootstrap, plan))
    except ReplayError as error:
        typer.secho(f"replay: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    except Exception as error:  # connection errors from aiokafka
        typer.secho(f"replay: Kafka at {bootstrap}: {error!r}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    wanted = {r.partition: r.target for r in plan.partitions}
    if after != wanted:
        typer.secho(f"replay: committed {after}, expected {wanted}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    typer.echo(f"committed: group {plan.group} restarts {plan.topic} at {after}")
