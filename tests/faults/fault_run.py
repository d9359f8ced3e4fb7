"""The fault-injection run: every service and sandbox as processes on the run's own Kafka and
FerretDB, orders placed in every shop → ledger pair at a steady rate, faults injected one
at a time at seeded moments, then the books of every ledger checked (see README.md).

`run(options)` is the whole run and returns its results; `run.py` is the command line,
`test_faults_small.py` the small run in the test suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import random
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from fault_bench import bench
from fault_books import (
    PairBooks,
    check_alert_mails,
    check_books,
    check_dead_letters,
    read_mails,
)
from fault_kinds import KINDS, Fault, Injector, plan_faults
from fault_observe import Alerts, LogMeter, OrderEvents, Published
from fault_orders import PlannedOrder, plan_orders
from fault_pairs import CcvShop, PairSpec, PlacedOrder, available_pairs
from fault_proxy import FaultProxy, ProxyThread
from fault_report import recoveries
from fault_secrets import scan_run
from fault_shops import BolShop
from fault_stack import OwnStack
from koppel_contracts import LEDGER_BOOKINGS, LEDGER_CHECKS, OPS_ALERTS, SHOP_ORDERS
from koppel_demo.processes import ProcessGroup
from koppel_demo.system import SystemConfig, create_topics, service_process, start_system
from koppel_ingest_bol.settings import DEFAULT_RATE_LIMITS as BOL_RATE_LIMITS
from koppel_sandbox_ccvshop import CcvShopControl
from koppel_sandbox_octopus import OctopusControl
from koppel_sandbox_snelstart import SnelStartControl

REPO = Path(__file__).resolve().parent.parent.parent
SERVICES = (
    "ingest-ccv",
    "ingest-prestashop",
    "ingest-bol",
    "ledger-octopus",
    "ledger-snelstart",
    "ledger-asperion",
    "notifier",
    "dashboard",
)
LEDGERS = ("ledger-octopus", "ledger-snelstart", "ledger-asperion")
PLACING_CONCURRENCY = 8
# After a fault clears, the next one waits until every order placed before has been booked,
# at most this long (beyond it the run goes on; the report still measures when they were).
RECOVERY_CAP_SECONDS = 330.0
# The end: waiting for the last bookings gives up after this long without progress (longer
# than ingest-ccv's reconciliation poll, so what only the poll finds is still counted).
SETTLE_STALL_SECONDS = 420.0
FAULTS_COOKIE_SECRET = "faults-cookie-secret-0123456789abcdef0123"


@dataclass
class Options:
    orders: int = 10_000
    seed: int = 1
    faults: list[str] = field(default_factory=lambda: list(KINDS))
    duration: float | None = None  # seconds over which the orders are placed
    max_faults: int | None = None
    pace: float = 1.0  # < 1: shorter outages and gaps between faults (the small run)
    # Wait until every order placed before a fault cleared is booked (at most
    # RECOVERY_CAP_SECONDS) before the next fault: recovery times are then each fault's own.
    # Off, faults follow each other after their gaps (the small run: more faults in less time).
    wait_for_recovery: bool = True
    keep: bool = False
    say: Callable[[str], None] = print

    def placing_seconds(self) -> float:
        # ~8 orders a second is what this 2-core machine books with faults going on.
        return self.duration if self.duration is not None else max(60.0, self.orders / 8)


@dataclass
class Run:
    options: Options
    config: SystemConfig
    group: ProcessGroup
    pairs: list[PairSpec]
    events: OrderEvents
    published: Published
    alerts: Alerts
    logs: LogMeter
    rng: random.Random
    placed: list[PlacedOrder] = field(default_factory=list)
    place_errors: list[str] = field(default_factory=list)
    cancelled: dict[str, set[str]] = field(default_factory=dict)  # pair -> numbers
    placed_per_shop: dict[str, int] = field(default_factory=dict)
    placing_done: bool = False

    def pair(self, name: str) -> PairSpec:
        return next(p for p in self.pairs if p.name == name)

    def key(self, order: PlacedOrder) -> tuple[str, str]:
        return (self.pair(order.pair).connection_id, order.number)

    def booked(self, order: PlacedOrder) -> bool:
        return self.events.booked(self.key(order))

    def waiting(self, before: float | None = None) -> list[PlacedOrder]:
        """Orders (placed before `before`) that should be booked and are not yet."""
        return [
            o
            for o in self.placed
            if not o.refused and (before is None or o.placed_at <= before) and not self.booked(o)
        ]

    def unsettled(self) -> list[PlacedOrder]:
        """Orders whose end state is not reached: booked, credited once cancelled, or (the
        refused ones) failed."""
        found = []
        for order in self.placed:
            key = self.key(order)
            if order.refused:
                if not self.events.count("failed", key):
                    found.append(order)
            elif not self.events.booked(key) or (
                order.number in self.cancelled.get(order.pair, set())
                and not self.events.count("credited", key)
            ):
                found.append(order)
        return found


# ==== the system ==================================================================================


def _raise_client_budgets() -> None:
    """The sandboxes' per-key limits are raised (below) so the run measures Koppel under faults,
    not one shop's quota; the services' own request budgets follow (as in the benchmark).
    The processes inherit these from this process' environment."""
    os.environ["KOPPEL_INGEST_CCV_CCV_GET_BUDGET"] = str(10**6)
    os.environ["KOPPEL_INGEST_CCV_CCV_WRITE_BUDGET"] = str(10**6)
    os.environ["KOPPEL_LEDGER_SNELSTART_CONCURRENT_REQUESTS"] = "50"
    os.environ["KOPPEL_INGEST_PRESTASHOP_PRESTASHOP_REQUEST_BUDGET"] = str(10**6)
    os.environ["KOPPEL_INGEST_BOL_RATE_LIMITS"] = json.dumps(
        {group: [10**6, window] for group, (_, window) in BOL_RATE_LIMITS.items()}
    )


