"""Phase 8 of the benchmark: what ingest-prestashop costs per order it ingests.

PrestaShop has no webhooks: ingest-prestashop polls each connection's webservice (listing what
changed since its cursor, then reading each order and what its mapping needs). The phase places
N paid orders in the PrestaShop sandbox first, then publishes the connection, so the service's
first poll finds all N at once, and measures:

- ingest: connection published → the last of the N orders published on `shop.orders.v1`
  (orders/s), ingest-prestashop's own CPU time in that window per order, and the webservice
  requests per order (the sandbox's own counter);
- end to end: → the last of them booked by ledger-octopus in the merchant's Octopus dossier;
- the books: every order exactly one invoice in that dossier, its total the shop's.

The orders must have changed within the service's overlap window (600 s) before the connection
was made to be found by the first poll (older ones are what `koppel migrate` is for), so the
placing is timed and N is capped by default (`--prestashop-orders`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition
from bench_cpu import CpuMeter, cpu_per_order
from koppel_chassis.topic_reader import partitions_of
from koppel_contracts import SHOP_ORDERS
from koppel_demo.prestashop import (
    PAID,
    PRESTASHOP_CONNECTION_ID,
    PRESTASHOP_DOSSIER_ID,
    connect_prestashop,
)
from koppel_demo.processes import ManagedProcess, ProcessGroup
from koppel_demo.system import SystemConfig
from koppel_sandbox_octopus import OctopusControl
from koppel_sandbox_prestashop import PrestaShopControl
from rich.console import Console

console = Console()

# The PrestaShop sandbox builds every record of a resource for each request (and, per order,
# looks through every payment and invoice), so its time per request grows with the orders it
# holds: past a few hundred orders the phase would measure the sandbox, not the service.
PRESTASHOP_DEFAULT_MAX = 500
# The orders must be placed well inside ingest-prestashop's overlap window (600 s) before the
# connection is made.
PLACE_WITHIN_SECONDS = 480.0
PLACING_CONCURRENCY = 8
SERVICE = "ingest-prestashop"
SANDBOX = "prestashop-sandbox"
IDLE_SAMPLE_SECONDS = 10.0


class BookedNumbers(Protocol):
    """The bench's `ledger.bookings.v1` follower: which order numbers were booked."""

    def count_numbers(self, numbers: Iterable[str]) -> int: ...


class PhaseSampler(Protocol):
    phase: str | None


class Published:
    """Follows `shop.orders.v1` from the moment it starts: when each order of one connection
    was first published (the ingest's end of the pipeline)."""

    def __init__(self, bootstrap: str, topic: str, connection_id: str) -> None:
        self.bootstrap, self.topic, self.connection_id = bootstrap, topic, connection_id
        self.first_seen: dict[str, float] = {}  # order_ref -> monotonic time
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        partitions = [
            TopicPartition(self.topic, p) for p in await partitions_of(self.bootstrap, self.topic)
        ]
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        consumer.assign(partitions)
        # Resolve the end now, before the connection is published: nothing after is missed.
        await consumer.seek_to_end(*partitions)
        for partition in partitions:
            await consumer.position(partition)
        self._task = asyncio.create_task(self._run(consumer))

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=200, max_records=5000)
                now = time.monotonic()
                for records in batches.values():
                    for record in records:
                        event = json.loads(record.value)
                        if event.get("connection_id") == self.connection_id:
                            self.first_seen.setdefault(str(event["order_ref"]), now)
        finally:
            await consumer.stop()

    def count(self, refs: Iterable[str]) -> int:
        return sum(1 for ref in refs if ref in self.first_seen)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def basket(i: int) -> dict[str, Any]:
    """A paid order of 1–5 bags of coffee (9 %) and 1–3 mugs (21 %), with PostNL shipping.
    Every amount's VAT rounds alike per item and per line, so Octopus' invoice (which
    computes VAT from the net amounts) can equal the shop's total to the cent."""
    return {
        "customer": {
            "email": f"klant{i % 50}@bench.example",
            "firstname": "Klant",
            "lastname": str(i % 50),
        },
        "rows": [
            {
                "name": "Koffiebonen 1 kg",
                "price_tax_incl": "24.95",
                "tax_rate": "9",
                "quantity": 1 + i % 5,
            },
            {
                "name": "Koffiemok",
                "price_tax_incl": "12.10",
                "tax_rate": "21",
                "quantity": 1 + i % 3,
            },
        ],
        "state": PAID,
    }


