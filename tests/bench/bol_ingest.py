"""Phase 9 of the benchmark: what ingest-bol costs per order it ingests — above all in Bol
API calls, which Bol limits per seller account.

Bol.com has no webhooks, and a new connection leaves orders placed before it alone: the
phase connects the sandbox's demo retailer first, then N buyers order at once (the sandbox's
control API), and ingest-bol's polls pick them up. It measures:

- Bol API calls per ingested order, per endpoint group and in all: ingest-bol's own counter
  (`koppel_bol_api_calls_total{group}`, retries included) from the connection until every
  order is booked, divided by the orders it published; the sandbox's own count beside it;
- ingest: the first order placed → the last published (orders/s), the lag of the last one
  behind its placing, ingest-bol's CPU per ingested order;
- end to end: → the last booked by ledger-octopus, as an Octopus sales booking;
- the books: every order exactly one sales booking in the merchant's dossier, its amount
  what the buyer paid at Bol.

Bol's rate limits stay as Bol sets them (the sandbox's defaults, bol.md §7): each new order
costs one `GET /retailer/orders/{id}` (25 a second per account, of which ingest-bol spends
90 %), so one seller account is ingested at about 22 orders a second at most. The
connection does not answer invoice requests here: that loop's calls are per connection and
interval, not per order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
from bench_cpu import CpuMeter, cpu_per_order
from koppel_contracts import SHOP_ORDERS
from koppel_demo.bol import (
    BOL_CONNECTION_ID,
    BOL_DOSSIER_ID,
    BOOK,
    EARBUDS,
    bol_control,
    connect_bol,
    demo_bol_connection,
    order_total,
)
from koppel_demo.processes import ManagedProcess, ProcessGroup
from koppel_demo.system import SystemConfig
from koppel_sandbox_bol import BolControl
from koppel_sandbox_octopus import OctopusControl
from prestashop_ingest import BookedNumbers, PhaseSampler, Published, _wait, idle_cpu
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console

console = Console()

BOL_DEFAULT_MAX = 200  # at Bol's own limit (~22 orders/s) a small run says what it costs
PLACING_CONCURRENCY = 8
SERVICE = "ingest-bol"
SANDBOX = "bol-sandbox"


def basket(i: int) -> dict[str, Any]:
    """1–3 books (9 %) and 1–2 pairs of earbuds (21 %): a mixed-rate order."""
    return {
        "items": [{"ean": BOOK, "quantity": 1 + i % 3}, {"ean": EARBUDS, "quantity": 1 + i % 2}]
    }


async def place_orders(bol: BolControl, n: int) -> dict[str, Decimal]:
    """N orders at the demo retailer: what each buyer paid, by Bol's order id."""
    totals: dict[str, Decimal] = {}
    in_flight = asyncio.Semaphore(PLACING_CONCURRENCY)

    async def one(i: int) -> None:
        async with in_flight:
            order = await bol.place_order(**basket(i))
        totals[str(order["orderId"])] = order_total(order)

    await asyncio.gather(*(one(i) for i in range(n)))
    return totals


async def api_calls(config: SystemConfig) -> dict[str, float]:
    """ingest-bol's `koppel_bol_api_calls_total` per endpoint group, as it serves them."""
    async with httpx.AsyncClient(timeout=10) as http:
        text = (await http.get(f"{config.url(config.ports.ingest_bol)}/metrics")).text
    calls: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "koppel_bol_api_calls_total":
                group = sample.labels.get("group", "")
                calls[group] = calls.get(group, 0.0) + sample.value
    return calls


