"""`python -m koppel_contracts write-snapshots` after an intended, compatible change."""

import sys

from .compatibility import breaking_changes, current_schemas, load_snapshot, write_snapshots


def main(argv: list[str]) -> int:
    if argv[:1] != ["write-snapshots"]:
        print("usage: python -m koppel_contracts write-snapshots", file=sys.stderr)
        return 2
    blocked = False
    for name, schema in current_schemas().items():
        try:
            problems = breaking_changes(load_snapshot(name), schema)
        except FileNotFoundError:
            problems = []
        for problem in problems:
            blocked = True
            print(f"{name}: {problem}", file=sys.stderr)
    if blocked:
        print("breaking changes: publish a new topic version (.v2) instead", file=sys.stderr)
        return 1
    for path in write_snapshots():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
