#!/usr/bin/env bash
# Reference servers for the benchmarks, as local processes under
# $PVS_RUN_DIR/refs: MapServer 8 (2 FastCGI processes) behind nginx, nginx
# serving the pvs tile cache statically, Apache with mod_mapcache (disk
# cache, fed by that MapServer), and a Traefik (the stack's version) in
# front of both the pvs cache and Apache. Usage: refs.sh up COG CACHEDIR
# [COG16] | refs.sh down. COG16, a 4-band UInt16 COG, becomes the layer
# sample16, bands 1-3 stretched from 0-4000. The large scenes, when
# PVS_REFS_LARGE16 (4-band UInt16) and PVS_REFS_LARGERGB (3-band Byte) name
# their COGs, become the layers large16 (nearest, and large16_bilinear,
# large16_cubic, large16_average with MapServer's other resamplings) and
# largergb, and large16 a MapCache tileset.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/env.sh"
refs=$PVS_RUN_DIR/refs
: "${PVS_MS_PORT:=18090}" "${PVS_NGINX_TILES_PORT:=18091}" "${PVS_MAPCACHE_PORT:=18092}" "${PVS_BENCH_TRAEFIK_PORT:=18093}"

down() {
  [ -f "$refs/nginx.pid" ] && kill "$(cat "$refs/nginx.pid")" 2>/dev/null || true
  [ -f "$refs/apache.pid" ] && kill "$(cat "$refs/apache.pid")" 2>/dev/null || true
  [ -f "$refs/traefik.pid" ] && kill "$(cat "$refs/traefik.pid")" 2>/dev/null || true
  pkill -f "spawn-fcgi.*$refs/ms.sock" 2>/dev/null || true
  pkill -f "$refs/ms.sock" 2>/dev/null || true
  [ -f "$refs/ms.pids" ] && xargs -r kill <"$refs/ms.pids" 2>/dev/null || true
  pkill -f "^/usr/lib/cgi-bin/mapserv" 2>/dev/null || true
  sleep 0.3
  rm -f "$refs"/*.pid "$refs/ms.pids" "$refs/ms.sock"
}

if [ "${1:-}" = down ]; then down; echo "refs: stopped"; exit 0; fi
[ "${1:-}" = up ] || { echo "usage: refs.sh up COG CACHEDIR [COG16] | refs.sh down" >&2; exit 2; }
cog=$(realpath "$2"); cachedir=$(realpath "$3")
layer16=""
if [ -n "${4:-}" ]; then
  layer16="  LAYER
    NAME \"sample16\"
    TYPE RASTER
    STATUS ON
    DATA \"$(realpath "$4")\"
    PROJECTION AUTO END
    PROCESSING \"BANDS=1,2,3\"
    PROCESSING \"SCALE=0,4000\"
    PROCESSING \"RESAMPLE=NEAREST\"
    METADATA \"wms_title\" \"sample16\" \"wms_srs\" \"EPSG:3857 EPSG:4326\" END
  END"
fi
# rasterlayer NAME COG PROCESSING...: one MapServer raster layer.
rasterlayer() {
  local name=$1 data=$2; shift 2
  printf '  LAYER\n    NAME "%s"\n    TYPE RASTER\n    STATUS ON\n    DATA "%s"\n    PROJECTION AUTO END\n' "$name" "$(realpath "$data")"
  for p in "$@"; do printf '    PROCESSING "%s"\n' "$p"; done
  printf '    METADATA "wms_title" "%s" "wms_srs" "EPSG:3857 EPSG:4326" END\n  END\n' "$name"
}
large=""
if [ -n "${PVS_REFS_LARGE16:-}" ]; then
  large+=$(rasterlayer large16 "$PVS_REFS_LARGE16" BANDS=1,2,3 SCALE=0,4000 RESAMPLE=NEAREST)$'\n'
  for r in bilinear:BILINEAR cubic:BICUBIC average:AVERAGE; do
    large+=$(rasterlayer "large16_${r%%:*}" "$PVS_REFS_LARGE16" BANDS=1,2,3 SCALE=0,4000 "RESAMPLE=${r#*:}")$'\n'
  done
fi
if [ -n "${PVS_REFS_LARGERGB:-}" ]; then
  large+=$(rasterlayer largergb "$PVS_REFS_LARGERGB" BANDS=1,2,3 RESAMPLE=NEAREST)$'\n'
fi
down
mkdir -p "$refs"/{mapcache,logs,tmp,traefik}
chmod 755 "$refs" "$refs/mapcache"
chown -R www-data "$refs/mapcache" 2>/dev/null || true

# MapServer: the same COG as one layer, PNG and JPEG, EPSG:3857 and 4326.
cat >"$refs/sample.map" <<EOMAP
MAP
  NAME "sample"
  EXTENT -180 -90 180 90
  SIZE 256 256
  PROJECTION "init=epsg:3857" END
  OUTPUTFORMAT NAME "png" DRIVER "AGG/PNG" MIMETYPE "image/png" IMAGEMODE RGBA TRANSPARENT ON EXTENSION "png" END
  OUTPUTFORMAT NAME "jpeg" DRIVER "AGG/JPEG" MIMETYPE "image/jpeg" IMAGEMODE RGB EXTENSION "jpg" FORMATOPTION "QUALITY=85" END
  WEB
    METADATA
      "wms_title" "sample"
      "wms_onlineresource" "http://127.0.0.1:$PVS_MS_PORT/ms?"
      "wms_srs" "EPSG:3857 EPSG:4326"
      "wms_enable_request" "*"
    END
  END
  LAYER
    NAME "sample"
    TYPE RASTER
    STATUS ON
    DATA "$cog"
    PROJECTION AUTO END
    PROCESSING "RESAMPLE=NEAREST"
    METADATA "wms_title" "sample" "wms_srs" "EPSG:3857 EPSG:4326" END
  END
$layer16
$large
END
EOMAP
cat >"$refs/mapserver.conf" <<CONF
CONFIG
  ENV
    MS_MAP_PATTERN "."
    MS_MAPFILE "$refs/sample.map"
  END
END
CONF
MAPSERVER_CONFIG_FILE=$refs/mapserver.conf MS_MAPFILE=$refs/sample.map \
  spawn-fcgi -s "$refs/ms.sock" -M 0666 -F 2 -P "$refs/spawn.pid" -- /usr/lib/cgi-bin/mapserv >/dev/null
sleep 0.5
pgrep -f "^/usr/lib/cgi-bin/mapserv" >"$refs/ms.pids" || true

# nginx: MapServer over FastCGI, and the pvs tile files as static files.
cat >"$refs/nginx.conf" <<NGINX
worker_processes 2;
pid $refs/nginx.pid;
error_log $refs/logs/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path $refs/tmp; proxy_temp_path $refs/tmp; fastcgi_temp_path $refs/tmp;
  uwsgi_temp_path $refs/tmp; scgi_temp_path $refs/tmp;
  types { image/png png; image/jpeg jpeg jpg; }
  server {
    listen 127.0.0.1:$PVS_MS_PORT;
    location /ms {
      fastcgi_pass unix:$refs/ms.sock;
      fastcgi_param QUERY_STRING \$query_string;
      fastcgi_param REQUEST_METHOD \$request_method;
      fastcgi_param CONTENT_TYPE \$content_type;
      fastcgi_param CONTENT_LENGTH \$content_length;
      fastcgi_param SCRIPT_NAME /ms;
      fastcgi_param SERVER_NAME 127.0.0.1;
      fastcgi_param SERVER_PORT $PVS_MS_PORT;
      fastcgi_param MS_MAPFILE $refs/sample.map;
    }
  }
  server {
    listen 127.0.0.1:$PVS_NGINX_TILES_PORT;
    root $cachedir;
  }
}
NGINX
nginx -c "$refs/nginx.conf"

# Apache with mod_mapcache: a disk cache of the same layer, fed by MapServer.
cat >"$refs/mapcache.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<mapcache>
  <cache name="disk" type="disk"><base>$refs/mapcache</base><symlink_blank/></cache>
  <source name="ms" type="wms">
    <getmap><params><FORMAT>image/png</FORMAT><LAYERS>sample</LAYERS><TRANSPARENT>true</TRANSPARENT></params></getmap>
    <http><url>http://127.0.0.1:$PVS_MS_PORT/ms?</url></http>
  </source>
  <format name="PNGQ" type="PNG"><compression>fast</compression></format>
  <tileset name="sample">
    <source>ms</source><cache>disk</cache><grid>GoogleMapsCompatible</grid><format>PNGQ</format>
    <metatile>8 8</metatile><metabuffer>0</metabuffer>
  </tileset>
  <source name="ms16" type="wms">
    <getmap><params><FORMAT>image/png</FORMAT><LAYERS>large16</LAYERS><TRANSPARENT>true</TRANSPARENT></params></getmap>
    <http><url>http://127.0.0.1:$PVS_MS_PORT/ms?</url></http>
  </source>
  <tileset name="large16">
    <source>ms16</source><cache>disk</cache><grid>GoogleMapsCompatible</grid><format>PNGQ</format>
    <metatile>4 4</metatile><metabuffer>0</metabuffer>
  </tileset>
  <service type="wmts" enabled="true"/>
  <service type="wms" enabled="true"/>
  <default_format>PNGQ</default_format>
  <log_level>warn</log_level>
  <threaded_fetching>true</threaded_fetching>
</mapcache>
XML
cat >"$refs/apache.conf" <<APACHE
ServerRoot /etc/apache2
PidFile $refs/apache.pid
Listen 127.0.0.1:$PVS_MAPCACHE_PORT
User www-data
Group www-data
ErrorLog $refs/logs/apache-error.log
LogLevel warn
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule mapcache_module /usr/lib/apache2/modules/mod_mapcache.so
ServerName 127.0.0.1
KeepAlive On
MaxKeepAliveRequests 0
<IfModule mpm_event_module>
  StartServers 2
  ThreadsPerChild 25
  MaxRequestWorkers 150
</IfModule>
MapCacheAlias /mapcache "$refs/mapcache.xml"
<Directory "$refs">
  Require all granted
</Directory>
APACHE
chmod -R a+rX "$refs"
APACHE_RUN_DIR=$refs APACHE_LOCK_DIR=$refs APACHE_LOG_DIR=$refs/logs apache2 -f "$refs/apache.conf" -k start

# Traefik, configured as the stack's (JSON access log, same version), in
# front of the pvs cache (/wmts) and Apache + mod_mapcache (/mapcache), with
# the stack's dynamic configuration for the local processes.
if [ -x "$TRAEFIK_BIN" ]; then
  cat >"$refs/traefik/traefik.yml" <<YAML
entryPoints:
  web:
    address: "127.0.0.1:$PVS_BENCH_TRAEFIK_PORT"
    transport:
      respondingTimeouts:
        readTimeout: 120s
ping:
  entryPoint: web
api:
  dashboard: false
providers:
  file:
    directory: "$refs/traefik/dynamic"
log:
  level: WARN
accessLog:
  filePath: "$refs/logs/traefik-access.log"
  format: json
YAML
  mkdir -p "$refs/traefik/dynamic"
  local_routes >"$refs/traefik/dynamic/pvs.yml"
  cat >"$refs/traefik/dynamic/mapcache.yml" <<YAML
http:
  routers:
    mapcache:
      entryPoints: [web]
      rule: "PathPrefix(\`/mapcache\`)"
      service: mapcache
  services:
    mapcache:
      loadBalancer:
        servers:
          - url: "http://127.0.0.1:$PVS_MAPCACHE_PORT"
YAML
  # The same Traefik in front of nginx serving the tile files: the most
  # any tile server behind this proxy can get through it.
  cat >"$refs/traefik/dynamic/nginx.yml" <<YAML
http:
  routers:
    nginx-tiles:
      entryPoints: [web]
      rule: "PathPrefix(\`/VHR_IMAGE_2018\`)"
      service: nginx-tiles
  services:
    nginx-tiles:
      loadBalancer:
        servers:
          - url: "http://127.0.0.1:$PVS_NGINX_TILES_PORT"
YAML
  nohup "$TRAEFIK_BIN" --configFile="$refs/traefik/traefik.yml" >"$refs/logs/traefik.log" 2>&1 &
  echo $! >"$refs/traefik.pid"
fi

for url in "http://127.0.0.1:$PVS_MS_PORT/ms?SERVICE=WMS&REQUEST=GetCapabilities" \
           "http://127.0.0.1:$PVS_MAPCACHE_PORT/mapcache/wmts?SERVICE=WMTS&REQUEST=GetCapabilities" \
           $([ -x "$TRAEFIK_BIN" ] && echo "http://127.0.0.1:$PVS_BENCH_TRAEFIK_PORT/ping"); do
  for _ in $(seq 1 150); do curl -sf -o /dev/null "$url" && break; sleep 0.1; done
  curl -sf -o /dev/null "$url" || { echo "refs: $url does not answer" >&2; exit 1; }
done
echo "refs: mapserver :$PVS_MS_PORT, nginx tiles :$PVS_NGINX_TILES_PORT, apache+mapcache :$PVS_MAPCACHE_PORT, traefik :$PVS_BENCH_TRAEFIK_PORT"