def _dashboard(config: SystemConfig) -> Any:
    port = config.ports.dashboard  # where the secrets scan reads its pages
    return service_process(
        config,
        "dashboard",
        "KOPPEL_DASHBOARD_",
        port,
        cookie_secret=FAULTS_COOKIE_SECRET,
        secure_cookies="false",
        smtp_host="127.0.0.1",
        smtp_port=config.smtp_port or config.ports.smtp,
        smtp_starttls="false",
        support_email="support@faults.example",
        public_base_url=config.url(port),
    )


async def _open_sandboxes(config: SystemConfig, pairs: list[PairSpec]) -> None:
    """Quotas and per-key limits off (see `_raise_client_budgets`)."""
    for pair in pairs:
        if isinstance(pair.shop, CcvShop):
            url = config.url(getattr(config.ports, pair.shop.port_field))
            async with CcvShopControl(url) as shop:
                await shop.set_rate_limits(get=10**9, write=10**9, total=10**9)
    async with OctopusControl(config.url(config.ports.octopus)) as octopus:
        await octopus.set_quota(None)
    async with SnelStartControl(config.url(config.ports.snelstart)) as snelstart:
        await snelstart.set_rate_limits(per_minute=None, per_hour=None, concurrent=None)
    if any(isinstance(pair.shop, BolShop) for pair in pairs):
        from koppel_demo.bol import bol_control

        async with bol_control(config) as bol:
            for group in await bol.rate_limits():
                await bol.set_rate_limit(group, 10**9)


def _proxies(config: SystemConfig, pairs: list[PairSpec], rng: random.Random) -> ProxyThread:
    fields: dict[str, str] = {}
    for pair in pairs:
        fields.update(pair.sandbox_ports)
    return ProxyThread(
        [
            FaultProxy(name, getattr(config.ports, port_field), rng.randrange(2**32))
            for name, port_field in sorted(fields.items())
        ]
    )


def _proxied(config: SystemConfig, pairs: list[PairSpec], proxies: ProxyThread) -> SystemConfig:
    """The config the services' connections are made from: sandboxes behind the proxies."""
    ports: dict[str, int] = {}
    for pair in pairs:
        for sandbox, port_field in pair.sandbox_ports.items():
            ports[port_field] = proxies[sandbox].port
    return dataclasses.replace(config, ports=dataclasses.replace(config.ports, **ports))


