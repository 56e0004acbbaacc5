#!/usr/bin/env bash
# Prepares Mosquitto 2's dynamic-security plugin for Dustwatch instances (docs/cluster.md): the
# role `dustwatch-instance` (read the shared readings subscription, answer devices on their
# errors topic, publish alerts) given to the instances' account, which must already be the
# plugin's admin (`mosquitto_ctrl dynsec init <file> <account> <password>` makes it so).
# Run once against the running broker. Dustwatch then creates and changes every device account
# itself; it does not grant its own account this role because dynamic security drops the
# connection of a client whose roles change — the very connection that asked.
#   usage: scripts/mosquitto-dynsec-setup.sh HOST PORT ACCOUNT PASSWORD
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: $0 HOST PORT ACCOUNT PASSWORD" >&2; exit 2; }
host=$1 port=$2 account=$3 password=$4
ctrl() { mosquitto_ctrl -h "$host" -p "$port" -u "$account" -P "$password" dynsec "$@" 2>&1 | grep -v -i -e 'without encryption' -e 'visible on the network' -e '^$' || true; }
ctrl createRole dustwatch-instance
ctrl addRoleACL dustwatch-instance subscribePattern '$share/dustwatch/devices/+/readings' allow
ctrl addRoleACL dustwatch-instance subscribePattern 'devices/+/readings' allow
ctrl addRoleACL dustwatch-instance subscribePattern '$share/dustwatch/devices/+/status' allow
ctrl addRoleACL dustwatch-instance subscribePattern 'devices/+/status' allow
ctrl addRoleACL dustwatch-instance publishClientSend 'devices/+/errors' allow
ctrl addRoleACL dustwatch-instance publishClientSend 'alerts/#' allow
ctrl addClientRole "$account" dustwatch-instance
if ! ctrl getClient "$account" | grep -q 'dustwatch-instance'; then
  echo "$account does not hold the role dustwatch-instance: is it the dynamic-security admin, and the password right?" >&2
  exit 1
fi
echo "$account holds dustwatch-instance"
