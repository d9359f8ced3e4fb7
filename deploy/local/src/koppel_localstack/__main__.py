"""CLI: python -m koppel_localstack start|stop|status|endpoints."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

from .config import StackConfig, StackError
from .stack import endpoints, start, status, stop

# `status` follows the LSB init-script convention so scripts can branch on it.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NOT_RUNNING = 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m koppel_localstack",
        description="Run Koppel's local Kafka + FerretDB (MongoDB API) as background processes. "
        "Configured by KOPPEL_LOCAL_* env vars; see deploy/local/README.md.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    start_cmd = sub.add_parser("start", help="start both (idempotent), wait until they answer")
    start_cmd.add_argument(
        "--timeout", type=float, help="seconds to wait for readiness (default 120)"
    )
    sub.add_parser("stop", help="stop both")
    status_cmd = sub.add_parser(
        "status", help="show pid/address/answering; exit 3 unless both answer"
    )
    status_cmd.add_argument("--json", action="store_true", help="machine-readable output")
    eps_cmd = sub.add_parser("endpoints", help="print the addresses (does not start anything)")
    eps_cmd.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def format_status_table(report: dict[str, dict[str, Any]]) -> str:
    header = ("part", "running", "pid", "answering", "address", "log")
    rows = [header]
    for key, item in report.items():
        rows.append(
            (
                key,
                "yes" if item["running"] else "no",
                str(item["pid"] or "-"),
                "yes" if item["answering"] else "no",
                str(item["address"]),
                str(item.get("log", "")),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        cfg = StackConfig.from_env()
        if args.command == "start":
            if args.timeout is not None:
                cfg.start_timeout = args.timeout
                cfg.validate()
            began = time.monotonic()
            eps = start(cfg)
            print(f"kafka    {eps.kafka_bootstrap}")
            print(f"mongodb  {eps.mongodb_uri}")
            print(f"(ready in {time.monotonic() - began:.1f}s; logs in {cfg.run_dir})")
            return EXIT_OK
        if args.command == "stop":
            for key, was_running in stop(cfg).items():
                print(f"{key}: {'stopped' if was_running else 'not running'}")
            return EXIT_OK
        if args.command == "status":
            report = status(cfg)
            if args.json:
                print(json.dumps(report, indent=2))
            else:
                print(format_status_table(report))
            healthy = all(item["running"] and item["answering"] for item in report.values())
            return EXIT_OK if healthy else EXIT_NOT_RUNNING
        if args.command == "endpoints":
            eps = endpoints(cfg)
            if args.json:
                print(
                    json.dumps(
                        {"kafka_bootstrap": eps.kafka_bootstrap, "mongodb_uri": eps.mongodb_uri}
                    )
                )
            else:
                print(f"kafka_bootstrap={eps.kafka_bootstrap}")
                print(f"mongodb_uri={eps.mongodb_uri}")
            return EXIT_OK
    except StackError as exc:
        print(f"koppel-localstack: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("koppel-localstack: interrupted", file=sys.stderr)
        return 130
    raise AssertionError(f"unhandled command {args.command!r}")


if __name__ == "__main__":
    sys.exit(main())
