#!/usr/bin/env bash
# The whole test suite: lint, unit and integration tests on real Kafka and a
# real MongoDB-compatible server (started here when none is given).
# Extra arguments go to pytest, e.g. `scripts/test.sh -m "not integration"`.
set -uo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh || exit 1
export PATH="$HOME/.local/bin:$PATH"

# The dashboard's browser test drives Debian's Chromium (never a browser build of its own).
if [ ! -x /usr/bin/chromium ]; then
  s=; [ "$(id -u)" -eq 0 ] || s=sudo
  DEBIAN_FRONTEND=noninteractive $s apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive $s apt-get install -y -qq chromium >/dev/null || exit 1
fi

uv run ruff check . || exit 1
uv run ruff format --check . || exit 1

uv run pytest "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "test.sh: pytest collected no tests — that is a failure here" >&2
  exit 1
fi
exit "$status"
