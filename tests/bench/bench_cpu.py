"""CPU milliseconds per order of every process of a phase, and the ceiling of the machine.

Every number is a process' own CPU time (user + system, /proc/<pid>/stat) spent between two
snapshots, divided by the orders of the phase: the services and sandboxes the bench started
(koppel_demo's ProcessGroup), the Kafka broker and FerretDB (started, or found running, by
koppel_localstack, whose pid files name them), and the bench itself (the driver: it publishes
or places the orders; shown, but not counted in the phase's total, since no deployment runs
it). A process whose pid cannot be found, or that was not running at both snapshots, is "not
measured": None in results.json, never a guess.

The ceiling (issue #16): the sandboxes stand in for the shops' and ledgers' servers and the
broker for the platform's Kafka, yet they run on the same cores as Koppel. What they spend per
order bounds the machine before Koppel spends anything:

    ceiling orders/s = cores × 1000 ÷ (CPU ms per order of the sandboxes + the broker)

and a replay is reported as a fraction of it (target: at least 80 %).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from koppel_demo.processes import ManagedProcess, ProcessGroup
from koppel_localstack import StackConfig
from koppel_localstack.process import running_pid
from koppel_localstack.stack import parts

BROKER = "kafka-broker"
FERRETDB = "ferretdb"
DRIVER = "bench (driver)"
CEILING_TARGET = 0.8  # replay at least 80 % of the ceiling
STAND_IN_KINDS = ("sandbox", "broker")  # what the ceiling divides by, as issue #16 says
# name -> (pid, CPU seconds so far), or None where the process could not be read
Snapshot = dict[str, tuple[int, float] | None]


def pid_cpu_seconds(pid: int) -> float | None:
    """A process' own CPU time so far (user + system, all its threads), from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_seconds(process: ManagedProcess) -> float | None:
    """The CPU time so far of a process the bench started; None once it has exited."""
    if process.process is None or process.process.poll() is not None:
        return None
    return pid_cpu_seconds(process.process.pid)


def stack_pids(config: StackConfig) -> dict[str, int | None]:
    """The broker's and FerretDB's pids from koppel_localstack's pid files, each checked
    against the process' command line (as tests/faults/fault_stack.py does), also when the
    bench reuses a stack it did not start; None when the part is not ours (another server on
    the port) or not running. Read at every snapshot: a restarted broker is a new pid."""
    found: dict[str, int | None] = {BROKER: None, FERRETDB: None}
    try:
        for part in parts(config):
            name = BROKER if part.key == "kafka" else FERRETDB
            found[name] = running_pid(part.pid_file, part.marker)
    except Exception:  # measuring must not stop the bench: the part is then "not measured"
        pass
    return found


def kind(name: str) -> str:
    if name == BROKER:
        return "broker"
    if name == FERRETDB:
        return "ferretdb"
    if name == DRIVER:
        return "driver"
    # The mail catcher stands in for the merchant's mail server, like a sandbox for a vendor.
    if name.endswith("-sandbox") or name == "mailcatcher":
        return "sandbox"
    return "service"


class CpuMeter:
    """Snapshots of every process' CPU time; a phase is the difference of two."""

    def __init__(self, group: ProcessGroup, stack: StackConfig) -> None:
        self.group = group
        self.stack = stack

    def snapshot(self) -> Snapshot:
        times: Snapshot = {}
        for name, process in list(self.group.processes.items()):
            seconds = cpu_seconds(process)
            pid = process.process.pid if process.process is not None else 0
            times[name] = None if seconds is None else (pid, seconds)
        for name, pid in stack_pids(self.stack).items():
            seconds = None if pid is None else pid_cpu_seconds(pid)
            times[name] = None if pid is None or seconds is None else (pid, seconds)
        own = os.times()
        times[DRIVER] = (os.getpid(), own.user + own.system)
        return times

    def record(
        self,
        outcome: dict[str, Any],
        before: Snapshot,
        orders: int,
        replay_rate: float | None = None,
    ) -> None:
        """Adds to a phase's outcome its CPU per order by process since `before` and, for a
        replay (its rate given), the machine's ceiling."""
        outcome["cpu_by_process"] = cpu_per_order(before, self.snapshot(), orders)
        if replay_rate is not None:
            cores = os.cpu_count() or 1
            outcome["ceiling"] = ceiling(outcome["cpu_by_process"], cores, replay_rate)


