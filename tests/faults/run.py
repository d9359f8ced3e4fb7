"""Fault-injection run over every shop → ledger pair: orders placed while services are killed,
the broker and the database restarted, sandboxes fail, webhooks come twice and a ledger
replays; then the books of every ledger are checked. Prints a table; writes RESULTS.md and
results.json (see README.md).

    uv run python tests/faults/run.py [--orders 10000] [--seed 1] [--faults kill,429,...]
                                      [--duration SECONDS] [--max-faults N]
                                      [--pace 1.0] [--keep] [--results FOLDER]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fault_kinds import KINDS
from fault_report import print_tables, totals, write_results
from fault_run import Options, run
from rich.console import Console

HERE = Path(__file__).resolve().parent
NOTES = [
    "Every service and sandbox runs as its own process on this run's own Kafka and FerretDB "
    "(free ports, data in the run's folder), so broker and database restarts touch nobody "
    "else's tests.",
    "Production defaults where they decide recovery: ingest-ccv reconciles every 300 s, the "
    "ledgers retry after 30 s, 60 s, ...; ingest-prestashop polls every 10 s (300 s in "
    "production: PrestaShop has no webhooks, so its orders would otherwise wait that long).",
    "Sandbox quotas and per-key rate limits are off (CCV, Octopus, SnelStart), and the "
    "services' own request budgets raised with them, as in the benchmark: the run measures "
    "Koppel under faults, not one shop's quota.",
    "Slow answers and dropped connections are made by a TCP proxy between the services and "
    "each sandbox (tests/faults/fault_proxy.py); 5xx, 429 and timeouts by each sandbox's own "
    "fault API.",
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=10_000, help="orders over all pairs")
    parser.add_argument("--seed", type=int, default=1, help="seed of orders and faults")
    parser.add_argument(
        "--faults",
        type=lambda s: [k.strip() for k in s.split(",") if k.strip()],
        default=list(KINDS),
        help=f"fault kinds, comma-separated (default all: {','.join(KINDS)})",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="seconds over which the orders are placed (default: orders / 8, at least 60)",
    )
    parser.add_argument(
        "--max-faults", type=int, default=None, help="inject at most this many faults"
    )
    parser.add_argument(
        "--pace",
        type=float,
        default=1.0,
        help="multiply every fault's outage and the gaps between faults by this (the small "
        "run in the suite: 0.3)",
    )
    parser.add_argument(
        "--no-recovery-wait",
        action="store_true",
        help="inject the next fault after its gap, without waiting for the orders of the "
        "previous one to be booked (recovery times then overlap)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the run's broker data")
    parser.add_argument(
        "--results", type=Path, default=HERE, help="folder for RESULTS.md and results.json"
    )
    args = parser.parse_args(argv)
    unknown = set(args.faults) - set(KINDS)
    if unknown:
        parser.error(f"unknown fault kind(s) {sorted(unknown)}; known: {', '.join(KINDS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(width=160)
    # SIGTERM (a timeout, kill) must stop the run's processes too, as Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    options = Options(
        orders=args.orders,
        seed=args.seed,
        faults=args.faults,
        duration=args.duration,
        max_faults=args.max_faults,
        pace=args.pace,
        wait_for_recovery=not args.no_recovery_wait,
        keep=args.keep,
        say=lambda text: console.print(text, markup=False, highlight=False),
    )
    results = asyncio.run(run(options))
    results["meta"]["command"] = "uv run python tests/faults/run.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    print_tables(results, console)
    write_results(results, args.results, NOTES)
    console.print(f"written: {args.results / 'RESULTS.md'}, {args.results / 'results.json'}")
    found = totals(results)
    books_ok = found["lost"] == found["twice"] == found["differ"] == 0
    return 0 if books_ok and results["secrets"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
