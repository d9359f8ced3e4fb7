"""The benchmark's command line (run.py's flags)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench_asperion import ASPERION_DEFAULT_MAX
from bol_ingest import BOL_DEFAULT_MAX
from prestashop_ingest import PRESTASHOP_DEFAULT_MAX

HERE = Path(__file__).resolve().parent


def parse_args(argv: list[str] | None = None, description: str = "") -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--orders", type=int, default=100_000, help="historic orders per replay")
    parser.add_argument("--rate", type=float, default=50.0, help="realtime orders per second")
    parser.add_argument("--duration", type=float, default=30.0, help="realtime seconds")
    parser.add_argument(
        "--replicas",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[1, 2],
        help="ledger-octopus replica counts to replay with, ascending (default 1,2)",
    )
    parser.add_argument("--partitions", type=int, default=12, help="partitions per topic")
    parser.add_argument(
        "--snelstart-orders",
        type=int,
        default=None,
        help="historic orders replayed into SnelStart (default: --orders; 0 skips it)",
    )
    parser.add_argument(
        "--asperion-orders",
        type=int,
        default=None,
        help="historic orders replayed into Asperion and then delivered as one ZIP "
        f"(default: --orders, at most {ASPERION_DEFAULT_MAX:,}; 0 skips it)",
    )
    parser.add_argument(
        "--prestashop-orders",
        type=int,
        default=None,
        help="paid orders placed in the PrestaShop sandbox and ingested by ingest-prestashop's "
        f"first poll (default: --orders, at most {PRESTASHOP_DEFAULT_MAX:,}; 0 skips it)",
    )
    parser.add_argument(
        "--bol-orders",
        type=int,
        default=None,
        help="orders placed at the Bol.com sandbox and ingested by ingest-bol's polls "
        f"(default: --orders, at most {BOL_DEFAULT_MAX:,}; 0 skips it)",
    )
    parser.add_argument(
        "--ledger-workers",
        type=int,
        default=None,
        help="KOPPEL_LEDGER_OCTOPUS_CONSUMER_WORKERS for the ledger processes "
        "(default: the service's default)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run ledger-octopus and ingest-ccv under tests/bench/profiled.py (MongoDB/HTTP "
        "time, cProfile)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the run's topics and databases")
    parser.add_argument(
        "--results", type=Path, default=HERE, help="folder for RESULTS.md and results.json"
    )
    return parser.parse_args(argv)
