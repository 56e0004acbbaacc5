#!/usr/bin/env bash
# npm run bench:ingest -- [--devices N] [--per-device N] [--window N]
# npm run bench:alerts -- [--devices N] [--seconds N] [--stride N] [--load-per-device N] [--phases fleet,full,storm]
# npm run bench:auth-flood -- [--samples N] [--flood N] [--rate N] [--storm N] [--legacy N] [--guesses N] [--burst N] [--fd-limit N] [--fd-flood N] [--phases flood,storm,signin,descriptors]
# npm run bench:hj212 -- [--devices N] [--per-device N] [--window N]
# npm run bench:reports -- [--days N] [--runs N]
# npm run bench:console -- [--alerts N] [--runs N] [--live N]
# npm run bench:stores -- [--alerts N] [--rows N] [--report-alerts N] [--runs N]
# npm run bench:cluster -- [--devices N] [--per-device N] [--window N] [--consumers N]
# npm run bench:connections -- [--devices N] [--processes N] [--seconds N]
# npm run bench:integrity -- [--devices N] [--turns N]
# Usage: bash scripts/bench.sh <ingest|alerts|auth-flood|hj212|reports|console|stores|cluster|connections|integrity> [options]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/node-env.sh
source scripts/node-env.sh
name="${1:?usage: bash scripts/bench.sh <ingest|alerts|auth-flood|hj212|reports|console|stores|cluster|connections|integrity> [options]}"
shift
export NX_DAEMON=false NX_NO_CLOUD=true
case "$name" in
  stores) bash scripts/ensure-deps.sh --with-postgres ;;
  cluster) bash scripts/ensure-deps.sh --with-postgres --with-mosquitto ;;
  *) bash scripts/ensure-deps.sh ;;
esac
npx nx run-many -t build -p ingest devices-sim console --outputStyle=static >/dev/null
# ts-node would otherwise pick its own defaults (module NodeNext), which our sources do not use.
export TS_NODE_PROJECT=scripts/bench/tsconfig.json
# tsconfig-paths resolves the @dustwatch/* libraries the benches import.
exec node -r ts-node/register/transpile-only -r tsconfig-paths/register "scripts/bench/bench-${name}.ts" "$@"
