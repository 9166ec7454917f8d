#!/usr/bin/env bash
# Makes a Docker engine with a single-node swarm available: installs Debian's
# docker.io if needed, starts dockerd if none answers (its log and pid under
# $PVS_RUN_DIR/docker), and initialises the swarm. Exit 3: Docker cannot be
# started here (not root, no package), which callers may treat as a skip.
#   scripts/docker.sh        start   |   scripts/docker.sh --stop   stop what start started
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/env.sh"
run=$PVS_RUN_DIR/docker
mkdir -p "$run"

if [ "${1:-}" = --stop ]; then
  if [ -f "$run/dockerd.pid" ] && kill -0 "$(cat "$run/dockerd.pid")" 2>/dev/null; then
    docker swarm leave --force >/dev/null 2>&1 || true
    kill "$(cat "$run/dockerd.pid")"
    for _ in $(seq 1 100); do kill -0 "$(cat "$run/dockerd.pid")" 2>/dev/null || break; sleep 0.2; done
    rm -f "$run/dockerd.pid"
    echo "docker: engine stopped"
  fi
  exit 0
fi

if ! docker info >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { echo "docker: no engine answers and starting one needs root" >&2; exit 3; }
  if ! command -v dockerd >/dev/null; then
    echo "docker: installing docker.io"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends docker.io >/dev/null; } ||
      { echo "docker: docker.io could not be installed" >&2; exit 3; }
  fi
  command -v debootstrap >/dev/null || apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  nohup dockerd >"$run/dockerd.log" 2>&1 &
  echo $! >"$run/dockerd.pid"
  for _ in $(seq 1 150); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
  docker info >/dev/null 2>&1 || { echo "docker: dockerd did not start; see $run/dockerd.log" >&2; exit 3; }
  echo "docker: engine started (log $run/dockerd.log)"
fi
if [ "$(docker info -f '{{.Swarm.LocalNodeState}}')" != active ]; then
  docker swarm init --advertise-addr 127.0.0.1 >/dev/null
  echo "docker: single-node swarm initialised"
fi