def cpu_per_order(before: Snapshot, after: Snapshot, orders: int) -> dict[str, Any]:
    """Per process, CPU ms per order between two snapshots; the phase's total (the driver
    left out) and FerretDB's share of it."""
    per_process: dict[str, float | None] = {}
    for name in sorted({*before, *after}):
        start, end = before.get(name), after.get(name)
        if start is None or end is None or start[0] != end[0]:
            per_process[name] = None  # not running at both ends, or restarted: not measured
        else:
            per_process[name] = round(1000 * (end[1] - start[1]) / max(orders, 1), 3)
    counted = {n: ms for n, ms in per_process.items() if kind(n) != "driver" and ms is not None}
    total = round(sum(counted.values()), 3)
    ferretdb = per_process.get(FERRETDB)
    return {
        "orders": orders,
        "ms_per_order": per_process,
        "kinds": {n: kind(n) for n in per_process},
        "total_ms_per_order": total,
        "ferretdb_share": None if ferretdb is None or total <= 0 else round(ferretdb / total, 4),
        "not_measured": [n for n, ms in per_process.items() if ms is None],
    }


def ceiling(cpu: Mapping[str, Any], cores: int, orders_per_s: float) -> dict[str, Any]:
    """The machine's ceiling from what the sandboxes and the broker spent per order, and the
    replay's rate as a fraction of it; None where the broker (or every sandbox) was not
    measured."""
    per_process: Mapping[str, float | None] = cpu["ms_per_order"]
    kinds: Mapping[str, str] = cpu["kinds"]
    stand_ins = {n: ms for n, ms in per_process.items() if kinds[n] in STAND_IN_KINDS}
    broker = per_process.get(BROKER)
    sandboxes = [ms for n, ms in stand_ins.items() if kinds[n] == "sandbox" and ms is not None]
    result: dict[str, Any] = {
        "cores": cores,
        "stand_in_ms_per_order": None,
        "ceiling_orders_per_s": None,
        "fraction_of_ceiling": None,
        "target_fraction": CEILING_TARGET,
        "met": None,
    }
    if broker is None or not sandboxes:
        result["not_measured"] = "the broker's or the sandboxes' CPU time"
        return result
    stand_in_ms = sum(sandboxes) + broker
    if stand_in_ms <= 0:
        return result
    top = cores * 1000 / stand_in_ms
    fraction = orders_per_s / top
    ferretdb = per_process.get(FERRETDB)
    result.update(
        stand_in_ms_per_order=round(stand_in_ms, 3),
        ceiling_orders_per_s=round(top, 1),
        fraction_of_ceiling=round(fraction, 4),
        met=fraction >= CEILING_TARGET,
        # For comparison only (the ceiling leaves FerretDB out): were FerretDB also
        # counted as "not Koppel", this would be the ceiling.
        ceiling_with_ferretdb_orders_per_s=(
            None if ferretdb is None else round(cores * 1000 / (stand_in_ms + ferretdb), 1)
        ),
    )
    return result


def _ms(value: float | None) -> str:
    return "not measured" if value is None else f"{value:.2f} ms"


def cpu_rows(cpu: Mapping[str, Any] | None, unit: str = "order") -> list[tuple[str, str, str, str]]:
    """Rows of the results table for one phase's CPU per order by process."""
    if not cpu:
        return []
    per_process: Mapping[str, float | None] = cpu["ms_per_order"]
    shown = sorted(
        ((n, ms) for n, ms in per_process.items() if kind(n) != "driver"),
        key=lambda item: float("inf") if item[1] is None else -item[1],
    )
    # Processes that did (next to) nothing in the phase are summed, not listed one by one.
    listed = [f"{n} {_ms(ms)}" for n, ms in shown if ms is None or ms >= 0.01]
    idle = [n for n, ms in shown if ms is not None and ms < 0.01]
    measured = ", ".join(listed) + (f"; {len(idle)} more < 0.01 ms" if idle else "")
    rows = [
        (
            f"   CPU per {unit} by process (own CPU time)",
            f"{measured}; total {cpu['total_ms_per_order']:.2f} ms "
            f"(the bench itself {_ms(per_process.get(DRIVER))}, not in the total)",
            "—",
            "—",
        )
    ]
    share = cpu.get("ferretdb_share")
    rows.append(
        (
            "   share of the MongoDB-compatible server (FerretDB) in that total",
            "not measured" if share is None else f"{100 * share:.1f} %",
            "—",
            "—",
        )
    )
    return rows


def ceiling_row(top: Mapping[str, Any] | None) -> list[tuple[str, str, str, str]]:
    if not top:
        return []
    target = f"≥ {100 * top['target_fraction']:.0f} % of the ceiling"
    if top["ceiling_orders_per_s"] is None:
        return [("   ceiling of the machine (sandboxes + broker)", "not measured", target, "—")]
    return [
        (
            f"   ceiling of the machine ({top['cores']} cores × 1000 ÷ "
            f"{top['stand_in_ms_per_order']:.2f} ms of the sandboxes + broker per order)",
            f"{top['ceiling_orders_per_s']:,.0f} orders/s; replay at "
            f"{100 * top['fraction_of_ceiling']:.1f} % of it",
            target,
            "met" if top["met"] else "NOT met",
        )
    ]
