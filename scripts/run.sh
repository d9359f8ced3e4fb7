#!/usr/bin/env bash
# Run Koppel locally: infrastructure first (real Kafka + MongoDB-compatible
# server, built and cached on first use), then everything that exists on top.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
export PATH="$HOME/.local/bin:$PATH"
exec uv run python -m koppel_demo up
