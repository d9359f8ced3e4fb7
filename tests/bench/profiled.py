"""Run a service module with its time accounted for: `python tests/bench/profiled.py
koppel_ledger_octopus <report.txt>`. Used by `run.py --profile`.

On exit (SIGTERM → clean shutdown) it writes to the report file:
- every MongoDB command: count, total and mean time, per command and collection
  (pymongo command monitoring, so waiting on FerretDB is visible, not just CPU);
- every HTTP call the service makes: count, total and mean time per method and path
  shape (numbers replaced by {n});
- the cProfile top functions by own time and by cumulative time (CPU in this process).
"""

from __future__ import annotations

import atexit
import cProfile
import io
import pstats
import re
import runpy
import signal
import sys
import time
from collections import defaultdict

import httpx
from pymongo import monitoring

_mongo: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0])
_http: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
_started = time.monotonic()


class _Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self._collections: dict[int, str] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        target = event.command.get(event.command_name)
        self._collections[event.request_id] = target if isinstance(target, str) else ""

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._add(event)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._add(event)

    def _add(self, event: monitoring.CommandSucceededEvent | monitoring.CommandFailedEvent) -> None:
        collection = self._collections.pop(event.request_id, "")
        entry = _mongo[(event.command_name, collection)]
        entry[0] += 1
        entry[1] += event.duration_micros / 1e6


monitoring.register(_Commands())

_send = httpx.AsyncClient.send


async def _timed_send(self: httpx.AsyncClient, request: httpx.Request, **kwargs):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    try:
        return await _send(self, request, **kwargs)
    finally:
        shape = re.sub(r"/\d+", "/{n}", request.url.path)
        entry = _http[f"{request.method} {shape}"]
        entry[0] += 1
        entry[1] += time.perf_counter() - started


httpx.AsyncClient.send = _timed_send  # type: ignore[method-assign]


def _table(title: str, rows: dict[str, list[float]]) -> str:
    lines = [title, f"{'count':>9} {'total s':>9} {'mean ms':>9}  what"]
    for name, (count, total) in sorted(rows.items(), key=lambda kv: -kv[1][1]):
        lines.append(f"{int(count):>9} {total:>9.2f} {total / count * 1000:>9.2f}  {name}")
    return "\n".join(lines)


def main() -> None:
    module, report = sys.argv[1], sys.argv[2]
    profiler = cProfile.Profile()

    def write() -> None:
        profiler.disable()
        out = io.StringIO()
        out.write(f"wall seconds: {time.monotonic() - _started:.1f}\n\n")
        out.write(_table("MongoDB commands", {f"{c} {coll}": v for (c, coll), v in _mongo.items()}))
        out.write("\n\n")
        out.write(_table("HTTP calls", dict(_http)))
        out.write("\n\n")
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(40)
        stats.sort_stats("cumulative").print_stats(60)
        with open(report, "w") as file:
            file.write(out.getvalue())

    atexit.register(write)
    # uvicorn re-raises the SIGTERM it captured once it has shut down; with the default
    # handler that ends the process without atexit, so make it a normal exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sys.argv = [module]
    profiler.enable()
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