def _targets(run: Run, proxies: ProxyThread) -> dict[str, list[str]]:
    running = set(run.group.processes)
    sandboxes = sorted(proxies.proxies)
    ccv = sorted({p.shop.sandbox for p in run.pairs if isinstance(p.shop, CcvShop)})
    return {
        "kill": [s for s in SERVICES if s in running],
        "broker": ["kafka"],
        "database": ["ferretdb"],
        "5xx": sandboxes,
        "429": sandboxes,
        "timeout": sandboxes,
        "slow": sandboxes,
        "drop": sandboxes,
        "duplicate": ccv,
        "replay": [s for s in LEDGERS if s in running],
    }


# ==== placing, cancelling, faults =================================================================


async def _place(run: Run, planned: list[PlannedOrder], seconds: float) -> None:
    say = run.options.say
    interval = seconds / max(len(planned), 1)
    started = time.monotonic()
    in_flight = asyncio.Semaphore(PLACING_CONCURRENCY)

    async def one(order: PlannedOrder) -> None:
        pair = run.pair(order.pair)
        async with in_flight:
            for attempt in range(3):
                try:
                    placed = await pair.shop.place(run.config, order)
                    break
                except Exception as error:  # counted; the sandbox's control API hiccuped
                    if attempt == 2:
                        run.place_errors.append(f"{order.pair} #{order.index}: {error!r}")
                        return
                    await asyncio.sleep(1)
        run.placed.append(placed)
        shop = pair.shop.sandbox
        run.placed_per_shop[shop] = run.placed_per_shop.get(shop, 0) + 1

    tasks = []
    last_said = started
    for i, order in enumerate(planned):
        delay = started + i * interval - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(order)))
        if time.monotonic() - last_said > 15:
            last_said = time.monotonic()
            booked = sum(1 for o in run.placed if run.booked(o))
            say(f"  placed {len(run.placed):,}/{len(planned):,}, booked {booked:,}")
    await asyncio.gather(*tasks)
    run.placing_done = True


async def _cancel_when_booked(run: Run) -> None:
    """Orders planned to be cancelled are cancelled in the shop once booked."""
    while True:
        for order in list(run.placed):
            done = run.cancelled.setdefault(order.pair, set())
            if order.cancel and order.number not in done and run.booked(order):
                with contextlib.suppress(Exception):  # tried again next round
                    await run.pair(order.pair).shop.cancel(run.config, order)
                    done.add(order.number)
        await asyncio.sleep(1)


async def _inject_all(run: Run, injector: Injector, faults: list[Fault]) -> None:
    say = run.options.say
    for fault in faults:
        await asyncio.sleep(fault.gap)
        if run.placing_done:
            fault.note = "not injected: every order was placed already"
            continue
        say(f"fault: {fault.label} (hold {fault.hold:g} s, param {fault.param:g})")
        try:
            await injector.inject(fault)
        except Exception as error:  # the run goes on; the report says which fault failed
            fault.note = f"injecting failed: {error!r}"
            say(f"  {fault.note}")
            continue
        assert fault.cleared_at is not None
        if not run.options.wait_for_recovery:
            continue
        cap = RECOVERY_CAP_SECONDS + (fault.param if fault.kind == "429" else 0)
        cleared = fault.cleared_at

        def recovered(cleared: float = cleared) -> bool:
            return not run.waiting(before=cleared)

        await _until(recovered, cleared + cap)
        left = len(run.waiting(before=fault.cleared_at))
        say(
            f"  cleared; {'every order booked' if not left else f'{left} still waiting'} after "
            f"{time.monotonic() - fault.cleared_at:.0f} s"
        )


async def _until(done: Callable[[], bool], deadline: float) -> None:
    while time.monotonic() < deadline:
        if done():
            return
        await asyncio.sleep(1)


async def _settle(run: Run) -> None:
    say = run.options.say
    left, moved = len(run.unsettled()), time.monotonic()
    while left and time.monotonic() - moved < SETTLE_STALL_SECONDS:
        await asyncio.sleep(2)
        now_left = len(run.unsettled())
        if now_left < left:
            left, moved = now_left, time.monotonic()
            say(f"  settling: {left} order(s) not at their end state yet")
        else:
            left = now_left


