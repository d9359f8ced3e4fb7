"""What the run watches while it runs: the ledgers' booking events, the read-back checks and
the alerts (topics, from their start), and every line each service writes to its log.

The topic followers are the benchmark's `Bookings` (tests/bench/run.py: one consumer from
the topic's start, kept up through broker restarts by aiokafka), with what they remember
per event made ours: per connection and order number.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fault_bench import bench

BOOKED = ("booked", "replaced")


class OrderEvents(bench.Bookings):
    """`ledger.bookings.v1`: per (connection, order number), when it was first booked, the
    distinct events of each status, and the order ref behind the number."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(bootstrap, topic)
        self.booked_at: dict[tuple[str, str], float] = {}
        self.statuses: dict[tuple[str, str], dict[str, set[str]]] = {}
        self.refs: dict[tuple[str, str], str] = {}
        self.failures: Counter[str] = Counter()  # reason codes of failed bookings

    def _seen(self, event: dict[str, Any], now: float) -> None:
        key = (str(event["connection_id"]), str(event["order"]["order_number"]))
        status = str(event["status"])
        self.refs.setdefault(key, str(event["order_ref"]))
        self.statuses.setdefault(key, {}).setdefault(status, set()).add(str(event["event_id"]))
        if status in BOOKED:
            self.booked_at.setdefault(key, now)
        elif status == "failed":
            self.failures[str((event.get("failure") or {}).get("reason_code"))] += 1

    def booked(self, key: tuple[str, str]) -> bool:
        return key in self.booked_at

    def count(self, status: str, key: tuple[str, str]) -> int:
        return len(self.statuses.get(key, {}).get(status, ()))


class Published(bench.Bookings):
    """`shop.orders.v1`: when each (connection, order number) was first published, so a late
    booking can be told apart: still in the ingest, or waiting in the ledger."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(bootstrap, topic)
        self.published_at: dict[tuple[str, str], float] = {}

    def _seen(self, event: dict[str, Any], now: float) -> None:
        number = (event.get("order") or {}).get("order_number")
        if number is not None:
            self.published_at.setdefault((str(event["connection_id"]), str(number)), now)


class Alerts(bench.Bookings):
    """`ops.alerts.v1` and `ledger.checks.v1` (mismatches): every cause the merchant must hear
    about once, by (connection, kind, cause), with its order number when it has one."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(bootstrap, topic)
        self.causes: dict[tuple[str, str, str], str | None] = {}
        self.events = 0

    def _seen(self, event: dict[str, Any], now: float) -> None:
        self.events += 1
        connection = str(event["connection_id"])
        number = (event.get("order") or {}).get("order_number")
        if event.get("event_type") == "check":
            if event.get("outcome") != "mismatch":
                return
            cause = f"{event['order_ref']}:r{event['order_revision']}"
            self.causes.setdefault((connection, "mismatch", cause), number)
        elif event.get("kind") != "connection_restored":
            key = (connection, str(event["kind"]), str(event["cause_id"]))
            self.causes.setdefault(key, None if number is None else str(number))


# ==== logs ========================================================================================

WARNING_OR_WORSE = {"WARNING", "ERROR", "CRITICAL"}


@dataclass
class LogLine:
    at: float  # monotonic, when the meter read it (within its interval)
    service: str
    level: str  # the JSON line's level; "TEXT" for a line that is not a JSON log line
    logger: str
    message: str


@dataclass
class LogMeter:
    """Reads every service's log file once a second: lines per second per service, and every
    line at WARNING or worse (or not JSON at all: tracebacks, crashes) kept for the report."""

    folder: Path
    services: set[str]
    interval: float = 1.0
    per_second: list[tuple[float, str, int, int]] = field(default_factory=list)
    notable: list[LogLine] = field(default_factory=list)
    _offsets: dict[str, int] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        for service in self.services:  # what was written before the run is not counted
            path = self.folder / f"{service}.log"
            self._offsets[service] = path.stat().st_size if path.exists() else 0
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await asyncio.to_thread(self.read_once)

    def read_once(self) -> None:
        now = time.monotonic()
        for service in self.services:
            path = self.folder / f"{service}.log"
            try:
                with path.open("rb") as log:
                    log.seek(self._offsets.get(service, 0))
                    data = log.read()
            except FileNotFoundError:
                continue
            end = data.rfind(b"\n") + 1  # a half-written last line is read next time
            if end == 0:
                continue
            self._offsets[service] = self._offsets.get(service, 0) + end
            lines = data[:end].splitlines()
            notable = 0
            for raw in lines:
                line = _parse(now, service, raw)
                if line is not None:
                    notable += 1
                    self.notable.append(line)
            self.per_second.append((now, service, len(lines), notable))

    def lines_between(self, start: float, end: float) -> tuple[int, int]:
        """(all lines, lines at WARNING or worse) read in [start, end)."""
        rows = [r for r in self.per_second if start <= r[0] < end]
        return sum(r[2] for r in rows), sum(r[3] for r in rows)

    def peak_notable_per_second(self, start: float, end: float) -> int:
        """The most lines at WARNING or worse any one interval of the window had, all
        services together."""
        per_tick: Counter[float] = Counter()
        for at, _, _, notable in self.per_second:
            if start <= at < end:
                per_tick[round(at, 0)] += notable
        return max(per_tick.values(), default=0)

    def top_notable(self, start: float, end: float, n: int = 5) -> list[tuple[str, int]]:
        counted = Counter(
            f"{line.service} {line.level} {line.logger}: {line.message[:100]}"
            for line in self.notable
            if start <= line.at < end
        )
        return counted.most_common(n)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.to_thread(self.read_once)


def _parse(now: float, service: str, raw: bytes) -> LogLine | None:
    """A line worth keeping (WARNING or worse, or not a JSON log line), else None."""
    text = raw.decode(errors="replace")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict) or "level" not in data:
        return LogLine(now, service, "TEXT", "-", text.strip())
    level = str(data.get("level", "")).upper()
    if level not in WARNING_OR_WORSE:
        return None
    return LogLine(now, service, level, str(data.get("logger", "")), str(data.get("message", "")))
