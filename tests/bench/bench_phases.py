"""The benchmark's Octopus and SnelStart replays and its realtime phase, each with its CPU per
order by process (bench_cpu.py); and the ledger replicas it starts."""

from __future__ import annotations

import asyncio
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from bench_books import octopus_calls, verify_snelstart_books
from bench_cpu import CpuMeter
from bench_load import Historic, historic_orders, realtime, replay
from bench_observe import Bookings, RssSampler, console, cpu_ms_per_order, ledger_cpu
from koppel_contracts import SHOP_ORDERS
from koppel_demo.demo_data import TEA_CONNECTION_ID, demo_tea_connection, publish_demo_connection
from koppel_demo.processes import ManagedProcess, ProcessGroup
from koppel_demo.system import SystemConfig, service_process
from koppel_sandbox_ccvshop import CcvShopControl
from koppel_sandbox_kit import free_port
from koppel_sandbox_octopus import OctopusControl
from koppel_sandbox_snelstart import DEMO as SNELSTART
from koppel_sandbox_snelstart import SnelStartControl

HERE = Path(__file__).resolve().parent


def ledger_process(config: SystemConfig, name: str, port: int, *, profile: bool) -> ManagedProcess:
    """A ledger-octopus in the one consumer group and database (a replica when it is
    not the first); with `profile`, run through profiled.py, which writes
    `<name>.profile.txt` next to the logs when the process stops."""
    process = service_process(
        config,
        "ledger-octopus",
        "KOPPEL_LEDGER_OCTOPUS_",
        port,
        retry_initial_seconds=config.ledger_retry_initial_seconds,
    )
    process.name = name
    process.log_path = config.log_dir / f"{name}.log"
    if profile:
        report = config.log_dir / f"{name}.profile.txt"
        process.args = [sys.executable, str(HERE / "profiled.py"), process.args[-1], str(report)]
    return process


async def octopus_replays(
    config: SystemConfig,
    group: ProcessGroup,
    octopus: OctopusControl,
    bookings: Bookings,
    sampler: RssSampler,
    meter: CpuMeter,
    run: str,
    args: Any,
    historic: dict[str, Historic],
    expected: dict[str, Decimal],
) -> tuple[dict[str, Any], dict[str, float]]:
    """Phase 2: N historic orders per replica count (a second ledger-octopus joins the group);
    returns the outcomes and the Octopus calls per booked order, by replica count."""
    topic = config.isolation + SHOP_ORDERS.name
    outcomes: dict[str, Any] = {}
    calls_per_order: dict[str, float] = {}
    for replicas in args.replicas:
        console.rule(f"2. replay, {replicas} ledger replica(s)")
        while replicas > sum(1 for n in group.processes if n.startswith("ledger")):
            second = ledger_process(config, "ledger-octopus-2", free_port(), profile=args.profile)
            await asyncio.to_thread(group.start, second, 60.0)
            # let the group rebalance and the newcomer warm its caches
            rebalance = historic_orders(run, f"rebalance{replicas}", 4 * args.partitions)
            await replay(config.kafka_bootstrap, topic, rebalance, bookings, "rebalance")
            expected.update(rebalance.totals)
        orders = historic[str(replicas)]
        calls_before = await octopus_calls(octopus)
        sampler.phase = f"replay{replicas}"
        cpu_before, every_before = ledger_cpu(group), meter.snapshot()
        outcome = await replay(
            config.kafka_bootstrap, topic, orders, bookings, f"replay x{replicas}"
        )
        sampler.phase = None
        meter.record(outcome, every_before, outcome["booked"], outcome["orders_per_s"])
        outcome["cpu_ms_per_order"] = {
            name: ms
            for name, ms in cpu_ms_per_order(
                cpu_before, ledger_cpu(group), outcome["booked"]
            ).items()
            if name.startswith("ledger-octopus")
        }
        calls = await octopus_calls(octopus) - calls_before
        outcome["octopus_calls"] = calls
        outcomes[str(replicas)] = outcome
        calls_per_order[f"replay, {replicas} replica(s)"] = calls / max(outcome["booked"], 1)
        expected.update(orders.totals)
        console.print(outcome)
    return outcomes, calls_per_order


async def snelstart_replay(
    config: SystemConfig,
    group: ProcessGroup,
    snelstart: SnelStartControl,
    bookings: Bookings,
    sampler: RssSampler,
    meter: CpuMeter,
    run: str,
    n: int,
) -> dict[str, Any]:
    """Phase 6: N historic orders of the tea shop booked by ledger-snelstart; its books."""
    console.rule("6. replay into SnelStart")
    topic = config.isolation + SHOP_ORDERS.name
    await publish_demo_connection(config, demo_tea_connection(config), TEA_CONNECTION_ID)
    warm_tea = historic_orders(run, "warmtea", 20, connection_id=TEA_CONNECTION_ID)
    await replay(config.kafka_bootstrap, topic, warm_tea, bookings, "warm-up SnelStart")
    tea = historic_orders(run, "tea", n, connection_id=TEA_CONNECTION_ID)
    admin = SNELSTART.main.administratie_id
    snel_calls_before = sum((await snelstart.calls(admin)).values())
    cpu_before, every_before = ledger_cpu(group), meter.snapshot()
    sampler.phase = "replay-snelstart"
    outcome = await replay(config.kafka_bootstrap, topic, tea, bookings, "replay SnelStart")
    sampler.phase = None
    meter.record(outcome, every_before, outcome["booked"], outcome["orders_per_s"])
    cpu = cpu_ms_per_order(cpu_before, ledger_cpu(group), outcome["booked"])
    outcome["cpu_ms_per_order"] = {n: ms for n, ms in cpu.items() if n == "ledger-snelstart"}
    snel_calls = sum((await snelstart.calls(admin)).values()) - snel_calls_before
    outcome["calls_per_order"] = snel_calls / max(outcome["booked"], 1)
    console.print(outcome)
    books = await verify_snelstart_books(snelstart, {**warm_tea.totals, **tea.totals})
    console.print(books)
    return {"snelstart_replay": outcome, "snelstart_books": books}


async def realtime_phase(
    shop: CcvShopControl,
    octopus: OctopusControl,
    bookings: Bookings,
    sampler: RssSampler,
    meter: CpuMeter,
    rate: float,
    duration: float,
) -> tuple[dict[str, Any], float, dict[str, Decimal]]:
    """Phase 3: orders paid in the CCV sandbox at a steady rate; returns the outcome, the
    Octopus calls per booked order and the orders' totals."""
    console.rule(f"3. realtime at {rate:g} orders/s")
    calls_before = await octopus_calls(octopus)
    sampler.phase = "realtime"
    every_before = meter.snapshot()
    outcome, totals = await realtime(shop, bookings, rate, duration)
    sampler.phase = None
    meter.record(outcome, every_before, outcome["booked"])
    calls = await octopus_calls(octopus) - calls_before
    outcome["octopus_calls"] = calls
    console.print(outcome)
    return outcome, calls / max(outcome["booked"], 1), totals


async def delete_run_leftovers(config: SystemConfig) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=config.kafka_bootstrap)
    await admin.start()
    try:
        mine = [t for t in await admin.list_topics() if t.startswith(config.isolation)]
        if mine:
            await admin.delete_topics(mine)
    finally:
        await admin.close()
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[Any] = AsyncMongoClient(config.mongodb_uri)
    try:
        prefix = config.isolation.replace(".", "_").replace("-", "_")
        for name in await client.list_database_names():
            if name.startswith(prefix):
                await client.drop_database(name)
    finally:
        await client.close()