async def place_orders(
    shop: PrestaShopControl, n: int
) -> tuple[dict[str, Decimal], dict[str, str]]:
    """N paid orders in the sandbox: their totals by reference, their references by id."""
    totals: dict[str, Decimal] = {}
    references: dict[str, str] = {}
    in_flight = asyncio.Semaphore(PLACING_CONCURRENCY)

    async def one(i: int) -> None:
        async with in_flight:
            placed = (await shop.create_order(**basket(i)))["order"]
        totals[str(placed["reference"])] = Decimal(str(placed["total_paid_tax_incl"])).quantize(
            Decimal("0.01")
        )
        references[str(placed["id"])] = str(placed["reference"])

    await asyncio.gather(*(one(i) for i in range(n)))
    return totals, references


async def idle_cpu(
    process: ManagedProcess, cpu_seconds: Callable[[ManagedProcess], float | None]
) -> float:
    """The process' CPU seconds per second while it has nothing to ingest (its consumers,
    health checks, lease upkeep): taken off the phase's CPU to get the cost of an order."""
    before, started = cpu_seconds(process) or 0.0, time.monotonic()
    await asyncio.sleep(IDLE_SAMPLE_SECONDS)
    return ((cpu_seconds(process) or 0.0) - before) / (time.monotonic() - started)


async def _wait(count: Callable[[], int], n: int, label: str, stall_seconds: float) -> float:
    """Until `count()` reaches n (or nothing moves for `stall_seconds`); the time it did."""
    seen, moved, last_print = 0, time.monotonic(), 0.0
    while seen < n:
        await asyncio.sleep(0.2)
        now_seen = count()
        now = time.monotonic()
        if now_seen > seen:
            seen, moved = now_seen, now
        elif now - moved > stall_seconds:
            console.print(f"[red]{label}: stalled at {seen}/{n}")
            break
        if now - last_print > 5:
            console.print(f"  {label}: {seen:,}/{n:,}")
            last_print = now
    return moved


async def prestashop_phase(
    config: SystemConfig,
    group: ProcessGroup,
    bookings: BookedNumbers,
    sampler: PhaseSampler,
    n: int,
    cpu_seconds: Callable[[ManagedProcess], float | None],
    *,
    stall_seconds: float = 90.0,
    meter: CpuMeter | None = None,
) -> dict[str, Any]:
    """Place N orders, connect the shop, measure ingest and booking, check the books."""
    processes = {name: group[name] for name in (SERVICE, SANDBOX, "ledger-octopus")}

    def cpu() -> dict[str, float]:
        return {name: cpu_seconds(process) or 0.0 for name, process in processes.items()}

    async with PrestaShopControl(config.url(config.ports.prestashop), timeout=120) as shop:
        started = time.monotonic()
        totals, references = await place_orders(shop, n)
        placing = time.monotonic() - started
        console.print(f"placed {n:,} paid orders in the PrestaShop sandbox in {placing:.1f} s")
        if placing > PLACE_WITHIN_SECONDS:
            console.print("[red]placing took longer than the overlap window allows for")
        idle = await idle_cpu(processes[SERVICE], cpu_seconds)
        requests_before = int((await shop.counters())["requests"])
        published = Published(
            config.kafka_bootstrap, config.isolation + SHOP_ORDERS.name, PRESTASHOP_CONNECTION_ID
        )
        await published.start()
        try:
            before = cpu()
            every_before = meter.snapshot() if meter else None
            sampler.phase = "ingest-prestashop"
            connected = time.monotonic()
            await connect_prestashop(config, timeout=60)
            refs = list(references)
            last_published = await _wait(
                lambda: published.count(refs), n, "PrestaShop: published", stall_seconds
            )
            ingested_cpu = cpu()
            last_booked = await _wait(
                lambda: bookings.count_numbers(totals), n, "PrestaShop: booked", stall_seconds
            )
            booked_cpu = cpu()
            every_after = meter.snapshot() if meter else None
            sampler.phase = None
            requests = int((await shop.counters())["requests"]) - requests_before
        finally:
            await published.stop()
    ingested, booked = published.count(references), bookings.count_numbers(totals)
    ingest_seconds = max(last_published - connected, 1e-6)
    booked_seconds = max(last_booked - connected, 1e-6)

    def ms_per(name: str, after: dict[str, float], count: int, idle_seconds: float = 0.0) -> float:
        return round(1000 * (after[name] - before[name] - idle_seconds) / max(count, 1), 2)

    outcome: dict[str, Any] = {
        "orders": n,
        "placing_seconds": round(placing, 1),
        "ingested": ingested,
        "ingest_seconds": round(ingest_seconds, 3),
        "ingested_per_s": round(ingested / ingest_seconds, 1),
        "cpu_ms_per_ingested_order": ms_per(SERVICE, ingested_cpu, ingested),
        "idle_cpu_percent": round(100 * idle, 2),
        "cpu_ms_per_ingested_order_net_of_idle": ms_per(
            SERVICE, ingested_cpu, ingested, idle * ingest_seconds
        ),
        "sandbox_cpu_ms_per_ingested_order": ms_per(SANDBOX, ingested_cpu, ingested),
        "webservice_requests_per_order": round(requests / max(ingested, 1), 2),
        "booked": booked,
        "booked_seconds": round(booked_seconds, 3),
        "booked_per_s": round(booked / booked_seconds, 1),
        "ledger_cpu_ms_per_booked_order": ms_per("ledger-octopus", booked_cpu, booked),
        "complete": ingested == booked == n,
    }
    if every_before is not None and every_after is not None:
        # every process, the window through the bookings, per booked order (bench_cpu.py)
        outcome["cpu_by_process"] = cpu_per_order(every_before, every_after, booked)
    console.print(outcome)
    books = await verify_prestashop_books(config, totals)
    console.print(books)
    return {"prestashop_ingest": outcome, "prestashop_books": books}


