"""Benchmark of the CCV Shop → Octopus slice and of SnelStart and Asperion replays: throughput,
latency, memory, calls and CPU per booked order, against the raw Kafka floor; and of the polled
shops' ingest (PrestaShop, Bol.com). Prints numbers; asserts nothing about time.

    uv run python tests/bench/run.py [--orders 100000] [--rate 50] [--duration 30]
                                     [--replicas 1,2] [--partitions 12] [--keep]

One run, in order:
  0. the local stack (Kafka + FerretDB) is started if it is not running (never stopped);
     sandboxes and services start as processes (koppel_demo.system) under a topic,
     consumer-group and database prefix of their own; Octopus quota off, CCV rate
     limits raised (the bench measures Koppel, not the shop's per-key limits);
  1. floor: raw aiokafka produce + consume of N messages of an order event's size;
  2. replay: N historic `OrderEvent`s published straight to `shop.orders.v1` and booked
     by ledger-octopus into the sandbox, first publish → last booking seen, per replica
     count (a second ledger-octopus process joins the same consumer group);
  3. realtime: orders paid in the CCV sandbox at a steady rate → booking; p50/p95/p99;
  4. peak RSS of each service process during 2 and 3 (/proc/<pid>/status);
  5. Octopus API calls per booked order (the sandbox's own call counter);
  6. replay into SnelStart: N historic orders of the tea shop's connection booked by
     ledger-snelstart (SnelStart sandbox limits off, the service's own budget with them);
  7. replay into Asperion: N historic orders of the chocolatier's connection written as UBL
     documents by ledger-asperion, then the day's delivery made on request (one ZIP), and
     its books checked by reading the sealed deliveries back from MongoDB/GridFS;
  8. PrestaShop ingest: paid orders placed in the PrestaShop sandbox, found by
     ingest-prestashop's first poll of the new connection and booked in Octopus
     (prestashop_ingest.py): orders/s, its CPU per ingested order, requests per order, books;
  9. Bol.com ingest: orders placed at the Bol.com sandbox after the connection, found by
     ingest-bol's polls and booked as Octopus sales bookings (bol_ingest.py): Bol API calls
     per ingested order (per endpoint group), orders/s, CPU per ingested order, books;
  CPU milliseconds per booked order of every process in each phase (its own utime + stime
  from /proc, before and after the phase): the services, the sandboxes, the Kafka broker and
  FerretDB, FerretDB's share of the total, and for the replays the machine's ceiling
  (cores ÷ the CPU per order of the sandboxes and the broker) with the replay's fraction of it;
  then the books are verified in the sandbox (one invoice per order, totals equal) and
  the results written to tests/bench/RESULTS.md and tests/bench/results.json.

Latency end point: the `ledger.bookings.v1` event as seen by this process. ledger-octopus
publishes it after the invoice exists in Octopus and has been read back, so it is an
upper bound of "invoice present in the sandbox" (polling the sandbox's full invoice list
would cost more than what it measures).

The bench is a script split by responsibility into sibling modules imported from this folder
(bench_observe: followers, RSS, progress; bench_cpu: CPU per order and the ceiling;
bench_load: floor, replay, realtime load; bench_phases, bench_asperion, prestashop_ingest,
bol_ingest: the phases; bench_books: the books; bench_report: the table and the files).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import signal
import sys
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench_args import parse_args
from bench_asperion import ASPERION_DEFAULT_MAX, asperion_phase
from bench_books import verify_books
from bench_cpu import CpuMeter, cpu_seconds, stack_pids
from bench_load import floor, historic_orders, replay
from bench_observe import Bookings, RssSampler, console
from bench_phases import (
    delete_run_leftovers,
    ledger_process,
    octopus_replays,
    realtime_phase,
    snelstart_replay,
)
from bench_report import _git_commit, _mb, print_table, write_results
from bol_ingest import BOL_DEFAULT_MAX, bol_phase
from koppel_chassis.topic_admin import TopicSpec, ensure_topics, plan_topics
from koppel_contracts import LEDGER_BOOKINGS, SHOP_ORDERS
from koppel_demo.demo_data import demo_connection, publish_demo_connection, wait_until_connected
from koppel_demo.system import SystemConfig, start_system
from koppel_localstack import StackConfig
from koppel_localstack import start as start_stack
from koppel_sandbox_ccvshop import CcvShopControl
from koppel_sandbox_octopus import OctopusControl
from koppel_sandbox_snelstart import SnelStartControl
from prestashop_ingest import PRESTASHOP_DEFAULT_MAX, prestashop_phase

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SERVICES = (
    "ingest-ccv",
    "ledger-octopus",
    "ledger-octopus-2",
    "ledger-snelstart",
    "ledger-asperion",
    "notifier",
    "ingest-prestashop",
    "ingest-bol",
)
# tests/faults loads this script as a module and uses Bookings and _git_commit (fault_bench.py).
__all__ = ["Bookings", "_git_commit", "bench", "main", "parse_args"]


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    console.rule("[bold]Koppel slice benchmark")
    console.print(f"cores: {os.cpu_count()}  orders: {args.orders:,}  rate: {args.rate:g}/s")
    stack = StackConfig.from_env()
    endpoints = await asyncio.to_thread(start_stack, stack)
    # The broker's and FerretDB's pids from koppel_localstack's pid files, also when the stack
    # was already running (None: not ours, "not measured"); the meter re-reads them per phase.
    pids = await asyncio.to_thread(stack_pids, stack)
    run = uuid.uuid4().hex[:6]
    folder = REPO / ".local" / "bench" / run
    config = SystemConfig.isolated(
        endpoints.kafka_bootstrap,
        endpoints.mongodb_uri,
        folder,
        "bench",
        ledger_retry_initial_seconds=1.0,
        # The service's own default, not the demo's 30 s: each poll reads the shop's
        # recent orders and compares them with what was published.
        reconcile_interval_seconds=300.0,
        # SnelStart's limits are off in the sandbox (below): the service's budget follows.
        snelstart_requests_per_minute=10.0**9,
        # The dashboard reads every topic into its read models: it would compete with the
        # booking path for the same two cores.
        dashboard=False,
    )
    isolation = config.isolation
    console.print(f"run {run}: prefix {isolation}  logs {config.log_dir}")
    specs = plan_topics(partitions=args.partitions, replication_factor=1, prefix=isolation)
    floor_topic = f"{isolation}bench.floor"
    specs.append(TopicSpec(floor_topic, args.partitions, 1))
    await ensure_topics(config.kafka_bootstrap, specs)

    results: dict[str, Any] = {
        "meta": {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "cores": os.cpu_count(),
            "machine": f"{platform.machine()} {platform.system()} {platform.release()}",
            "python": platform.python_version(),
            "commit": _git_commit(),
            "orders": args.orders,
            "rate": args.rate,
            "duration": args.duration,
            "partitions": args.partitions,
            "replicas": args.replicas,
            "ledger_workers": args.ledger_workers,
            "run": run,
            "command": "uv run python tests/bench/run.py " + " ".join(sys.argv[1:]),
            # whose CPU time the broker's and FerretDB's rows are (None: not measured)
            "stack_pids": pids,
        },
        "replay": {},
        "octopus_calls_per_order": {},
        "notes": [
            "Octopus sandbox quota off. CCV sandbox rate limits raised, and ingest-ccv's own "
            "request budget with them: CCV allows 150 GETs per resource per minute per API "
            "key, and each order costs two (order + rows), so one real CCV shop tops out "
            "near 1.2 orders/s; 50 orders/s is the whole platform's load, many shops.",
            "ingest-prestashop's request budget raised likewise: by default a connection may "
            "make 300 webservice requests a minute (hosting providers limit PrestaShop, "
            "PrestaShop itself does not), so one real shop is ingested at most at 300 / "
            "(requests per order) orders a minute.",
            "Bol.com's rate limits are kept (the sandbox's defaults, bol.md §7): one seller "
            "account is ingested at most at what order-detail allows (25 a second, ingest-bol "
            "spending 90 %); ingest-bol polls every 3 s here (300 s in production), so quiet "
            "polls (four list calls each) weigh more per order here than they would there. "
            "The dashboard is not started (it reads every topic).",
            "The Kafka broker and FerretDB are shared with anything else that uses the local "
            "stack while the bench runs (another test run, the demo): their CPU per order then "
            "includes that work too, and so do the phase's total and the ceiling.",
            "Where the time goes, what the profile found and fixed, and why targets are "
            "missed on this machine: tests/bench/README.md.",
        ],
    }
    phases = [f"{r}" for r in args.replicas]
    historic = {p: historic_orders(run, f"r{p}", args.orders) for p in phases}

    if args.ledger_workers is not None:  # inherited by the processes (ManagedProcess env)
        os.environ["KOPPEL_LEDGER_OCTOPUS_CONSUMER_WORKERS"] = str(args.ledger_workers)
    # The sandbox's limits are raised below; ingest-ccv's client budget must follow, or it
    # throttles itself to one real shop's limit (inherited like the line above).
    os.environ["KOPPEL_INGEST_CCV_CCV_GET_BUDGET"] = str(10**6)
    os.environ["KOPPEL_INGEST_CCV_CCV_WRITE_BUDGET"] = str(10**6)
    os.environ["KOPPEL_LEDGER_SNELSTART_CONCURRENT_REQUESTS"] = "50"
    # ingest-prestashop's request budget per connection (300 a minute: a hosting limit) would
    # measure the budget, not the service; the sandbox has no limit.
    os.environ["KOPPEL_INGEST_PRESTASHOP_PRESTASHOP_REQUEST_BUDGET"] = str(10**6)
    console.print("starting sandboxes and services …")
    group = await asyncio.to_thread(start_system, config)
    if args.profile:  # the same services, restarted under the profiler
        await asyncio.to_thread(group["ledger-octopus"].stop)
        profiled = ledger_process(
            config, "ledger-octopus", config.ports.ledger_octopus, profile=True
        )
        await asyncio.to_thread(group.start, profiled, 60.0)
        ingest = group["ingest-ccv"]
        await asyncio.to_thread(ingest.stop)
        report = config.log_dir / "ingest-ccv.profile.txt"
        ingest.args = [sys.executable, str(HERE / "profiled.py"), ingest.args[-1], str(report)]
        await asyncio.to_thread(group.start, ingest, 60.0)
    bookings = Bookings(config.kafka_bootstrap, isolation + LEDGER_BOOKINGS.name)
    sampler = RssSampler(group)
    meter = CpuMeter(group, stack)
    expected: dict[str, Decimal] = {}
    try:
        async with (
            CcvShopControl(config.url(config.ports.ccvshop)) as shop,
            OctopusControl(config.url(config.ports.octopus), timeout=300) as octopus,
            SnelStartControl(config.url(config.ports.snelstart), timeout=300) as snelstart,
        ):
            await octopus.set_quota(None)
            await snelstart.set_rate_limits(per_minute=None, per_hour=None, concurrent=None)
            await shop.set_rate_limits(get=10**9, write=10**9, total=10**9)
            await publish_demo_connection(config, demo_connection(config))
            await wait_until_connected(config)
            await bookings.start()
            sampler.start()

            console.rule("1. floor")
            payloads = next(iter(historic.values())).payloads
            results["floor"] = await floor(config.kafka_bootstrap, floor_topic, payloads)
            console.print(results["floor"])

            # warm-up: the connection's first order fills caches (login, reference data)
            warm = historic_orders(run, "warm", 20)
            await replay(
                config.kafka_bootstrap, isolation + SHOP_ORDERS.name, warm, bookings, "warm-up"
            )
            expected.update(warm.totals)

            replays, calls_per_order = await octopus_replays(
                config, group, octopus, bookings, sampler, meter, run, args, historic, expected
            )
            results["replay"].update(replays)
            results["octopus_calls_per_order"].update(calls_per_order)

            if args.snelstart_orders:
                results.update(
                    await snelstart_replay(
                        config,
                        group,
                        snelstart,
                        bookings,
                        sampler,
                        meter,
                        run,
                        args.snelstart_orders,
                    )
                )

            if args.asperion_orders:
                console.rule("7. replay into Asperion")
                results.update(
                    await asperion_phase(
                        config, group, bookings, sampler, run, args.asperion_orders, meter
                    )
                )

            if args.prestashop_orders:
                console.rule("8. PrestaShop ingest")
                results.update(
                    await prestashop_phase(
                        config,
                        group,
                        bookings,
                        sampler,
                        args.prestashop_orders,
                        cpu_seconds,
                        meter=meter,
                    )
                )

            if args.bol_orders:
                console.rule("9. Bol.com ingest")
                results.update(
                    await bol_phase(
                        config,
                        group,
                        bookings,
                        sampler,
                        args.bol_orders,
                        cpu_seconds,
                        meter=meter,
                    )
                )

            outcome, calls, totals = await realtime_phase(
                shop, octopus, bookings, sampler, meter, args.rate, args.duration
            )
            results["realtime"] = outcome
            results["octopus_calls_per_order"]["realtime, steady state"] = calls
            expected.update(totals)

            console.rule("books")
            results["books"] = await verify_books(octopus, expected)
            results["duplicates_on_topic"] = sum(
                1 for ids in bookings.event_ids.values() if len(ids) > 1
            )
            results["other_booking_statuses"] = bookings.other
            console.print(results["books"])
        peaks: dict[str, int] = {}
        for phase_peaks in sampler.peaks.values():
            for name, kb in phase_peaks.items():
                if name in SERVICES:
                    peaks[name] = max(peaks.get(name, 0), kb)
        results["peak_rss_mb"] = {name: _mb(kb) for name, kb in sorted(peaks.items())}
        results["peak_rss_mb_by_phase"] = {
            phase: {name: _mb(kb) for name, kb in sorted(p.items())}
            for phase, p in sampler.peaks.items()
        }
        results["vm_hwm_mb"] = {n: _mb(kb) for n, kb in sampler.high_water_marks().items()}
    finally:
        await sampler.stop()
        await bookings.stop()
        console.print("stopping sandboxes and services …")
        await asyncio.to_thread(group.stop_all)
        if not args.keep:
            with contextlib.suppress(Exception):
                await delete_run_leftovers(config)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv, __doc__.split("\n\n")[0])
    if args.snelstart_orders is None:
        args.snelstart_orders = args.orders
    if args.asperion_orders is None:
        args.asperion_orders = min(args.orders, ASPERION_DEFAULT_MAX)
    if args.prestashop_orders is None:
        args.prestashop_orders = min(args.orders, PRESTASHOP_DEFAULT_MAX)
    if args.bol_orders is None:
        args.bol_orders = min(args.orders, BOL_DEFAULT_MAX)
    # SIGTERM (timeout, kill) must run the clean-up too: the services run in sessions of
    # their own and would otherwise go on loading the machine during the next run.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    results = asyncio.run(bench(args))
    print_table(results)
    args.results.mkdir(parents=True, exist_ok=True)
    write_results(results, args.results / "RESULTS.md", args.results / "results.json")
    console.print(f"written: {args.results / 'RESULTS.md'}, {args.results / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
