"""`python -m koppel_sandbox_ccvshop --port 8101`: the sandbox on its own, for the demo."""

from __future__ import annotations

import argparse

from koppel_sandbox_kit import run

from .app import create_app
from .state import CcvShopState


def main() -> None:
    parser = argparse.ArgumentParser(description="A local CCV Shop REST API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--public-key", help="create this API key at start-up")
    parser.add_argument("--secret", help="secret of --public-key (generated when omitted)")
    args = parser.parse_args()
    state = CcvShopState()
    if args.public_key:
        creds = state.create_credentials(args.public_key, args.secret)
        print(f"API key: public={creds.public} secret={creds.secret}")
    run(create_app(state), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