async def verify_prestashop_books(
    config: SystemConfig, expected: dict[str, Decimal]
) -> dict[str, Any]:
    """Every order exactly one invoice in the merchant's dossier, its total the shop's. The
    dossier may also hold the sandbox's own demo orders (placed when it started): counted
    apart, not as errors."""
    async with OctopusControl(config.url(config.ports.octopus), timeout=300) as octopus:
        invoices = await octopus.invoices(PRESTASHOP_DOSSIER_ID)
    per_reference: dict[str, list[Decimal]] = {}
    for invoice in invoices:
        total = Decimal(str(invoice["_sandbox"]["totalInclVat"]))
        per_reference.setdefault(str(invoice.get("reference")), []).append(total)
    missing = [r for r in expected if r not in per_reference]
    twice = [r for r in expected if len(per_reference.get(r, [])) > 1]
    differ = [r for r in expected if per_reference.get(r, [expected[r]])[0] != expected[r]]
    return {
        "orders": len(expected),
        "invoices": sum(len(per_reference.get(r, [])) for r in expected),
        "other_invoices": sum(len(t) for r, t in per_reference.items() if r not in expected),
        "missing": len(missing),
        "booked_more_than_once": len(twice),
        "total_differs": len(differ),
        "ok": not (missing or twice or differ),
        "examples": {"missing": missing[:5], "twice": twice[:5], "differ": differ[:5]},
    }


def prestashop_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The phase's rows of the results table (measure, measured, target, met)."""
    outcome = results.get("prestashop_ingest")
    if not outcome:
        return []
    rows = [
        (
            "8. PrestaShop ingest (ingest-prestashop, one connection, first poll)",
            f"{outcome['ingested_per_s']:,.1f} orders/s ({outcome['ingested']:,}/"
            f"{outcome['orders']:,} in {outcome['ingest_seconds']:.1f} s)",
            "—",
            "—",
        ),
        (
            f"   CPU per ingested order, {SERVICE}",
            f"{outcome['cpu_ms_per_ingested_order']:.2f} ms "
            f"({outcome['cpu_ms_per_ingested_order_net_of_idle']:.2f} ms without its idle "
            f"{outcome['idle_cpu_percent']:.1f} % of a core)",
            "—",
            "—",
        ),
        (
            "   CPU per ingested order, the PrestaShop sandbox (answering)",
            f"{outcome['sandbox_cpu_ms_per_ingested_order']:.2f} ms",
            "—",
            "—",
        ),
        (
            "   webservice requests per ingested order",
            f"{outcome['webservice_requests_per_order']:.2f}",
            "—",
            "—",
        ),
        (
            "   PrestaShop → Octopus, connection made → booked",
            f"{outcome['booked_per_s']:,.1f} orders/s ({outcome['booked']:,} in "
            f"{outcome['booked_seconds']:.1f} s), ledger-octopus "
            f"{outcome['ledger_cpu_ms_per_booked_order']:.2f} ms CPU per order",
            "—",
            "—",
        ),
    ]
    books = results.get("prestashop_books")
    if books:
        rows.append(
            (
                "   books: one invoice per PrestaShop order, totals equal",
                f"{books['orders']:,} orders, {books['missing']} missing, "
                f"{books['booked_more_than_once']} twice, {books['total_differs']} differ",
                "all exactly once, equal",
                "met" if books["ok"] else "NOT met",
            )
        )
    return rows
