#!/usr/bin/env bash
# Runs the benchmarks under bench/ against the real services (started if
# needed, stopped if this script started them) and keeps the output in
# var/bench/ for benchstat.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
. scripts/env.sh
started=0
curl -sf "http://127.0.0.1:$PVS_HTTP_PORT/ping" >/dev/null 2>&1 || started=1
bash scripts/up.sh
[ $started = 1 ] && trap 'bash scripts/down.sh' EXIT
export_test_env
mkdir -p var/bench
out="var/bench/$(date -u +%Y%m%dT%H%M%SZ).txt"
go test -run '^$' -bench "${PVS_BENCH:-.}" -benchtime "${PVS_BENCH_TIME:-1x}" -timeout 60m ./bench/ | tee "$out"
echo "bench: results in $out"
