#!/usr/bin/env bash
# Stops the pvs daemons and the local services started by up.sh; with
# --daemons, only the pvs daemons.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/env.sh"
run=$PVS_RUN_DIR
stop_pid() {
  local f=$1
  [ -f "$f" ] || return 0
  local pid; pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  fi
  rm -f "$f"
}
for f in "$run"/daemons/*.pid; do [ -e "$f" ] && stop_pid "$f"; done
if [ "${1:-}" = "--daemons" ]; then exit 0; fi
stop_pid "$run/traefik/traefik.pid"
stop_pid "$run/s3/versitygw.pid"
if [ -f "$run/redis/redis.pid" ]; then redis-cli -p "$PVS_REDIS_PORT" shutdown nosave >/dev/null 2>&1; stop_pid "$run/redis/redis.pid"; fi
if [ -f "$PVS_PG_DIR/data/PG_VERSION" ]; then
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PVS_PG_DIR/data" -m fast stop) >/dev/null 2>&1
  else "$PG_BIN/pg_ctl" -D "$PVS_PG_DIR/data" -m fast stop >/dev/null 2>&1; fi
fi
echo "down: services stopped"
