#!/usr/bin/env bash
# Runs the benchmarks under bench/ and the package benchmarks, and keeps the
# output in var/bench/ for benchstat.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
mkdir -p var/bench
out="var/bench/$(date -u +%Y%m%dT%H%M%SZ).txt"
go test -run '^$' -bench . -benchtime "${PVS_BENCH_TIME:-3x}" -timeout 60m ./bench/ | tee "$out"
echo "bench: results in $out"
