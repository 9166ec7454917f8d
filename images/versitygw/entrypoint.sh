#!/bin/sh
# Reads the root keys from *_FILE secrets, then serves /data/objects.
set -eu
for v in ROOT_ACCESS_KEY ROOT_SECRET_KEY; do
  eval f=\${${v}_FILE:-}
  if [ -n "$f" ]; then export "$v=$(cat "$f")"; fi
done
: "${ROOT_ACCESS_KEY:?ROOT_ACCESS_KEY or ROOT_ACCESS_KEY_FILE is required}"
: "${ROOT_SECRET_KEY:?ROOT_SECRET_KEY or ROOT_SECRET_KEY_FILE is required}"
mkdir -p /data/objects /data/iam
exec versitygw --port :7070 --iam-dir /data/iam --health /health "$@" posix /data/objects
