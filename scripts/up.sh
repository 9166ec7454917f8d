#!/usr/bin/env bash
# Starts the local services as processes under $PVS_RUN_DIR, on non-default
# ports: Redis, PostgreSQL + PostGIS, versitygw (S3) and Traefik. Idempotent:
# a service already running is left alone.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/env.sh"
run=$PVS_RUN_DIR
mkdir -p "$run"/{redis,s3/data,s3/iam,traefik/dynamic,log}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
wait_for() { # name, seconds, command...
  local name=$1 secs=$2; shift 2
  for _ in $(seq 1 $((secs * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "up: $name did not become ready in ${secs}s; see $run/log" >&2; return 1
}

# Redis
if ! alive "$run/redis/redis.pid"; then
  redis-server --bind 127.0.0.1 --port "$PVS_REDIS_PORT" --save '' --appendonly no \
    --dir "$run/redis" --daemonize yes --pidfile "$run/redis/redis.pid" --logfile "$run/log/redis.log"
fi
wait_for redis 10 redis-cli -p "$PVS_REDIS_PORT" ping

# PostgreSQL + PostGIS. initdb refuses root, so run it as postgres then; its
# files live in $PVS_PG_DIR, which postgres can reach (scripts/env.sh).
# From /: postgres may not enter the folder the user is in (a 0700 checkout).
pg_as() { if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }
pgdata=$PVS_PG_DIR/data
if [ ! -f "$pgdata/PG_VERSION" ]; then
  mkdir -p "$pgdata" "$PVS_PG_DIR/sock"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$PVS_PG_DIR"
  if ! pg_as test -w "$pgdata"; then
    echo "up: PostgreSQL (user postgres) cannot write $pgdata; set PVS_PG_DIR to a folder it can reach" >&2
    exit 1
  fi
  pg_as "$PG_BIN/initdb" -D "$pgdata" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$run/log/initdb.log"
fi
if ! pg_as "$PG_BIN/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
  pg_as "$PG_BIN/pg_ctl" -D "$pgdata" -l "$PVS_PG_DIR/postgres.log" -w -t 60 \
    -o "-p $PVS_PG_PORT -c listen_addresses=127.0.0.1 -k $PVS_PG_DIR/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null ||
    { echo "up: PostgreSQL did not start; see $PVS_PG_DIR/postgres.log" >&2; exit 1; }
fi
psql_() { psql -h 127.0.0.1 -p "$PVS_PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
wait_for postgres 30 psql_ -c 'select 1'
for db in pvs pvs_template; do
  if [ -z "$(psql_ -c "select 1 from pg_database where datname='$db'")" ]; then
    psql_ -c "create database $db" && psql_ -d "$db" -c 'create extension postgis'
  fi
done
psql_ -c "update pg_database set datistemplate = true where datname = 'pvs_template'"

# S3-compatible server. The background services run in sessions of their
# own (setsid), so that they outlive whatever started this script, like the
# daemonised Redis and PostgreSQL.
if ! alive "$run/s3/versitygw.pid"; then
  ROOT_ACCESS_KEY=$PVS_S3_ACCESS_KEY ROOT_SECRET_KEY=$PVS_S3_SECRET_KEY setsid nohup "$VERSITYGW_BIN" \
    --port "127.0.0.1:$PVS_S3_PORT" --iam-dir "$run/s3/iam" --health /health posix "$run/s3/data" \
    >"$run/log/versitygw.log" 2>&1 &
  echo $! >"$run/s3/versitygw.pid"
fi
wait_for versitygw 20 curl -sf "http://127.0.0.1:$PVS_S3_PORT/health"

# Traefik, routing /ows and /wms to the renderer and /wmts to the cache.
cat >"$run/traefik/traefik.yml" <<YAML
entryPoints:
  web:
    address: "127.0.0.1:$PVS_HTTP_PORT"
ping:
  entryPoint: web
api:
  dashboard: false
providers:
  file:
    directory: "$run/traefik/dynamic"
    watch: true
log:
  level: WARN
accessLog:
  filePath: "$run/log/traefik-access.log"
YAML
local_routes >"$run/traefik/dynamic/pvs.yml"
if ! alive "$run/traefik/traefik.pid"; then
  setsid nohup "$TRAEFIK_BIN" --configFile="$run/traefik/traefik.yml" >"$run/log/traefik.log" 2>&1 &
  echo $! >"$run/traefik/traefik.pid"
fi
wait_for traefik 30 curl -sf "http://127.0.0.1:$PVS_HTTP_PORT/ping"
echo "up: redis :$PVS_REDIS_PORT, postgres :$PVS_PG_PORT, s3 :$PVS_S3_PORT, traefik :$PVS_HTTP_PORT (run dir $run)"
