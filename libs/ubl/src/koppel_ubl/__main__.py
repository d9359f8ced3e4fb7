"""`python -m koppel_ubl fetch` / `python -m koppel_ubl validate FILE...`."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .artefacts import ArtefactError, ensure_artefacts
from .validation import default_validator


def _fetch() -> int:
    found = ensure_artefacts(progress=print)
    print(found.root)
    return 0


def _validate(files: list[Path], nlcius: bool | None) -> int:
    validator = default_validator()
    started = time.monotonic()
    validator.warm_up()
    print(f"schema and rules compiled in {time.monotonic() - started:.2f}s", file=sys.stderr)
    failed = 0
    for file in files:
        report = validator.validate(file.read_bytes(), nlcius=nlcius)
        verdict = "ok" if report.ok else "REJECTED " + " ".join(report.fatal_ids)
        print(f"{file}: {verdict} (checked: {', '.join(report.checked)})")
        for problem in report.problems:
            print(f"  {problem}")
        failed += not report.ok
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m koppel_ubl", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("fetch", help="download and verify the validation artefacts")
    check = commands.add_parser("validate", help="validate UBL files (XSD, EN 16931, NLCIUS)")
    check.add_argument("files", nargs="+", type=Path)
    check.add_argument(
        "--nlcius",
        choices=("auto", "yes", "no"),
        default="auto",
        help="run the NLCIUS rules: auto = when the CustomizationID claims NLCIUS",
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            return _fetch()
        nlcius = {"auto": None, "yes": True, "no": False}[args.nlcius]
        return _validate(args.files, nlcius)
    except ArtefactError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
