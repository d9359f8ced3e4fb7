"""`python -m koppel_sandbox_snelstart --port 8103`: the demo sandbox on its own."""

from __future__ import annotations

import argparse
import json

from koppel_sandbox_kit import run

from .app import API_PREFIX, TOKEN_PATH, create_app
from .demo import demo_identity_json
from .limits import PRODUCTION_TIER, TEST_TIER, UNLIMITED
from .state import SnelStartState

TIERS = {"test": TEST_TIER, "productie": PRODUCTION_TIER, "unlimited": UNLIMITED}


def main() -> None:
    parser = argparse.ArgumentParser(description="SnelStart B2B API v2 sandbox (demo data)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8103)
    parser.add_argument("--tier", choices=sorted(TIERS), default="test", help="rate limits")
    args = parser.parse_args()
    state = SnelStartState.demo(limits=TIERS[args.tier])
    base = f"http://{args.host}:{args.port}"
    print(f"SnelStart sandbox: token {base}{TOKEN_PATH}, API {base}{API_PREFIX}", flush=True)
    print(json.dumps(demo_identity_json(), indent=2, ensure_ascii=False), flush=True)
    run(create_app(state), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
