"""`python -m koppel_sandbox_prestashop --port 8111`: the demo shop on its own."""

from __future__ import annotations

import argparse

import uvicorn

from .app import create_app
from .demo import DEMO_KEY, demo_shop
from .logs import log_config


def main() -> None:
    parser = argparse.ArgumentParser(description="A local PrestaShop 8.x webservice (demo shop)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8111)
    args = parser.parse_args()
    state = demo_shop()
    print(f"PrestaShop webservice: http://{args.host}:{args.port}/api/")
    print(f"Webservice key (Basic user, empty password): {DEMO_KEY}")
    print(f"Control API: http://{args.host}:{args.port}/_control/ (see README)")
    uvicorn.run(create_app(state), host=args.host, port=args.port, log_config=log_config())


if __name__ == "__main__":
    main()
