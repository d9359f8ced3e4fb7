"""The benchmark's results: the table printed and written to RESULTS.md, measured next to the
targets (met or not), and results.json."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from bench_asperion import asperion_rows
from bench_cpu import ceiling_row, cpu_rows
from bench_observe import console
from bol_ingest import bol_rows
from prestashop_ingest import prestashop_rows
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent.parent
TARGETS = {
    "replay_orders_per_s": 1000.0,  # 100k orders in under 2 minutes
    "realtime_p99_ms": 500.0,
    "rss_mb": 150.0,
    "ledger_cpu_ms_per_order": 2.0,  # issue #16: a ledger process in replay
}


def _git_commit() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return commit + ("+dirty" if dirty else "")
    except OSError:
        return "unknown"


def _mb(kb: int | None) -> float | None:
    return None if kb is None else round(kb / 1024, 1)


def _met(ok: bool | None) -> str:
    return "—" if ok is None else ("met" if ok else "NOT met")


def summary_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    fl = results["floor"]
    rows.append(
        ("1. Kafka floor (produce+consume)", f"{fl['messages_per_s']:,.0f} msg/s", "—", "—")
    )
    for replicas, r in results["replay"].items():
        target = TARGETS["replay_orders_per_s"]
        value = (
            f"{r['orders_per_s']:,.1f} orders/s "
            f"({r['booked']:,}/{r['orders']:,} in {r['seconds']:.1f} s)"
        )
        ok = r["complete"] and r["orders_per_s"] >= target
        rows.append(
            (f"2. replay, {replicas} ledger replica(s)", value, f"≥ {target:,.0f}", _met(ok))
        )
        rows.extend(_ledger_rows(r))
        rows.extend(_phase_cpu_rows(r))
        rows.append(
            (
                f"   ratio replay({replicas}) / floor",
                f"{r['orders_per_s'] / fl['messages_per_s']:.2e}",
                "—",
                "—",
            )
        )
    snel = results.get("snelstart_replay")
    if snel:
        rows.append(
            (
                "6. replay into SnelStart (ledger-snelstart)",
                f"{snel['orders_per_s']:,.1f} orders/s ({snel['booked']:,}/{snel['orders']:,} "
                f"in {snel['seconds']:.1f} s)",
                "—",
                "—",
            )
        )
        rows.extend(_ledger_rows(snel))
        rows.extend(_phase_cpu_rows(snel))
        rows.append(
            ("   SnelStart calls per booked order", f"{snel['calls_per_order']:.2f}", "—", "—")
        )
        sbooks = results.get("snelstart_books")
        if sbooks:
            rows.append(
                (
                    "   books: one sales booking per order, totals equal",
                    f"{sbooks['orders']:,} orders, {sbooks['missing']} missing, "
                    f"{sbooks['booked_more_than_once']} twice, {sbooks['total_differs']} differ",
                    "all exactly once, equal",
                    _met(sbooks["ok"]),
                )
            )
    rows.extend(
        _before_books(
            asperion_rows(results),
            _phase_cpu_rows(results.get("asperion_replay")),
            "asperion_books" in results,
        )
    )
    for phase, phase_rows in (("prestashop", prestashop_rows), ("bol", bol_rows)):
        cpu = (results.get(f"{phase}_ingest") or {}).get("cpu_by_process")
        rows.extend(
            _before_books(
                phase_rows(results), cpu_rows(cpu, "booked order"), f"{phase}_books" in results
            )
        )
    rt = results.get("realtime")
    if rt and "p99_ms" in rt:
        rows.append(
            (
                f"3. realtime latency at {rt['rate_per_s']:g}/s (paid → booked)",
                f"p50 {rt['p50_ms']:.0f} ms, p95 {rt['p95_ms']:.0f} ms, p99 {rt['p99_ms']:.0f} ms"
                f" ({rt['booked']}/{rt['planned']})",
                f"p99 < {TARGETS['realtime_p99_ms']:.0f} ms",
                _met(rt["p99_ms"] < TARGETS["realtime_p99_ms"] and rt["booked"] == rt["planned"]),
            )
        )
    if rt:
        rows.extend(cpu_rows(rt.get("cpu_by_process"), "booked order"))
    for name, mb in results["peak_rss_mb"].items():
        rows.append(
            (
                f"4. peak RSS {name}",
                f"{mb:.1f} MB",
                f"< {TARGETS['rss_mb']:.0f} MB",
                _met(mb < TARGETS["rss_mb"]),
            )
        )
    for phase, calls in results["octopus_calls_per_order"].items():
        rows.append((f"5. Octopus calls per booked order ({phase})", f"{calls:.2f}", "—", "—"))
    books = results.get("books")
    if books:
        rows.append(
            (
                "books: one invoice per order, totals equal",
                f"{books['orders']:,} orders, {books['missing']} missing, "
                f"{books['booked_more_than_once']} twice, {books['total_differs']} differ; "
                f"€ {books['orders_total']} vs € {books['booked_total']}",
                "all exactly once, equal",
                _met(books["ok"]),
            )
        )
    return rows


def _ledger_rows(outcome: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    target = TARGETS["ledger_cpu_ms_per_order"]
    return [
        (f"   CPU per booked order, {name}", f"{ms:.2f} ms", f"≤ {target:g} ms", _met(ms <= target))
        for name, ms in outcome.get("cpu_ms_per_order", {}).items()
    ]


def _before_books(
    rows: list[tuple[str, str, str, str]], extra: list[tuple[str, str, str, str]], books: bool
) -> list[tuple[str, str, str, str]]:
    """A phase's rows with `extra` in front of its books row (its last, when it has one)."""
    if not books or not rows:
        return rows + extra
    return rows[:-1] + extra + rows[-1:]


