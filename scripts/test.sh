#!/usr/bin/env bash
# `npm test`: lint, typecheck, then every jest project (the chaos suite in its short form; `npm run
# test:chaos` runs its full matrix). Bootstraps npm packages and the Temporal binaries.
# Integration tests that need PostgreSQL read TEST_DATABASE_URL (`.ci/run` starts a server; locally,
# `bash scripts/ci-postgres.sh` does the same).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/setup-tools.sh
step() { printf '\n== %s ==\n' "$*"; }
step lint;        npx eslint . && npx prettier --check . >/dev/null
step typecheck;   npx tsc -p tsconfig.json
step unit;        npx jest --ci --selectProjects unit
# Node 24 (current LTS) beside the default Node: the unit tests, replay, a time-skipping workflow and the
# multi-process test (API and worker processes on the real dev server).
step "node 24";   PATH="$PWD/.tools/node24/bin:$PATH" node node_modules/.bin/jest --ci --runInBand --forceExit \
  --selectProjects unit workflow integration -- test/unit test/replay test/workflow/scenario1-task-retry.test.ts \
  test/integration/multi-process.test.ts
step workflow;    npx jest --ci --selectProjects workflow --runInBand --forceExit
step integration; npx jest --ci --selectProjects integration --runInBand --forceExit
step chaos;       CHAOS_MODE=short npx jest --ci --selectProjects chaos --runInBand --forceExit
