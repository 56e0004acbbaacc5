#!/usr/bin/env bash
# Runs every check and test of the monorepo: lint (with Nx module boundaries) and format, the
# compose file's validation, type-check and build of every project, then every jest suite: the
# unit tier (`npm run test:unit`, no services) and the integration tier (`npm run test:int`: a
# real influxd, the broker over TCP, SQLite on disk, throwaway PostgreSQL clusters and Mosquitto brokers, Chromium for PDFs). Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/node-env.sh
source scripts/node-env.sh
export NX_DAEMON=false NX_NO_CLOUD=true NX_SKIP_NX_CACHE=true

bash scripts/ensure-deps.sh --with-chromium --with-postgres --with-mosquitto
echo "==> lint (Nx module boundaries) and format (Prettier)"
npx nx run-many -t lint --outputStyle=stream
npx prettier --check . --log-level warn
echo "==> docker-compose config"
bash scripts/check-compose.sh
echo "==> build"
npx nx run-many -t build --outputStyle=stream
echo "==> tests"
mkdir -p tmp
status=0
npx jest --runInBand --json --outputFile=tmp/jest-results.json || status=$?
node -e '
  const r = require("./tmp/jest-results.json");
  // The plain closing line: N passed, N failed.
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed, ${r.numPendingTests} skipped`);
'
exit $status
