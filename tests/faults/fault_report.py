"""What the run reports: per fault, how long the system took to book every order after the
fault cleared and what the services logged meanwhile; the table (printed) and the results
files (RESULTS.md, results.json).

Time to recover, per fault: of the orders placed before the fault cleared and not yet
booked when it did, the last one's booking time after the clear (0 when none was
waiting). Target (issue #17): 60 s, plus the Retry-After for a 429. Log lines: every
service's lines from the injection to the recovery (+5 s); "warn+" are lines at WARNING or
worse plus lines that are not JSON log lines (tracebacks).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fault_kinds import Fault
from fault_observe import LogMeter
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from fault_run import Run

TARGET_SECONDS = 60.0
WARN_LINES_PER_SECOND = 5  # "a handful of log lines per second"


def recoveries(run: Run, faults: list[Fault], logs: LogMeter) -> list[dict[str, Any]]:
    rows = []
    started = min((f.injected_at for f in faults if f.injected_at is not None), default=0.0)
    for index, fault in enumerate(faults):
        row: dict[str, Any] = {
            "kind": fault.kind,
            "target": fault.target,
            "hold_seconds": fault.hold,
            "param": fault.param,
            "note": fault.note,
            **fault.extra,
        }
        if fault.injected_at is None or fault.cleared_at is None:
            row["injected"] = False
            rows.append(row)
            continue
        cleared = fault.cleared_at
        waiting = [
            o
            for o in run.placed
            if not o.refused
            and o.placed_at <= cleared
            and run.events.booked_at.get(run.key(o), float("inf")) > cleared
        ]
        booked = [run.events.booked_at.get(run.key(o)) for o in waiting]
        never = sum(1 for b in booked if b is None)
        recovery = max((b - cleared for b in booked if b is not None), default=0.0)
        # Where they waited: not yet published (the ingest) or published, not booked (ledger).
        published = [run.published.published_at.get(run.key(o)) for o in waiting]
        in_ingest = [p for p in published if p is None or p > cleared]
        ingest_done = max((p - cleared for p in in_ingest if p is not None), default=0.0)
        target = TARGET_SECONDS + (fault.param if fault.kind == "429" else 0.0)
        end = cleared + recovery + 5
        later = [f.injected_at for f in faults[index + 1 :] if f.injected_at is not None]
        if later:
            end = min(end, later[0])
        lines, notable = logs.lines_between(fault.injected_at, end)
        seconds = max(end - fault.injected_at, 1.0)
        row.update(
            injected=True,
            at_seconds=round(fault.injected_at - started, 1),
            outage_seconds=round(cleared - fault.injected_at, 1),
            orders_waiting=len(waiting),
            waiting_in_ingest=len(in_ingest),
            ingest_recovery_seconds=round(ingest_done, 1),
            never_booked=never,
            recovery_seconds=round(recovery, 1),
            target_seconds=target,
            met=never == 0 and recovery <= target,
            log_lines=lines,
            warn_lines=notable,
            warn_per_second=round(notable / seconds, 1),
            warn_peak_per_second=logs.peak_notable_per_second(fault.injected_at, end),
            top_warnings=logs.top_notable(fault.injected_at, end, 3),
        )
        rows.append(row)
    return rows


# ==== summaries ===================================================================================


def kind_rows(results: dict[str, Any]) -> list[list[str]]:
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in results["faults"]:
        by_kind[row["kind"]].append(row)
    rows = []
    for kind, faults in by_kind.items():
        done = [f for f in faults if f.get("injected")]
        if not done:
            rows.append([kind, f"0 of {len(faults)}", "—", "—", "—", "—", "—"])
            continue
        worst = max(done, key=lambda f: (f["never_booked"], f["recovery_seconds"]))
        recovery = f"{worst['recovery_seconds']:.0f} s ({worst['target']})"
        if worst["never_booked"]:
            recovery = f"{worst['never_booked']} never booked ({worst['target']})"
        rows.append(
            [
                kind,
                f"{len(done)} of {len(faults)}",
                str(sum(f["orders_waiting"] for f in done)),
                recovery,
                f"{sum(1 for f in done if f['met'])}/{len(done)}",
                str(sum(f["log_lines"] for f in done)),
                f"{max(f['warn_peak_per_second'] for f in done)} "
                f"(avg {max(f['warn_per_second'] for f in done):g})",
            ]
        )
    return rows


KIND_COLUMNS = [
    "fault",
    "injected",
    "orders waiting at clear",
    "worst time to recover (where)",
    "within target",
    "log lines",
    "warn+ lines/s peak (avg)",
]
BOOK_COLUMNS = ["pair", "orders", "booked once", "lost", "twice", "differ", "credited", "refused"]


def book_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    totals = defaultdict(int)
    for b in results["books"]:
        values = [
            b["orders"],
            b["booked_once"],
            b["lost"],
            b["twice"],
            b["differ"],
        ]
        rows.append(
            [
                b["pair"],
                *(f"{v:,}" for v in values),
                f"{b['credited_once']}/{b['cancellations']}",
                f"{b['refused_ok']}/{b['refused']}",
            ]
        )
        for name in (
            "orders",
            "booked_once",
            "lost",
            "twice",
            "differ",
            "credited_once",
            "cancellations",
            "refused_ok",
            "refused",
        ):
            totals[name] += b[name]
    rows.append(
        [
            "all",
            *(f"{totals[n]:,}" for n in ("orders", "booked_once", "lost", "twice", "differ")),
            f"{totals['credited_once']}/{totals['cancellations']}",
            f"{totals['refused_ok']}/{totals['refused']}",
        ]
    )
    return rows


def totals(results: dict[str, Any]) -> dict[str, int]:
    return {
        name: sum(b[name] for b in results["books"])
        for name in ("orders", "lost", "twice", "differ", "unexpected")
    }


def print_tables(results: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title="Faults")
    for column in KIND_COLUMNS:
        table.add_column(column)
    for row in kind_rows(results):
        table.add_row(*row)
    console.print(table)
    table = Table(title="Books")
    for column in BOOK_COLUMNS:
        table.add_column(column)
    for row in book_rows(results):
        table.add_row(*row)
    console.print(table)
    alerts, dead = results["alerts"], results["dead_letters"]
    console.print(
        f"alerts: {alerts['order_alerts']} order alerts, {alerts['mailed_once']} mailed once, "
        f"{alerts['not_mailed']} not mailed, {alerts['mailed_more_than_once']} more than once; "
        f"dead letters: {dead['dead_letters']} ({dead['without_reason']} without a reason); "
        f"log lines: {results['logs']['lines']:,} ({results['logs']['warning_or_worse']:,} "
        f"warn+) in {results['logs']['seconds']:.0f} s"
    )
    for line in secret_lines(results):
        console.print(line, markup=False, highlight=False)


def secret_lines(results: dict[str, Any]) -> list[str]:
    """The secrets scan: its count, each finding (masked, with where), what it could not
    collect or scan."""
    scan = results.get("secrets")
    if scan is None:
        return []
    lines = [scan["summary"]]
    lines += [f"  in clear: {f['secret']} {f['masked']} at {f['where']}" for f in scan["findings"]]
    if scan["findings_total"] > len(scan["findings"]):
        lines.append(f"  … {scan['findings_total'] - len(scan['findings'])} more")
    lines += [f"  not collected: {what}" for what in scan["not_collected"]]
    lines += [f"  not scanned: {what}" for what in scan["not_scanned"]]
    return lines


# ==== files =======================================================================================


def _markdown(columns: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def fault_detail_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for f in results["faults"]:
        if not f.get("injected"):
            rows.append([f["kind"], f["target"], "—", "—", "—", "—", "—", f.get("note", "")])
            continue
        recovery = f"{f['recovery_seconds']:.0f} s"
        if f["waiting_in_ingest"]:
            recovery += f" (all published after {f['ingest_recovery_seconds']:.0f} s)"
        if f["never_booked"]:
            recovery += f", {f['never_booked']} never"
        rows.append(
            [
                f["kind"],
                f["target"],
                f"{f['at_seconds']:.0f} s",
                f"{f['outage_seconds']:.0f} s" + (f", {f['param']:g}" if f["param"] else ""),
                f"{f['orders_waiting']} ({f['waiting_in_ingest']} in ingest)",
                recovery + ("" if f["met"] else f" (> {f['target_seconds']:.0f})"),
                f"{f['log_lines']} / {f['warn_lines']} / {f['warn_peak_per_second']}",
                f.get("note", ""),
            ]
        )
    return rows


def write_results(results: dict[str, Any], folder: Path, notes: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    meta = results["meta"]
    lines = [
        "# Fault-injection run",
        "",
        f"Measured {meta['date']} on {meta['cores']} cores, commit `{meta['commit']}`, seed "
        f"{meta['seed']}, {meta['orders']:,} orders placed over {meta['placing_seconds']:.0f} s "
        f"(took {meta['placing_took_seconds']:.0f} s), pairs: {', '.join(meta['pairs'])}.",
        f"Command: `{meta['command']}`",
        "",
        "## Books",
        "",
        *_markdown(BOOK_COLUMNS, book_rows(results)),
        "",
        "credited: cancellations credited exactly once / orders cancelled once booked; "
        "refused: orders with a VAT rate no ledger account is mapped to, failed once and not "
        "booked / such orders.",
        "",
        "## Faults by kind",
        "",
        *_markdown(KIND_COLUMNS, kind_rows(results)),
        "",
        "## Every fault",
        "",
        *_markdown(
            [
                "fault",
                "target",
                "at",
                "outage, param",
                "waiting (not yet published)",
                "recovered after",
                "log lines / warn+ / peak per s",
                "note",
            ],
            fault_detail_rows(results),
        ),
        "",
        "## Alerts, dead letters, logs",
        "",
        f"- alerts about orders: {results['alerts']['order_alerts']}, mailed exactly once: "
        f"{results['alerts']['mailed_once']}, not mailed: {results['alerts']['not_mailed']}, "
        f"more than once: {results['alerts']['mailed_more_than_once']}; connection-wide alerts: "
        f"{results['alerts']['connection_alerts']}; mails: {results['alerts']['mails']}",
        f"- dead letters: {results['dead_letters']['dead_letters']}, without a reason: "
        f"{results['dead_letters']['without_reason']}",
        f"- log lines: {results['logs']['lines']:,}, at WARNING or worse: "
        f"{results['logs']['warning_or_worse']:,}, in {results['logs']['seconds']:.0f} s",
        *(
            f"- {line}" if i == 0 else f"  - {line.strip()}"
            for i, line in enumerate(secret_lines(results))
        ),
        "",
        "Notes:",
        *(f"- {note}" for note in notes),
        "",
    ]
    (folder / "RESULTS.md").write_text("\n".join(lines))
