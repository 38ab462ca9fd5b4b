#!/usr/bin/env bash
# `npm start`: bootstraps what is missing (npm packages, Temporal binaries), then runs the supervisor.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "start: installing npm packages (npm ci)" >&2
  npm ci --no-audit --no-fund
fi
bash scripts/setup-tools.sh
exec node --import tsx scripts/start.ts "$@"
