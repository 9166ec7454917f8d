#!/usr/bin/env bash
# Runs every test against the real services: starts them (unless already up),
# runs `go test -race`, the fuzz targets briefly, then the stack test, and stops what it started.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
. scripts/env.sh
# The end-to-end test runs its own daemons on the renderer and cache ports.
bash scripts/down.sh --daemons >/dev/null
started=0
if ! curl -sf "http://127.0.0.1:$PVS_HTTP_PORT/ping" >/dev/null 2>&1; then
  started=1
fi
bash scripts/up.sh
[ $started = 1 ] && trap 'bash scripts/down.sh' EXIT
export_test_env
# The end-to-end test runs this binary: never an old one.
go build -o "$PVS_BIN" ./cmd/pvs
if [ $# -eq 0 ]; then set -- ./...; fi
go test -race -count=1 -timeout 30m "$@"
# Every fuzz target a few seconds beyond its seed corpus.
if [ "$*" = ./... ]; then bash scripts/fuzz.sh; fi
# The stacks deployed on a swarm, whenever Docker can be started here (and
# not when the caller named packages).
if [ "$*" = ./... ] && [ "${PVS_SKIP_STACK_TEST:-}" != 1 ]; then
  rc=0
  bash scripts/stack-test.sh || rc=$?
  if [ $rc = 3 ]; then echo "stack-test: skipped, Docker cannot be started on this machine"; elif [ $rc != 0 ]; then exit $rc; fi
fi