async def _wait_for_mails(run: Run, folder: Path, grouping: float) -> None:
    """Until no alert and no mail has come for a while (the grouping window and a send)."""
    quiet = grouping + 10
    seen = (-1, -1)
    changed = time.monotonic()
    while time.monotonic() - changed < quiet:
        mails = await asyncio.to_thread(lambda: len(list(folder.glob("*.eml"))))
        now = (len(run.alerts.causes), mails)
        if now != seen:
            seen, changed = now, time.monotonic()
        await asyncio.sleep(1)


def _pages_to_read(run: Run) -> dict[str, list[str]]:
    """Per connection, the order pages the secrets scan reads: a refused order's (it shows
    the ledger's error) and a booked one's, under Koppel's order ref (CCV's order id, not
    its order number)."""
    pages: dict[str, list[str]] = {}
    for pair in run.pairs:
        mine = [o for o in run.placed if o.pair == pair.name and run.key(o) in run.events.refs]
        picked = [o for o in mine if o.refused][:1] + [o for o in mine if not o.refused][:1]
        pages[pair.connection_id] = [run.events.refs[run.key(o)] for o in picked]
    return pages


async def _topics(config: SystemConfig) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=config.kafka_bootstrap)
    await admin.start()
    try:
        return [t for t in await admin.list_topics() if t.startswith(config.isolation)]
    finally:
        await admin.close()


# ==== the run =====================================================================================


