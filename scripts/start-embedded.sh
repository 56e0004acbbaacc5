#!/usr/bin/env bash
# The embedded default, from a fresh clone: installs what is missing, starts a local InfluxDB
# from Debian's package (unless DUSTWATCH_INFLUX_URL points elsewhere), builds, imports a
# 152-site demo fleet and runs the ingest service with its embedded MQTT broker in the
# foreground. Ctrl-C stops the service and the InfluxDB it started.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/node-env.sh
source scripts/node-env.sh
export NX_DAEMON=false NX_NO_CLOUD=true

bash scripts/ensure-deps.sh
echo "==> building"
npx nx run-many -t build -p ingest devices-sim console --outputStyle=static >/dev/null

export DUSTWATCH_DATA_DIR="${DUSTWATCH_DATA_DIR:-$PWD/data}"
mkdir -p "$DUSTWATCH_DATA_DIR"

if [ -z "${DUSTWATCH_ADMIN_API_KEY:-}" ]; then
  key_file="$DUSTWATCH_DATA_DIR/admin-api-key"
  if [ ! -s "$key_file" ]; then
    (umask 077; node -e 'process.stdout.write(require("crypto").randomBytes(24).toString("base64url"))' > "$key_file")
  fi
  DUSTWATCH_ADMIN_API_KEY="$(cat "$key_file")"
  export DUSTWATCH_ADMIN_API_KEY
fi

ping_ok() { node -e "fetch('$1/ping').then(r => process.exit(r.status === 204 ? 0 : 1), () => process.exit(1))"; }

influx_pid=""
service_pid=""
demo_pid=""
stop_pid() { if [ -n "$1" ]; then kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; fi; }
cleanup() { stop_pid "$demo_pid"; stop_pid "$service_pid"; stop_pid "$influx_pid"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -z "${DUSTWATCH_INFLUX_URL:-}" ]; then
  influx_port="${DUSTWATCH_EMBEDDED_INFLUX_PORT:-8086}"
  export DUSTWATCH_INFLUX_URL="http://127.0.0.1:$influx_port"
  if ping_ok "$DUSTWATCH_INFLUX_URL"; then
    echo "==> using the InfluxDB already answering at $DUSTWATCH_INFLUX_URL"
  else
    echo "==> starting InfluxDB on $DUSTWATCH_INFLUX_URL (data: $DUSTWATCH_DATA_DIR/influxdb, log: $DUSTWATCH_DATA_DIR/influxd.log)"
    INFLUXDB_META_DIR="$DUSTWATCH_DATA_DIR/influxdb/meta" INFLUXDB_DATA_DIR="$DUSTWATCH_DATA_DIR/influxdb/data" \
    INFLUXDB_DATA_WAL_DIR="$DUSTWATCH_DATA_DIR/influxdb/wal" INFLUXDB_HTTP_BIND_ADDRESS="127.0.0.1:$influx_port" \
    INFLUXDB_BIND_ADDRESS="127.0.0.1:$((influx_port + 2))" INFLUXDB_MONITOR_STORE_ENABLED=false \
    INFLUXDB_HTTP_LOG_ENABLED=false INFLUXDB_REPORTING_DISABLED=true \
      setsid /usr/bin/influxd -config /etc/influxdb/influxdb.conf >"$DUSTWATCH_DATA_DIR/influxd.log" 2>&1 &
    # setsid: its own session, so a Ctrl-C in the terminal does not stop InfluxDB under the
    # service's last writes; the EXIT trap stops it after the service.
    influx_pid=$!
    for _ in $(seq 1 100); do ping_ok "$DUSTWATCH_INFLUX_URL" && break; sleep 0.2; done
    ping_ok "$DUSTWATCH_INFLUX_URL" || { echo "InfluxDB did not start; see $DUSTWATCH_DATA_DIR/influxd.log" >&2; exit 1; }
  fi
fi

fleet="$DUSTWATCH_DATA_DIR/demo-fleet.yaml"
if [ ! -f "$fleet" ]; then
  node dist/devices-sim/devices-sim/src/cli.js generate-fleet --sites 152 --seed 1 --hj212-share 0.7 --out "$fleet"
fi
echo "==> importing the demo fleet ($fleet)"
node dist/apps/ingest/apps/ingest/src/cli.js import-fleet "$fleet" >/dev/null
# The first person's account (an admin) on a new installation; its password is kept beside the
# admin API key, readable by root only.
password_file="$DUSTWATCH_DATA_DIR/admin-password"
if [ ! -s "$password_file" ]; then
  (umask 077; node -e 'process.stdout.write(require("crypto").randomBytes(12).toString("base64url"))' > "$password_file.new")
  created="$(node dist/apps/ingest/apps/ingest/src/cli.js create-user admin --role admin --display-name 管理员 \
    --password-file "$password_file.new" --if-none)"
  # Kept only when it made the account (an installation with accounts keeps theirs).
  if [ -n "$created" ]; then mv "$password_file.new" "$password_file"; else rm -f "$password_file.new"; fi
