"""`python -m koppel_sandbox_octopus --port 8102`: the demo sandbox on its own."""

from __future__ import annotations

import argparse
import json

from koppel_sandbox_kit import run

from .app import API_BASE, create_app
from .control_api import demo_identity_json
from .state import DEFAULT_QUOTA, OctopusState


def main() -> None:
    parser = argparse.ArgumentParser(description="Octopus REST API sandbox (demo dossier)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8102)
    parser.add_argument(
        "--quota",
        type=int,
        default=DEFAULT_QUOTA,
        help="calls per endpoint per dossier per day; 0 = unlimited",
    )
    args = parser.parse_args()
    state = OctopusState.demo(quota=args.quota or None)
    base = f"http://{args.host}:{args.port}"
    print(f"Octopus sandbox on {base} (also under {base}{API_BASE})", flush=True)
    print(json.dumps(demo_identity_json(), indent=2), flush=True)
    run(create_app(state), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
