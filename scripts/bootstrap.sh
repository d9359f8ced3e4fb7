#!/usr/bin/env bash
# Everything a fresh machine needs before Koppel runs: uv and the workspace's
# locked Python environment. Kafka's jars and the FerretDB binary are fetched
# and built (once, cached) by deploy/local when the stack first starts.
set -euo pipefail
cd "$(dirname "$0")/.."

# An earlier bootstrap put uv in ~/.local/bin, which a fresh shell may not have on PATH.
export PATH="$PATH:$HOME/.local/bin"
if ! command -v uv >/dev/null 2>&1; then
  echo "bootstrap: installing uv from PyPI" >&2
  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
  export PATH="$HOME/.local/bin:$PATH"
fi
for tool in java mvn go; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "bootstrap: '$tool' is missing; the local Kafka needs java+mvn, the MongoDB-compatible server needs go" >&2
    exit 1
  }
done
uv sync --all-packages --locked --quiet
