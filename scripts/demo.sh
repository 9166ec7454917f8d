#!/usr/bin/env bash
# The one-command demo: with the local services up, starts the pvs daemons for
# collection VHR_IMAGE_2018 on the local filesystem store, ingests the sample
# product from testdata/, checks that a map and a tile come back through
# Traefik, and prints the URLs to open in a map client.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
. scripts/env.sh
run=$PVS_RUN_DIR
pvs="$here/bin/pvs"
export_demo_env
mkdir -p "$run/daemons" "$run/log" "$PVS_SOURCE"

"$pvs" migrate
# The web client, the management API and the ingestor behind the same
# Traefik; the API's and the ingestor's bearer tokens are made once.
export PVS_CLIENT_LISTEN=127.0.0.1:$PVS_CLIENT_PORT PVS_ADMIN_LISTEN=127.0.0.1:$PVS_ADMIN_PORT
for tok in admin-token ingestor-token; do
  [ -s "$run/$tok" ] || (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$run/$tok")
done
export PVS_ADMIN_TOKEN_FILE=$run/admin-token PVS_INGESTOR_TOKEN_FILE=$run/ingestor-token
for d in preprocessor registrar seeder renderer cache client admin ingestor; do
  f="$run/daemons/$d.pid"
  if [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; then continue; fi
  setsid nohup "$pvs" "$d" >"$run/log/$d.log" 2>&1 &
  echo $! >"$f"
done

# The sample package: the raster and its EO O&M metadata in one tar.
tar -C testdata -cf "$PVS_SOURCE/VHR18_SAMPLE_RGB_20180615.tar" --transform 's#.*/##' \
  rasters/RGB.byte.tif products/vhr18_sample/VHR18_SAMPLE_RGB_20180615.xml
"$pvs" enqueue --wait 2m VHR18_SAMPLE_RGB_20180615.tar

base="http://127.0.0.1:$PVS_HTTP_PORT"
wms="$base/ows?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=VHR_IMAGE_2018&STYLES=&CRS=EPSG:3857&BBOX=-8800000,2720000,-8500000,3040000&WIDTH=600&HEIGHT=640&FORMAT=image/png&TRANSPARENT=TRUE"
tile="$base/wmts/1.0.0/VHR_IMAGE_2018/default/GoogleMapsCompatible/8/109/72.png"
for _ in $(seq 1 50); do curl -sf -o "$run/demo-map.png" "$wms" && break; sleep 0.2; done
curl -sf -o "$run/demo-map.png" "$wms"
curl -sf -o "$run/demo-tile.png" "$tile"
for _ in $(seq 1 50); do curl -sf "$base/" | grep -q '<html' && break; sleep 0.2; done
curl -sf "$base/" | grep -q '<html'
cat <<TXT

pvs demo: product VHR18_SAMPLE_RGB_20180615 is ingested, registered and served.

  web client         $base/
  operations console $base/admin/   (token: $run/admin-token)
  ingest endpoint    $base/ingest   (token: $run/ingestor-token; or drop packages in $PVS_SOURCE/inbox/)
  WMS capabilities   $base/ows?SERVICE=WMS&REQUEST=GetCapabilities
  WMS map            $wms
  WMTS capabilities  $base/wmts/1.0.0/WMTSCapabilities.xml
  WMTS tile          $tile
  WCS capabilities   $base/ows?SERVICE=WCS&REQUEST=GetCapabilities
  WCS coverage       $base/ows?SERVICE=WCS&VERSION=2.0.1&REQUEST=GetCoverage&COVERAGEID=VHR18_SAMPLE_RGB_20180615&SCALEFACTOR=4
  OpenSearch         $base/opensearch/json?bbox=-79,23.5,-76.5,25.6
  STAC API           $base/stac  (search: $base/stac/search?bbox=-79,23.5,-76.5,25.6)

  saved: $run/demo-map.png and $run/demo-tile.png
  queues and sets:   bin/pvs status      (PVS_CONFIG=$PVS_CONFIG)
  stop everything:   make down
TXT
