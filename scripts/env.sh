# Shared settings for the scripts: versions, tool locations, ports of the
# local services. Every value can be overridden from the environment.
: "${PVS_CACHE_DIR:=${XDG_CACHE_HOME:-$HOME/.cache}/pvs}"
: "${TRAEFIK_VERSION:=v3.6.12}"
: "${VERSITYGW_VERSION:=v1.8.0}"
: "${TRAEFIK_BIN:=$PVS_CACHE_DIR/traefik-$TRAEFIK_VERSION/traefik}"
: "${VERSITYGW_BIN:=$PVS_CACHE_DIR/versitygw-$VERSITYGW_VERSION/versitygw}"
: "${PG_BIN:=/usr/lib/postgresql/15/bin}"
: "${PVS_RUN_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/var/run}"
: "${PVS_REDIS_PORT:=16379}"
: "${PVS_PG_PORT:=15432}"
: "${PVS_S3_PORT:=19000}"
: "${PVS_HTTP_PORT:=18080}"
: "${PVS_RENDERER_PORT:=18081}"
: "${PVS_CACHE_PORT:=18082}"
: "${PVS_INGESTOR_PORT:=18083}"
: "${PVS_CLIENT_PORT:=18084}"
: "${PVS_ADMIN_PORT:=18085}"
: "${PVS_S3_ACCESS_KEY:=pvsadmin}"
: "${PVS_S3_SECRET_KEY:=pvsadmin-secret}"
# PostgreSQL runs as the postgres user, which must reach its data directory:
# under a checkout whose parents it cannot traverse (root's home, a mktemp -d
# folder: both 0700) the data lives under postgres's own home instead, one
# folder per checkout.
if [ -z "${PVS_PG_DIR:-}" ]; then
  PVS_PG_DIR=$PVS_RUN_DIR/pg
  if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1 &&
    ! runuser -u postgres -- test -x "$(dirname "$PVS_RUN_DIR")/.." 2>/dev/null; then
    PVS_PG_DIR=/var/lib/postgresql/pvs-$(printf '%s' "$PVS_RUN_DIR" | sha256sum | cut -c1-12)
  fi
fi
export PVS_PG_DIR
export PVS_CACHE_DIR TRAEFIK_VERSION VERSITYGW_VERSION TRAEFIK_BIN VERSITYGW_BIN PG_BIN PVS_RUN_DIR \
  PVS_REDIS_PORT PVS_PG_PORT PVS_S3_PORT PVS_HTTP_PORT PVS_RENDERER_PORT PVS_CACHE_PORT PVS_INGESTOR_PORT PVS_CLIENT_PORT PVS_ADMIN_PORT \
  PVS_S3_ACCESS_KEY PVS_S3_SECRET_KEY

# local_routes writes Traefik's routes to the local processes
# (stacks/traefik/local.yml with this machine's ports) to standard output.
local_routes() {
  sed -e "s/\${PVS_RENDERER_PORT}/$PVS_RENDERER_PORT/g" -e "s/\${PVS_CACHE_PORT}/$PVS_CACHE_PORT/g" \
    -e "s/\${PVS_INGESTOR_PORT}/$PVS_INGESTOR_PORT/g" -e "s/\${PVS_CLIENT_PORT}/$PVS_CLIENT_PORT/g" -e "s/\${PVS_ADMIN_PORT}/$PVS_ADMIN_PORT/g" \
    "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/stacks/traefik/local.yml"
}

# export_test_env points the integration tests and benchmarks at the local
# services.
export_test_env() {
  export PVS_INTEGRATION=1
  export PVS_TEST_REDIS_URL="redis://127.0.0.1:$PVS_REDIS_PORT/0"
  export PVS_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PVS_PG_PORT/pvs"
  export PVS_TEST_S3_ENDPOINT="http://127.0.0.1:$PVS_S3_PORT"
  export PVS_TEST_HTTP="http://127.0.0.1:$PVS_HTTP_PORT"
  export PVS_BIN="${PVS_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/bin/pvs}"
}

# export_demo_env configures pvs for collection VHR_IMAGE_2018 on the local
# services, with the local filesystem as object store (the demo's setup).
export_demo_env() {
  local root; root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  export PVS_CONFIG="$root/config/vhr18.yaml"
  export REDIS_URL="redis://127.0.0.1:$PVS_REDIS_PORT/0"
  export DATABASE_URL="postgres://postgres@127.0.0.1:$PVS_PG_PORT/pvs"
  export PVS_SOURCE="$root/var/data/vhr18/incoming" PVS_OUTPUT="$root/var/data/vhr18/products" PVS_CACHE_STORE="$root/var/data/vhr18/cache"
  export PVS_PUBLIC_URL="http://127.0.0.1:$PVS_HTTP_PORT"
}
