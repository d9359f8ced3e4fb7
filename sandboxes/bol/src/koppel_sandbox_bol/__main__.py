"""`python -m koppel_sandbox_bol --port 8112`: the sandbox on its own (login host and
API on one server), with the demo retailer; prints its client id and secret."""

from __future__ import annotations

import argparse

from koppel_sandbox_kit import run

from .app import create_app
from .demo import DEMO, DEMO_PRODUCTS
from .state import BolState


def main() -> None:
    parser = argparse.ArgumentParser(description="A local Bol.com Retailer API v10")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8112)
    parser.add_argument("--empty", action="store_true", help="start without the demo account")
    args = parser.parse_args()
    state = BolState() if args.empty else BolState.demo()
    base = f"http://{args.host}:{args.port}"
    if not args.empty:
        print(f"bol sandbox: token {base}/token, API {base}/retailer, control {base}/_control")
        print(f"demo retailer {DEMO.retailer_id}: client id {DEMO.client_id}")
        print(f"                     client secret {DEMO.client_secret}")
        for product in DEMO_PRODUCTS:
            print(f"  {product.ean}  {product.price:>7}  {product.title}")
        print(flush=True)  # the demo script reads these lines through a pipe
    run(create_app(state), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