def _phase_cpu_rows(outcome: dict[str, Any] | None) -> list[tuple[str, str, str, str]]:
    """A replay's CPU per booked order by process, and the machine's ceiling."""
    if not outcome:
        return []
    return cpu_rows(outcome.get("cpu_by_process"), "booked order") + ceiling_row(
        outcome.get("ceiling")
    )


def write_results(results: dict[str, Any], path_md: Path, path_json: Path) -> None:
    path_json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    rows = summary_rows(results)
    meta = results["meta"]
    lines = [
        "# Benchmark: CCV Shop → Octopus slice, replays into SnelStart and Asperion, "
        "PrestaShop and Bol.com ingest",
        "",
        f"Measured {meta['date']} on {meta['cores']} cores ({meta['machine']}), commit "
        f"`{meta['commit']}`, N = {meta['orders']:,} historic orders per replay phase, realtime "
        f"{meta['rate']:g} orders/s for {meta['duration']:g} s, {meta['partitions']} partitions, "
        f"ledger consumer workers per process: {meta['ledger_workers'] or 'default (1)'}.",
        f"Command: `{meta['command']}`",
        "",
        "Targets are for the 2-core machine with the sandboxes as ledgers. Sandboxes run on "
        "the same machine as the services, Kafka and FerretDB (SQLite).",
        "",
        "| measure | measured | target | |",
        "|---|---|---|---|",
        *(f"| {a.strip()} | {b} | {c} | {d} |" for a, b, c, d in rows),
        "",
        "Latency is measured from the payment in the CCV sandbox to the `ledger.bookings.v1` "
        "event seen by the bench (published after the invoice exists and was read back), an upper "
        'bound of "invoice present in Octopus". Peak RSS is the highest VmRSS sampled every '
        "0.2 s during the replay and realtime phases (VmHWM in results.json). Octopus calls per "
        "order count every call to the demo dossier in the phase (creates, read-backs, "
        "relations, reference data, logins) divided by the orders booked in it. CPU per "
        "booked order is the ledger process' own CPU time (user + system, /proc) spent in the "
        "phase divided by the orders booked in it. CPU per booked order by process is the same "
        "for every process of the phase: the services and sandboxes, the Kafka broker and "
        'FerretDB (their pids from koppel_localstack\'s pid files; "not measured" where none '
        "was found; shared with whatever else uses the same stack at the time), and their sum "
        "(the bench's own CPU shown apart, not in it); in the ingest phases the window runs from "
        "the connection (PrestaShop) or the first placed order (Bol.com) to the last booking. "
        "The ceiling of the machine is cores × 1000 ÷ the CPU ms per booked order of the "
        "sandboxes and the broker in the same replay: the rate at which the stand-ins alone "
        "would fill the cores (tests/bench/README.md).",
        "",
        "Notes:",
        *(f"- {note}" for note in results.get("notes", [])),
        "",
    ]
    path_md.write_text("\n".join(lines))


def print_table(results: dict[str, Any]) -> None:
    table = Table(title=f"Koppel slice benchmark — {results['meta']['cores']} cores")
    for column in ("measure", "measured", "target", ""):
        table.add_column(column)
    for row in summary_rows(results):
        table.add_row(*row)
    console.print(table)