async def bol_phase(
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
    """Connect the seller, place N orders, measure ingest and booking, check the books."""
    processes = {name: group[name] for name in (SERVICE, SANDBOX, "ledger-octopus")}

    def cpu() -> dict[str, float]:
        return {name: cpu_seconds(process) or 0.0 for name, process in processes.items()}

    demo = demo_bol_connection(config)
    options = demo.shop.options.model_copy(update={"answer_invoice_requests": False})
    connection = demo.model_copy(update={"shop": demo.shop.model_copy(update={"options": options})})
    idle = await idle_cpu(processes[SERVICE], cpu_seconds)
    published = Published(
        config.kafka_bootstrap, config.isolation + SHOP_ORDERS.name, BOL_CONNECTION_ID
    )
    await published.start()
    async with bol_control(config) as bol:
        try:
            await connect_bol(config, connection, timeout=60)
            await bol.reset_calls()
            calls_before = await api_calls(config)
            before = cpu()
            every_before = meter.snapshot() if meter else None
            sampler.phase = "ingest-bol"
            started = time.monotonic()
            totals = await place_orders(bol, n)
            placed = time.monotonic()
            console.print(f"placed {n:,} orders at the Bol.com sandbox in {placed - started:.1f} s")
            last_published = await _wait(
                lambda: published.count(totals), n, "Bol.com: published", stall_seconds
            )
            ingested_cpu = cpu()
            last_booked = await _wait(
                lambda: bookings.count_numbers(totals), n, "Bol.com: booked", stall_seconds
            )
            booked_cpu = cpu()
            every_after = meter.snapshot() if meter else None
            sampler.phase = None
            calls_after = await api_calls(config)
            sandbox_calls = int((await bol.calls())["total"])
        finally:
            await published.stop()
    ingested, booked = published.count(totals), bookings.count_numbers(totals)
    ingest_seconds = max(last_published - started, 1e-6)
    booked_seconds = max(last_booked - started, 1e-6)
    calls = {g: calls_after[g] - calls_before.get(g, 0.0) for g in calls_after}
    calls = {g: c for g, c in calls.items() if c}

    def ms_per(name: str, after: dict[str, float], count: int, idle_seconds: float = 0.0) -> float:
        return round(1000 * (after[name] - before[name] - idle_seconds) / max(count, 1), 2)

    outcome: dict[str, Any] = {
        "orders": n,
        "placing_seconds": round(placed - started, 1),
        "ingested": ingested,
        "ingest_seconds": round(ingest_seconds, 3),
        "ingested_per_s": round(ingested / ingest_seconds, 1),
        "last_published_after_placing_seconds": round(max(last_published - placed, 0.0), 2),
        "api_calls": {g: int(c) for g, c in sorted(calls.items())},
        "api_calls_per_order": round(sum(calls.values()) / max(ingested, 1), 3),
        "api_calls_per_order_by_group": {
            g: round(c / max(ingested, 1), 3) for g, c in sorted(calls.items())
        },
        "sandbox_calls_per_order": round(sandbox_calls / max(ingested, 1), 3),
        "cpu_ms_per_ingested_order": ms_per(SERVICE, ingested_cpu, ingested),
        "idle_cpu_percent": round(100 * idle, 2),
        "cpu_ms_per_ingested_order_net_of_idle": ms_per(
            SERVICE, ingested_cpu, ingested, idle * ingest_seconds
        ),
        "sandbox_cpu_ms_per_ingested_order": ms_per(SANDBOX, ingested_cpu, ingested),
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
    books = await verify_bol_books(config, totals)
    console.print(books)
    return {"bol_ingest": outcome, "bol_books": books}


async def verify_bol_books(config: SystemConfig, expected: dict[str, Decimal]) -> dict[str, Any]:
    """Every order exactly one sales booking in the merchant's dossier, its amount what the
    buyer paid."""
    async with OctopusControl(config.url(config.ports.octopus), timeout=300) as octopus:
        documents = await octopus.buysell_bookings(BOL_DOSSIER_ID)
    per_reference: dict[str, list[Decimal]] = {}
    for document in documents:
        amount = Decimal(str(document["amount"]))
        per_reference.setdefault(str(document.get("reference")), []).append(amount)
    missing = [r for r in expected if r not in per_reference]
    twice = [r for r in expected if len(per_reference.get(r, [])) > 1]
    differ = [r for r in expected if per_reference.get(r, [expected[r]])[0] != expected[r]]
    return {
        "orders": len(expected),
        "sales_bookings": sum(len(per_reference.get(r, [])) for r in expected),
        "missing": len(missing),
        "booked_more_than_once": len(twice),
        "total_differs": len(differ),
        "ok": not (missing or twice or differ),
        "examples": {"missing": missing[:5], "twice": twice[:5], "differ": differ[:5]},
    }


def bol_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The phase's rows of the results table (measure, measured, target, met)."""
    outcome = results.get("bol_ingest")
    if not outcome:
        return []
    by_group = ", ".join(
        f"{group} {per:.2f}" for group, per in outcome["api_calls_per_order_by_group"].items()
    )
    rows = [
        (
            "9. Bol.com ingest (ingest-bol, one seller account, at Bol's rate limits)",
            f"{outcome['ingested_per_s']:,.1f} orders/s ({outcome['ingested']:,}/"
            f"{outcome['orders']:,} in {outcome['ingest_seconds']:.1f} s from the first placed; "
            f"the last {outcome['last_published_after_placing_seconds']:.1f} s after placing)",
            "—",
            "—",
        ),
        (
            "   Bol API calls per ingested order",
            f"{outcome['api_calls_per_order']:.2f} ({by_group}); the sandbox counted "
            f"{outcome['sandbox_calls_per_order']:.2f}",
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
            "   Bol.com → Octopus sales bookings, first placed → booked",
            f"{outcome['booked_per_s']:,.1f} orders/s ({outcome['booked']:,} in "
            f"{outcome['booked_seconds']:.1f} s), ledger-octopus "
            f"{outcome['ledger_cpu_ms_per_booked_order']:.2f} ms CPU per order",
            "—",
            "—",
        ),
    ]
    books = results.get("bol_books")
    if books:
        rows.append(
            (
                "   books: one sales booking per Bol.com order, amounts equal",
                f"{books['orders']:,} orders, {books['missing']} missing, "
                f"{books['booked_more_than_once']} twice, {books['total_differs']} differ",
                "all exactly once, equal",
                "met" if books["ok"] else "NOT met",
            )
        )
    return rows
