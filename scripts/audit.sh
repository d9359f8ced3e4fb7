#!/usr/bin/env bash
# Known vulnerabilities in the locked third-party dependencies (pip-audit over uv.lock).
# pip-audit asks PyPI's JSON API (or OSV with `-s osv`) about every pinned package; where
# neither is reachable it cannot audit, and this script fails saying so rather than
# passing without having looked.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
export PATH="$HOME/.local/bin:$PATH"
requirements="$(mktemp)"
trap 'rm -f "$requirements"' EXIT
uv export --format requirements-txt --no-emit-workspace --no-hashes --all-packages --quiet \
  > "$requirements"
output="$(uvx pip-audit==2.9.0 -r "$requirements" --no-deps --disable-pip \
  --progress-spinner off "$@" 2>&1)" && status=0 || status=$?
echo "$output"
if grep -q "could not be audited" <<<"$output"; then
  echo "audit.sh: the vulnerability database was not reachable; nothing was audited" >&2
  exit 2
fi
exit "$status"
