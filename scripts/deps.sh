#!/usr/bin/env bash
# Installs what pvs needs on a Debian machine, skipping what is already there:
# GDAL, libjpeg-turbo, PostgreSQL + PostGIS and Redis from Debian; the S3-compatible server
# (versitygw) and Traefik built from the Go module proxy into a cache that is
# keyed by version, so each is built once per machine.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$here/scripts/env.sh"

need_apt=()
command -v gdalinfo >/dev/null && [ -e /usr/include/gdal/gdal.h ] || need_apt+=(gdal-bin libgdal-dev)
[ -x "$PG_BIN/initdb" ] && [ -e /usr/share/postgresql/15/extension/postgis.control ] || need_apt+=(postgresql-15-postgis-3)
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
[ -e /usr/include/turbojpeg.h ] || need_apt+=(libturbojpeg0-dev)
command -v curl >/dev/null || need_apt+=(curl ca-certificates)
# Capabilities are validated against the OGC schemas with xmllint; the
# browser tests drive Debian's Chromium (their pages are bundled with npm),
# and OWSLib (Debian's, for Debian's /usr/bin/python3) uses the services as
# Python map clients do.
command -v xmllint >/dev/null || need_apt+=(libxml2-utils)
command -v chromium >/dev/null || need_apt+=(chromium)
command -v npm >/dev/null || need_apt+=(nodejs npm)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import owslib' 2>/dev/null || need_apt+=(python3-owslib)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "deps: installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ ! -x "$VERSITYGW_BIN" ]; then
  echo "deps: building versitygw $VERSITYGW_VERSION (about 2 minutes, once per machine)"
  mkdir -p "$(dirname "$VERSITYGW_BIN")"
  GOBIN=$(dirname "$VERSITYGW_BIN") go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
fi

if [ ! -x "$TRAEFIK_BIN" ]; then
  echo "deps: building traefik $TRAEFIK_VERSION (about 13 minutes and 3 GB of RAM, once per machine)"
  mkdir -p "$(dirname "$TRAEFIK_BIN")"
  (cd "$here/tools/traefik" && go build -trimpath -ldflags="-s -w" -o "$TRAEFIK_BIN.tmp" github.com/traefik/traefik/v3/cmd/traefik)
  mv "$TRAEFIK_BIN.tmp" "$TRAEFIK_BIN"
fi
echo "deps: ready (gdal $(gdal-config --version), versitygw $VERSITYGW_VERSION, traefik $TRAEFIK_VERSION)"
