#!/usr/bin/env bash
# Installs what Dustwatch needs on a fresh Debian machine: InfluxDB 1.x from Debian's archive
# (for the embedded default and the integration tests) and the npm dependencies; with
# --with-chromium also Debian's Chromium and a CJK font (the reports' PDF export in Chinese, the
# browser tests); with --with-postgres Debian's PostgreSQL 15 (the PostgreSQL store's tests and
# bench start throwaway clusters of it; the package's own service is not used); with
# --with-mosquitto Debian's Mosquitto 2 (the several-instances tests start a throwaway broker;
# the package's service is not used either).
set -euo pipefail
cd "$(dirname "$0")/.."
with_chromium=false with_postgres=false with_mosquitto=false
for arg in "$@"; do
  case "$arg" in
    --with-chromium) with_chromium=true ;;
    --with-postgres) with_postgres=true ;;
    --with-mosquitto) with_mosquitto=true ;;
    *) echo "ensure-deps.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

# apt-get install with policy-rc.d answering 101: a package must not start (or leave running) a
# system service; the tests start throwaway processes of their own.
install_without_service() {
  local own_policy=false
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && own_policy=true
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  if $own_policy; then rm -f /usr/sbin/policy-rc.d; fi
}

# shellcheck source=scripts/node-env.sh
source scripts/node-env.sh

if [ ! -x /usr/bin/influxd ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "==> installing InfluxDB from Debian's archive (apt-get install -y influxdb)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq influxdb >/dev/null
  else
    echo "influxd is missing. Install Debian's InfluxDB as root: apt-get update && apt-get install -y influxdb" >&2
    echo "(or point DUSTWATCH_INFLUX_URL at an InfluxDB 1.x/2.x/3 that serves the v1 API)" >&2
    exit 1
  fi
fi

if $with_chromium && { [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/truetype/wqy ]; }; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "==> installing Chromium and a CJK font from Debian's archive (apt-get install -y chromium fonts-wqy-microhei)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
  else
    echo "chromium is missing. Install it as root: apt-get update && apt-get install -y chromium fonts-wqy-microhei" >&2
    exit 1
  fi
fi

if $with_postgres && [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "==> installing PostgreSQL 15 from Debian's archive (apt-get install -y postgresql-15)"
    apt-get update -qq
    install_without_service postgresql-15
  else
    echo "PostgreSQL 15 is missing. Install it as root: apt-get update && apt-get install -y postgresql-15" >&2
    exit 1
  fi
fi

if $with_mosquitto && { [ ! -x /usr/sbin/mosquitto ] || [ ! -x /usr/bin/mosquitto_passwd ]; }; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "==> installing Mosquitto 2 from Debian's archive (apt-get install -y mosquitto mosquitto-clients)"
    apt-get update -qq
    install_without_service mosquitto mosquitto-clients
  else
    echo "Mosquitto is missing. Install it as root: apt-get update && apt-get install -y mosquitto mosquitto-clients" >&2
    exit 1
  fi
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm ci (better-sqlite3 compiles from source: about a minute)"
  npm ci --no-audit --no-fund
elif ! node -e 'new (require("better-sqlite3"))(":memory:")' 2>/dev/null; then
  # node_modules installed under another Node.js (e.g. 20 before the move to 24): its native module does not load.
  echo "==> npm rebuild better-sqlite3 (built for another Node.js than $(node --version))"
  npm rebuild better-sqlite3
fi
