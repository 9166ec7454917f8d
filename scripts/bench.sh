#!/usr/bin/env bash
# Runs the benchmarks under bench/: the local services are started if
# needed, the demo deployment (sample product, daemons) and the reference
# servers (MapServer, nginx, Apache + MapCache, from scripts/refs.sh) are
# set up for the comparisons; everything this script started is stopped.
# Output is kept in var/bench/ for benchstat. PVS_BENCH selects benchmarks.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
. scripts/env.sh
started=0
curl -sf "http://127.0.0.1:$PVS_HTTP_PORT/ping" >/dev/null 2>&1 || started=1
bash scripts/up.sh
cleanup() {
  bash scripts/refs.sh down >/dev/null 2>&1 || true
  bash scripts/down.sh --daemons >/dev/null 2>&1 || true
  [ $started = 1 ] && bash scripts/down.sh >/dev/null 2>&1 || true
}
trap cleanup EXIT
export_test_env
mkdir -p var/bench

# The reference servers, when installed (bench-deps: cgi-mapserver,
# mapcache-tools, libapache2-mod-mapcache, apache2, nginx-light, wrk).
if [ "${PVS_BENCH_REFS:-auto}" != 0 ] && command -v mapcache_seed >/dev/null && command -v nginx >/dev/null \
   && command -v apache2 >/dev/null && [ -x /usr/lib/cgi-bin/mapserv ]; then
  bash scripts/demo.sh >/dev/null
  export_demo_env
  id=VHR18_SAMPLE_RGB_20180615
  cog="var/data/vhr18/products/VHR_IMAGE_2018/$id/$id.tif"
  # A 4-band UInt16 product from the same pixels (x16 + band 1 again as a
  # fourth band), moved 1,000 km north so that it touches none of the
  # sample's tiles, on another day.
  id16=VHR18_SAMPLE_U16_20180620
  cog16="var/data/vhr18/products/VHR_IMAGE_2018/$id16/$id16.tif"
  if [ ! -f "$cog16" ]; then
    tmp16=$(mktemp -d)
    gdal_translate -q -ot UInt16 -scale 0 255 0 4080 -b 1 -b 2 -b 3 -b 1 -a_nodata 0 \
      -a_ullr 101985 3826915 339315 3611485 testdata/rasters/RGB.byte.tif "$tmp16/$id16.tif"
    sed -e "s/VHR18_SAMPLE_RGB_20180615/$id16/g" -e 's/2018-06-15T/2018-06-20T/g' \
      testdata/products/vhr18_sample/VHR18_SAMPLE_RGB_20180615.xml >"$tmp16/$id16.xml"
    tar -C "$tmp16" -cf "$PVS_SOURCE/$id16.tar" "$id16.tif" "$id16.xml"
    rm -rf "$tmp16"
    bin/pvs enqueue --wait 2m "$id16.tar" >/dev/null
  fi
  # The large scenes (bench/scenegen), generated once into $PVS_CACHE_DIR/bench
  # and registered through the preprocessor like any delivery; skipped when
  # PVS_BENCH selects no benchmark that uses them.
  if [ -z "${PVS_BENCH:-}" ] || printf '%s' "GetMapLarge TileHitsLarge" | grep -Eq -- "${PVS_BENCH}"; then
    mkdir -p "$PVS_CACHE_DIR/bench"
    while read -r kind lid ltime; do
      if [ ! -f "$PVS_CACHE_DIR/bench/$lid.tar" ]; then
        echo "bench: generating the $kind scene $lid (once, into $PVS_CACHE_DIR/bench)"
        go run ./bench/scenegen -kind "$kind" -id "$lid" -time "$ltime" -o "$PVS_CACHE_DIR/bench" >/dev/null
      fi
      lcog="var/data/vhr18/products/VHR_IMAGE_2018/$lid/$lid.tif"
      registered=$(psql -h 127.0.0.1 -p "$PVS_PG_PORT" -U postgres -d pvs -qtAc "SELECT count(*) FROM products WHERE identifier = '$lid'")
      if [ ! -f "$lcog" ] || [ "$registered" != 1 ]; then
        echo "bench: preprocessing and registering $lid"
        ln -sf "$PVS_CACHE_DIR/bench/$lid.tar" "$PVS_SOURCE/$lid.tar"
        bin/pvs enqueue --wait 10m "$lid.tar" >/dev/null
      fi
    done <<SCENES
uint16 BENCH_LARGE_U16_20180701 2018-07-01T10:00:00Z
rgb BENCH_LARGE_RGB_20180702 2018-07-02T10:00:00Z
SCENES
    export PVS_REFS_LARGE16="var/data/vhr18/products/VHR_IMAGE_2018/BENCH_LARGE_U16_20180701/BENCH_LARGE_U16_20180701.tif"
    export PVS_REFS_LARGERGB="var/data/vhr18/products/VHR_IMAGE_2018/BENCH_LARGE_RGB_20180702/BENCH_LARGE_RGB_20180702.tif"
    export PVS_BENCH_LARGE_SCENES=1
  fi
  # The renderer's configuration in the benchmarks: the collection's, plus
  # TRUE_COLOR_UINT16 with bilinear, cubic and average resampling.
  awk '{ print }
    /- name: TRUE_COLOR_UINT16$/ { u = 1 }
    u && /resampling: nearest/ {
      for (i = 1; i <= 3; i++) {
        split("BILINEAR CUBIC AVERAGE", n, " ")
        printf "    - name: TRUE_COLOR_UINT16_%s\n      bands: [1, 2, 3]\n      range: [0, 4000]\n      resampling: %s\n", n[i], tolower(n[i])
      }
      u = 0
    }' config/vhr18.yaml >var/bench/vhr18.yaml
  export PVS_BENCH_CONFIG="$here/var/bench/vhr18.yaml"
  bash scripts/refs.sh up "$cog" var/data/vhr18/cache "$cog16"
  psql -h 127.0.0.1 -p "$PVS_PG_PORT" -U postgres -d pvs -qtAc \
    "SELECT ST_AsGeoJSON(footprint) FROM products WHERE identifier = '$id'" >var/bench/footprint.json
  rm -f var/bench/footprint3857.*
  ogr2ogr -t_srs EPSG:3857 var/bench/footprint3857.shp var/bench/footprint.json
  export PVS_BENCH_REFS=1 PVS_BENCH_FOOTPRINT="$here/var/bench/footprint3857.shp" PVS_RUN_DIR PVS_BENCH_TRAEFIK_PORT=${PVS_BENCH_TRAEFIK_PORT:-18093}
else
  echo "bench: reference servers not installed (make bench-deps); the comparisons with them are skipped"
fi
out="var/bench/$(date -u +%Y%m%dT%H%M%SZ).txt"
t0=$(date +%s)
go test -run '^$' -bench "${PVS_BENCH:-.}" -benchtime "${PVS_BENCH_TIME:-1x}" -timeout 90m ./bench/ | tee "$out"
echo "bench: results in $out (benchmarks took $(( $(date +%s) - t0 )) s)"