fi

http_port="${DUSTWATCH_HTTP_PORT:-3000}"
mqtt_port="${DUSTWATCH_MQTT_PORT:-1883}"
hj212_port="${DUSTWATCH_HJ212_PORT:-9212}"
yesterday="$(TZ=Asia/Shanghai date -d yesterday +%F)"
cat <<INFO

Dustwatch is starting (embedded default):
  MQTT broker    mqtt://localhost:$mqtt_port   client id = username = device id, password = device secret
                 demo devices and their secrets: $fleet  (e.g. CZ-001-M1)
                 publish readings to devices/<deviceId>/readings  (docs/reading-contract-v1.md)
  HJ 212 (TCP)   localhost:$hj212_port   HJ 212-2017 frames; MN and PW from the device's hj212 entry (docs/hj212.md)
  Admin API      http://localhost:$http_port/api   header x-api-key: $DUSTWATCH_ADMIN_API_KEY
  Console        http://localhost:$http_port/   sign in as admin, password $(cat "$password_file" 2>/dev/null || echo '(see data/admin-password)')
                 accounts for inspectors: POST /api/users (docs/people.md)
  Alerts         http://localhost:$http_port/api/alerts   live: /api/alerts/stream (SSE); MQTT alerts/# (user @api, password an API key)
                 inspector keys: POST /api/keys {"name": "inspector-wang", "role": "inspector"} (docs/alerts.md)
  Reports        http://localhost:$http_port/api/reports/daily/$yesterday?format=html (also csv, xlsx; weekly/monthly)
                 with the key; made at 08:00 each day for the day before (docs/reports.md)
  OpenAPI        http://localhost:$http_port/api/docs
  Health         http://localhost:$http_port/health (ready or not)   details: /api/health (with the key)   Metrics: http://localhost:$http_port/metrics
  InfluxDB       $DUSTWATCH_INFLUX_URL  database ${DUSTWATCH_INFLUX_DB:-dustwatch}
Stop with Ctrl-C.

INFO
# In the background and waited for, so that Ctrl-C or a TERM reaches the traps above, which
# stop the service (it drains gracefully on SIGTERM) and then the InfluxDB started here.
node dist/apps/ingest/apps/ingest/src/main.js &
service_pid=$!

# The demo fleet plays live by default, so the console moves within minutes (a dust episode at
# CZ-001 opens an alert about 8 minutes in; devices-sim/scenarios/demo-live.yaml). The hour
# before now is backfilled first, as monitors that were running would have sent it: a window is
# judged only once its readings cover 75 % of it (docs/rules.md), so without it the first hourly
# judgement would come 45 minutes in. DUSTWATCH_DEMO=off starts the service alone.
if [ "${DUSTWATCH_DEMO:-on}" != "off" ]; then
  for _ in $(seq 1 150); do
    node -e "fetch('http://127.0.0.1:$http_port/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))" && break
    kill -0 "$service_pid" 2>/dev/null || break
    sleep 0.2
  done
  echo "==> playing the demo fleet live after backfilling its last hour (log: $DUSTWATCH_DATA_DIR/demo-sim.log; DUSTWATCH_DEMO=off to skip)"
  now=$(date -u +%Y-%m-%dT%H:%M:00Z)
  hour_ago=$(date -u -d "$now - 60 min" +%Y-%m-%dT%H:%M:00Z)
  node dist/devices-sim/devices-sim/src/cli.js backfill --fleet "$fleet" --url "mqtt://127.0.0.1:$mqtt_port" \
    --from "$hour_ago" --to "$now" >"$DUSTWATCH_DATA_DIR/demo-sim.log" 2>&1 ||
    echo "the demo's backfill failed; see $DUSTWATCH_DATA_DIR/demo-sim.log" >&2
  node dist/devices-sim/devices-sim/src/cli.js run --fleet "$fleet" --url "mqtt://127.0.0.1:$mqtt_port" \
    --hj212 "127.0.0.1:$hj212_port" --scenario devices-sim/scenarios/demo-live.yaml --history-from "$hour_ago" \
    >>"$DUSTWATCH_DATA_DIR/demo-sim.log" 2>&1 &
  demo_pid=$!
fi
wait "$service_pid"
