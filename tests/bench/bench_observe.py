"""What the benchmark watches while it runs: the bookings topic, each process' memory and the
ledgers' CPU time, and the progress bars."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer
from bench_cpu import cpu_seconds
from koppel_demo.processes import ManagedProcess, ProcessGroup
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console()
LEDGERS = ("ledger-octopus", "ledger-octopus-2", "ledger-snelstart", "ledger-asperion")


class Bookings:
    """Follows `ledger.bookings.v1` from the start: when each order was first seen booked."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap, self.topic = bootstrap, topic
        self.first_seen: dict[str, float] = {}  # order_ref -> monotonic time
        self.by_number: dict[str, float] = {}  # order number -> monotonic time
        self.event_ids: dict[str, set[str]] = {}  # order_ref -> distinct booked event ids
        self.other: dict[str, int] = {}  # status -> count (failed, held, ...)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            self.topic,
            bootstrap_servers=self.bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        self._task = asyncio.create_task(self._run(consumer))

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=200, max_records=5000)
                now = time.monotonic()
                for records in batches.values():
                    for record in records:
                        self._seen(json.loads(record.value), now)
        finally:
            await consumer.stop()

    def _seen(self, event: dict[str, Any], now: float) -> None:
        status = event.get("status")
        if status not in ("booked", "replaced"):
            self.other[status] = self.other.get(status, 0) + 1
            return
        ref = event["order_ref"]
        self.event_ids.setdefault(ref, set()).add(event["event_id"])
        self.first_seen.setdefault(ref, now)
        number = (event.get("order") or {}).get("order_number")
        if number is not None:
            self.by_number.setdefault(str(number), now)

    def count(self, refs: Iterable[str]) -> int:
        return sum(1 for r in refs if r in self.first_seen)

    def count_numbers(self, numbers: Iterable[str]) -> int:
        return sum(1 for n in list(numbers) if n in self.by_number)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class RssSampler:
    """Peak VmRSS per process per phase, sampled from /proc every 0.2 s."""

    def __init__(self, group: ProcessGroup) -> None:
        self.group = group
        self.phase: str | None = None
        self.peaks: dict[str, dict[str, int]] = {}  # phase -> name -> kB
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            if self.phase is not None:
                peaks = self.peaks.setdefault(self.phase, {})
                for name, process in list(self.group.processes.items()):
                    kb = _proc_kb(process, "VmRSS")
                    if kb is not None:
                        peaks[name] = max(peaks.get(name, 0), kb)
            await asyncio.sleep(0.2)

    def high_water_marks(self) -> dict[str, int]:
        marks = {}
        for name, process in self.group.processes.items():
            kb = _proc_kb(process, "VmHWM")
            if kb is not None:
                marks[name] = kb
        return marks

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _proc_kb(process: ManagedProcess, field_name: str) -> int | None:
    if process.process is None or process.process.poll() is not None:
        return None
    try:
        with open(f"/proc/{process.process.pid}/status") as status:
            for row in status:
                if row.startswith(field_name + ":"):
                    return int(row.split()[1])
    except OSError:
        return None
    return None


def ledger_cpu(group: ProcessGroup) -> dict[str, float]:
    found = {}
    for name in LEDGERS:
        if name in group.processes:
            seconds = cpu_seconds(group[name])
            if seconds is not None:
                found[name] = seconds
    return found


def cpu_ms_per_order(
    before: dict[str, float], after: dict[str, float], booked: int
) -> dict[str, float]:
    return {
        name: round(1000 * (after[name] - before.get(name, 0.0)) / max(booked, 1), 2)
        for name in after
        if after[name] - before.get(name, 0.0) > 0
    }


# ==== progress ====================================================================================


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description:<24}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=console,
    )


async def follow(
    progress: Progress, task: Any, count: Any, total: int, started: float, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        done = count()
        elapsed = max(time.monotonic() - started, 1e-6)
        progress.update(task, completed=done, rate=f"{done / elapsed:8.0f}/s")
        if done >= total:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.25)
