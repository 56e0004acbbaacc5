#!/usr/bin/env bash
# npm run bench:ingest -- [--devices N] [--per-device N] [--window N]
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false NX_NO_CLOUD=true
bash scripts/ensure-deps.sh
npx nx run ingest:build --outputStyle=static >/dev/null
# ts-node would otherwise pick its own defaults (module NodeNext), which our sources do not use.
export TS_NODE_PROJECT=scripts/bench/tsconfig.json
exec node -r ts-node/register/transpile-only scripts/bench/bench-ingest.ts "$@"
