"""The load the benchmark makes: the raw Kafka floor, historic orders replayed straight onto
`shop.orders.v1`, and realtime orders paid in the CCV sandbox at a steady rate."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from bench_observe import Bookings, console, follow, progress_bar
from koppel_contracts import order_key
from koppel_demo.demo_data import CONNECTION_ID
from koppel_sandbox_ccvshop import CcvShopControl
from koppel_testkit import line, make_order, make_order_event

PRODUCER_OPTIONS: dict[str, Any] = {
    # The same for the floor and the replay publisher, so the ratio compares like with like.
    "acks": "all",
    "enable_idempotence": True,
    "linger_ms": 5,
    "max_batch_size": 512 * 1024,
}


# ==== 1. the floor ================================================================================


async def floor(bootstrap: str, topic: str, payloads: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    n = len(payloads)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"{topic}-consumer",
        auto_offset_reset="earliest",
        enable_auto_commit=True,
    )
    await consumer.start()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **PRODUCER_OPTIONS)
    await producer.start()
    consumed = 0
    last = 0.0
    try:
        with progress_bar() as progress:
            produced_task = progress.add_task("floor: produced", total=n, rate="")
            consumed_task = progress.add_task("floor: consumed", total=n, rate="")
            started = time.monotonic()

            async def consume() -> None:
                nonlocal consumed, last
                while consumed < n:
                    batches = await consumer.getmany(timeout_ms=200, max_records=10000)
                    for records in batches.values():
                        consumed += len(records)
                    if batches:
                        last = time.monotonic()
                    progress.update(consumed_task, completed=consumed)

            consuming = asyncio.create_task(consume())
            futures = []
            for i, (key, value) in enumerate(payloads):
                futures.append(await producer.send(topic, value, key=key))
                if i % 2000 == 0:
                    progress.update(produced_task, completed=i)
            await asyncio.gather(*futures)
            produced_at = time.monotonic()
            progress.update(produced_task, completed=n)
            await asyncio.wait_for(consuming, timeout=300)
    finally:
        await producer.stop()
        await consumer.stop()
    seconds = last - started
    return {
        "messages": n,
        "message_bytes": len(payloads[0][1]),
        "produce_seconds": round(produced_at - started, 3),
        "seconds": round(seconds, 3),
        "messages_per_s": round(n / seconds, 1),
    }


# ==== 2. replay ===================================================================================


@dataclass
class Historic:
    refs: list[str]
    payloads: list[tuple[bytes, bytes]]
    totals: dict[str, Decimal]  # order number -> total incl. VAT
    numbers: dict[str, str] = field(default_factory=dict)  # order_ref -> order number
    # order number -> VAT rate -> VAT the shop charged at that rate (the sum of its lines')
    vat: dict[str, dict[Decimal, Decimal]] = field(default_factory=dict)


def historic_orders(
    run: str, phase: str, n: int, customers: int = 50, connection_id: str = CONNECTION_ID
) -> Historic:
    """N canonical paid orders with distinct refs, a few customers, varying baskets."""
    refs, payloads, totals, numbers, vat = [], [], {}, {}, {}
    with progress_bar() as progress:
        task = progress.add_task(f"generate {phase}", total=n, rate="")
        for i in range(n):
            ref = f"{run}-{phase}-{i:06d}"
            order = make_order(
                order_id=ref,
                order_number=f"B{run}{phase}{i:06d}",
                email=f"klant{i % customers}@bench.example",
                lines=[
                    line("Koffiebonen 1kg", str(1 + i % 5), "24.95", "9"),
                    line("Mok", str(1 + i % 3), "12.10", "21"),
                ],
            )
            event = make_order_event(order, connection_id=connection_id, order_ref=ref)
            refs.append(ref)
            payloads.append(
                (order_key(connection_id, ref).encode(), event.model_dump_json().encode())
            )
            totals[order.order_number] = order.totals.total_incl_vat
            numbers[ref] = order.order_number
            per_rate: dict[Decimal, Decimal] = {}
            for order_line in order.lines:
                charged = order_line.total_incl_vat - order_line.total_excl_vat
                rate = order_line.vat_rate
                per_rate[rate] = per_rate.get(rate, Decimal(0)) + charged
            vat[order.order_number] = per_rate
            if i % 1000 == 0:
                progress.update(task, completed=i)
        progress.update(task, completed=n)
    return Historic(refs, payloads, totals, numbers, vat)


async def replay(
    bootstrap: str,
    topic: str,
    orders: Historic,
    bookings: Bookings,
    label: str,
    *,
    stall_seconds: float = 90.0,
) -> dict[str, Any]:
    n = len(orders.refs)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **PRODUCER_OPTIONS)
    await producer.start()
    stop = asyncio.Event()
    try:
        with progress_bar() as progress:
            published_task = progress.add_task(f"{label}: published", total=n, rate="")
            booked_task = progress.add_task(f"{label}: booked", total=n, rate="")
            started = time.monotonic()
            refs = set(orders.refs)
            follower = asyncio.create_task(
                follow(progress, booked_task, lambda: bookings.count(refs), n, started, stop)
            )
            futures = []
            for i, (key, value) in enumerate(orders.payloads):
                futures.append(await producer.send(topic, value, key=key))
                if i % 2000 == 0:
                    progress.update(published_task, completed=i)
            await asyncio.gather(*futures)
            published = time.monotonic() - started
            progress.update(published_task, completed=n, rate=f"{n / published:8.0f}/s")
            # wait for every booking; give up when nothing moves for `stall_seconds`
            seen, moved = 0, time.monotonic()
            while seen < n:
                await asyncio.sleep(0.5)
                now_seen = bookings.count(refs)
                if now_seen > seen:
                    seen, moved = now_seen, time.monotonic()
                elif time.monotonic() - moved > stall_seconds:
                    break
            stop.set()
            await follower
    finally:
        await producer.stop()
    times = [bookings.first_seen[r] for r in orders.refs if r in bookings.first_seen]
    end = max(times) if times else time.monotonic()
    seconds = end - started
    return {
        "orders": n,
        "booked": len(times),
        "publish_seconds": round(published, 3),
        "seconds": round(seconds, 3),
        "orders_per_s": round(len(times) / seconds, 1) if seconds > 0 else 0.0,
        "complete": len(times) == n,
    }


# ==== 3. realtime =================================================================================

PLACING_CONCURRENCY = 8


async def realtime(
    shop: CcvShopControl, bookings: Bookings, rate: float, duration: float, *, settle: float = 60
) -> tuple[dict[str, Any], dict[str, Decimal]]:
    n = int(rate * duration)
    paid_at: dict[str, float] = {}
    totals: dict[str, Decimal] = {}
    errors = 0
    stop = asyncio.Event()
    # A few orders in flight at most: an unbounded pile of requests made httpcore's pool
    # spend the bench's own CPU (it scans every queued request per connection).
    in_flight = asyncio.Semaphore(PLACING_CONCURRENCY)

    async def one() -> None:
        async with in_flight:
            await place()

    async def place() -> None:
        nonlocal errors
        try:
            order = await shop.seed_order()
            number = str(order["ordernumber_full"])
            totals[number] = Decimal(str(order["total_price"]))
            paid_at[number] = time.monotonic()  # the payment is what makes Koppel book it
            await shop.mark_paid(order["id"])
        except Exception as error:  # counted; the run goes on
            errors += 1
            console.print(f"[red]placing an order failed: {error!r}")

    with progress_bar() as progress:
        placed_task = progress.add_task(f"realtime {rate:g}/s: paid", total=n, rate="")
        booked_task = progress.add_task("realtime: booked", total=n, rate="")
        started = time.monotonic()
        follower = asyncio.create_task(
            follow(progress, booked_task, lambda: bookings.count_numbers(paid_at), n, started, stop)
        )
        tasks = []
        for i in range(n):
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one()))
            progress.update(placed_task, completed=i + 1)
        await asyncio.gather(*tasks)
        placing_seconds = time.monotonic() - started
        deadline = time.monotonic() + settle
        while time.monotonic() < deadline:  # polling the bookings follower's counters
            if bookings.count_numbers(paid_at) >= len(paid_at):
                break
            await asyncio.sleep(0.2)
        stop.set()
        await follower
    latencies = sorted(
        (bookings.by_number[num] - t) * 1000
        for num, t in paid_at.items()
        if num in bookings.by_number
    )
    result: dict[str, Any] = {
        "rate_per_s": rate,
        "planned": n,
        "placed": len(paid_at),
        "booked": len(latencies),
        "place_errors": errors,
        "achieved_rate_per_s": round(len(paid_at) / placing_seconds, 1),
    }
    if latencies:
        result.update(
            p50_ms=round(_percentile(latencies, 50), 1),
            p95_ms=round(_percentile(latencies, 95), 1),
            p99_ms=round(_percentile(latencies, 99), 1),
            max_ms=round(latencies[-1], 1),
            mean_ms=round(statistics.fmean(latencies), 1),
        )
    return result, totals


def _percentile(values: list[float], p: float) -> float:
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)
