#!/usr/bin/env bash
# Validates docker-compose.yml without a Docker engine (none runs on the CI machine): with the
# example environment it must parse with every profile; without it, it must refuse to start and
# name the missing secret (the `${VAR:?message}` guards).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v docker-compose >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "==> installing docker-compose from Debian's archive (to validate the compose file)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null
  else
    echo "docker-compose is missing: apt-get install -y docker-compose" >&2
    exit 1
  fi
fi
docker-compose --env-file .env.example --profile demo config -q
docker-compose --env-file .env.example --profile postgres config -q
docker-compose --env-file .env.example --profile cluster config -q
# docker-compose 1.29 lists every service here, whatever the profile.
services=$(docker-compose --env-file .env.example --profile demo config --services | sort | tr '\n' ' ')
[ "$services" = "demo-fleet emqx grafana influxdb ingest ingest-1 ingest-2 ingest-3 postgres simulator " ] || { echo "unexpected services: $services" >&2; exit 1; }
empty=$(mktemp)
if out=$(docker-compose --env-file "$empty" config -q 2>&1); then
  echo "docker-compose.yml accepted an environment without secrets" >&2; rm -f "$empty"; exit 1
fi
rm -f "$empty"
echo "$out" | grep -q 'set INFLUXDB_ADMIN_PASSWORD in .env' || { echo "unexpected refusal: $out" >&2; exit 1; }
echo "docker-compose.yml: valid (services: $services); refuses to start without its secrets"