async def run(options: Options) -> dict[str, Any]:
    began, print_line = time.monotonic(), options.say

    def say(text: str) -> None:
        print_line(f"{time.monotonic() - began:6.0f} s  {text}")

    options = dataclasses.replace(options, say=say)
    # This process' own topic followers: a broker restart is expected here, not news.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    rng = random.Random(options.seed)
    name = uuid.uuid4().hex[:6]
    folder = REPO / ".local" / "faults" / name
    started_wall = datetime.now(UTC)
    say(f"fault run {name}: seed {options.seed}, {options.orders:,} orders, folder {folder}")
    stack = OwnStack.in_folder(folder)
    say("starting the run's own Kafka and FerretDB …")
    endpoints = await asyncio.to_thread(stack.start)
    grouping = 5.0
    config = SystemConfig.isolated(
        endpoints.kafka_bootstrap,
        endpoints.mongodb_uri,
        folder,
        "faults",
        # Production defaults where they decide how fast a fault is recovered from: the
        # reconciliation poll of ingest-ccv (300 s) and the ledgers' first retry (30 s).
        reconcile_interval_seconds=300.0,
        ledger_retry_initial_seconds=30.0,
        grouping_window_seconds=grouping,
        snelstart_requests_per_minute=10.0**9,
        # PrestaShop has no webhooks: its orders arrive a poll later (300 s in production).
        prestashop_poll_interval_seconds=10.0,
        bol_poll_interval_seconds=10.0,  # the same for Bol.com (no webhooks either)
    )
    _raise_client_budgets()
    await create_topics(config)
    group = ProcessGroup()
    proxies: ProxyThread | None = None
    results: dict[str, Any] = {}
    observers: list[Any] = []
    tasks: list[asyncio.Task[Any]] = []
    try:
        say("starting sandboxes and services …")
        group = await asyncio.to_thread(start_system, config)
        if "dashboard" not in group.processes:
            await asyncio.to_thread(group.start, _dashboard(config), 90.0)
        pairs = available_pairs(set(group.processes))
        say("pairs: " + ", ".join(p.name for p in pairs))
        proxies = _proxies(config, pairs, rng)
        proxies.start()
        proxied = _proxied(config, pairs, proxies)
        await _open_sandboxes(config, pairs)
        events = OrderEvents(config.kafka_bootstrap, config.isolation + LEDGER_BOOKINGS.name)
        alerts = Alerts(config.kafka_bootstrap, config.isolation + OPS_ALERTS.name)
        checks = Alerts(config.kafka_bootstrap, config.isolation + LEDGER_CHECKS.name)
        checks.causes = alerts.causes  # mismatches are causes like any alert
        published = Published(config.kafka_bootstrap, config.isolation + SHOP_ORDERS.name)
        for observer in (events, published, alerts, checks):
            await observer.start()
            observers.append(observer)
        services = {s for s in SERVICES if s in group.processes}
        logs = LogMeter(config.log_dir, services)
        current = Run(options, config, group, pairs, events, published, alerts, logs, rng)
        preexisting: dict[str, set[str]] = {}
        for pair in pairs:
            await pair.connect(config, proxied)
            preexisting[pair.name] = await pair.shop.preexisting(config)
        planned = plan_orders(options.orders, [p.name for p in pairs], rng)
        faults = plan_faults(options.faults, _targets(current, proxies), rng, options.max_faults)
        for fault in faults:
            fault.hold = round(fault.hold * options.pace, 1)
            fault.gap = round(fault.gap * options.pace, 1)
        injector = Injector(
            config,
            group,
            stack,
            proxies,
            {
                name: getattr(config.ports, port_field)
                for pair in pairs
                for name, port_field in pair.sandbox_ports.items()
            },
            current.placed_per_shop,
            rng,
            started_wall,
        )
        say(f"{len(faults)} fault(s) planned; placing over {options.placing_seconds():.0f} s")
        logs.start()
        run_started = time.monotonic()
        tasks.append(asyncio.create_task(_cancel_when_booked(current)))
        placing = asyncio.create_task(_place(current, planned, options.placing_seconds()))
        injecting = asyncio.create_task(_inject_all(current, injector, faults))
        tasks += [placing, injecting]
        await placing
        await injecting
        placed_at = time.monotonic()
        say("every order placed; waiting for the last bookings …")
        await _settle(current)
        settled_at = time.monotonic()
        await _wait_for_mails(current, config.mail_dir, grouping)
        await logs.stop()

        say("checking the books …")
        books: list[PairBooks] = []
        for pair in pairs:
            mine = [o for o in current.placed if o.pair == pair.name]
            ledger_books = await pair.ledger.books(config)
            books.append(
                check_books(
                    pair,
                    mine,
                    ledger_books,
                    events,
                    current.cancelled.get(pair.name, set()),
                    preexisting[pair.name],
                )
            )
        mails = read_mails(config.mail_dir)
        say("scanning logs, topics, dashboard pages and mails for secrets in clear …")
        secrets = await scan_run(
            config,
            config.url(config.ports.dashboard) if "dashboard" in group.processes else None,
            _pages_to_read(current),
            {"dashboard cookie secret (the run's)": FAULTS_COOKIE_SECRET},
        )
        results = {
            "meta": {
                "date": started_wall.isoformat(timespec="seconds"),
                "commit": bench._git_commit(),
                "cores": os.cpu_count(),
                "seed": options.seed,
                "orders": options.orders,
                "faults": options.faults,
                "max_faults": options.max_faults,
                "placing_seconds": round(options.placing_seconds(), 1),
                "run": name,
                "pairs": [p.name for p in pairs],
                "placing_took_seconds": round(placed_at - run_started, 1),
                "settled_after_seconds": round(settled_at - placed_at, 1),
            },
            "books": [dataclasses.asdict(b) for b in books],
            "place_errors": current.place_errors,
            "unsettled": [f"{o.pair} {o.number}" for o in current.unsettled()][:20],
            "alerts": check_alert_mails(
                alerts,
                mails,
                {p.connection_id for p in pairs},
                {o.number for o in current.placed},
            ),
            "dead_letters": await check_dead_letters(config.kafka_bootstrap, await _topics(config)),
            "failure_reasons": dict(events.failures),
            "faults": recoveries(current, faults, logs),
            "secrets": secrets.as_dict(),
            "logs": {
                "lines": sum(r[2] for r in logs.per_second),
                "warning_or_worse": sum(r[3] for r in logs.per_second),
                "seconds": round(time.monotonic() - run_started, 1),
                "top": logs.top_notable(run_started, time.monotonic() + 1, 10),
            },
        }
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for observer in observers:
            await observer.stop()
        for pair in available_pairs(set(group.processes)):
            if isinstance(pair.shop, CcvShop):
                await pair.shop.aclose()
        say("stopping sandboxes and services …")
        await asyncio.to_thread(group.stop_all)
        if proxies is not None:
            proxies.stop()
        await asyncio.to_thread(stack.stop, keep_data=options.keep)
        if not options.keep:
            shutil.rmtree(folder / "stack", ignore_errors=True)
    return results
