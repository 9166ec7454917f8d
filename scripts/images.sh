#!/usr/bin/env bash
# Builds every image the stacks use from Debian and the Go module proxy alone
# (no registry is needed): a Debian base made with debootstrap, the Go
# toolchain image for the build stage, pvs, PostGIS, Redis, Traefik, the S3
# server and Prometheus. Each image carries a hash of its inputs as a label
# and is rebuilt only when they change, so a second run takes seconds.
#   scripts/images.sh [--pvs-tag TAG]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/env.sh"
export DOCKER_BUILDKIT=0 # the legacy builder: Debian's engine has no buildx
pvs_tag=latest
[ "${1:-}" = --pvs-tag ] && pvs_tag=$2
cache=$PVS_CACHE_DIR/images
mkdir -p "$cache"

label() { docker image inspect -f '{{index .Config.Labels "pvs.input"}}' "$1" 2>/dev/null || true; }
hash_of() { # files or folders, relative to the checkout: the same wherever it is cloned
  (cd "$here" && find "$@" -type f ! -name '*_test.go' ! -path '*/testdata/*' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
}
# build TAG HASH CONTEXT [docker build args...]: builds unless TAG has HASH.
build() {
  local tag=$1 h=$2 ctx=$3; shift 3
  if [ "$(label "$tag")" = "$h" ]; then echo "images: $tag is up to date"; return; fi
  echo "images: building $tag"
  local t0=$SECONDS
  docker build -q --label "pvs.input=$h" -t "$tag" "$@" "$ctx" >"$cache/build.log" 2>&1 ||
    { cat "$cache/build.log" >&2; echo "images: building $tag failed" >&2; exit 1; }
  echo "images: $tag built in $((SECONDS - t0)) s"
}

# The Debian base, in the role of debian:bookworm-slim.
base=debian:bookworm-slim
base_hash=$(printf 'bookworm minbase v1' | sha256sum | cut -c1-16)
if [ "$(label "$base")" != "$base_hash" ]; then
  tarball=$cache/bookworm-minbase.tar
  if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }
    root=$(mktemp -d "$cache/rootfs.XXXXXX")
    echo "images: debootstrap bookworm (about 30 s)"
    debootstrap --variant=minbase bookworm "$root" >"$cache/debootstrap.log" 2>&1 ||
      { echo "images: debootstrap failed, see $cache/debootstrap.log" >&2; exit 1; }
    # What the slim image leaves out: package caches and lists, docs.
    chroot "$root" apt-get clean
    rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/var/log/*.log
    printf 'path-exclude /usr/share/doc/*\npath-exclude /usr/share/man/*\npath-include /usr/share/doc/*/copyright\n' \
      >"$root/etc/dpkg/dpkg.cfg.d/docker-slim"
    tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
  fi
  docker import --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "LABEL pvs.input=$base_hash" "$tarball" "$base" >/dev/null
  echo "images: $base imported"
fi

# Go for the build stage: the toolchain the module proxy serves.
gover=$(go env GOVERSION) # go1.26.8
goimg=golang:$(echo "${gover#go}" | cut -d. -f1,2)-bookworm
tool=$(GOFLAGS=-mod=mod go mod download -json "golang.org/toolchain@v0.0.1-$gover.linux-amd64" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
[ -d "$tool/bin" ] || { echo "images: no Go toolchain $gover from the module proxy" >&2; exit 1; }
sitecas=/usr/local/share/ca-certificates
h=$(printf '%s %s %s' "$gover" "$(hash_of images/golang)" "$(find "$sitecas" -name '*.crt' -exec cat {} + 2>/dev/null | sha256sum)" | sha256sum | cut -c1-16)
if [ "$(label "$goimg")" != "$h" ]; then
  goctx=$(mktemp -d); trap 'rm -rf "$goctx"' EXIT
  cp "$here/images/golang/Dockerfile" "$goctx/" && cp -r "$tool" "$goctx/go" && chmod -R u+w "$goctx/go"
  mkdir -p "$goctx/ca" && find "$sitecas" -name '*.crt' -exec cp {} "$goctx/ca/" \; 2>/dev/null || true
  # Module zips keep no file modes: the commands get theirs back.
  chmod +x "$goctx/go/bin/"* "$goctx/go/pkg/tool/"*/*
  build "$goimg" "$h" "$goctx"
  rm -rf "$goctx"
else
  echo "images: $goimg is up to date"
fi

# Images that carry a binary the project builds (scripts/deps.sh).
binary_image() { # tag folder binary
  local tag=$1 dir=$2 bin=$3 h ctx
  h=$(printf '%s %s' "$(sha256sum "$bin" | cut -c1-16)" "$(hash_of "images/$dir")" | sha256sum | cut -c1-16)
  if [ "$(label "$tag")" = "$h" ]; then echo "images: $tag is up to date"; return; fi
  ctx=$(mktemp -d)
  cp -r "$here/images/$dir/." "$ctx/" && cp "$bin" "$ctx/"
  build "$tag" "$h" "$ctx"
  rm -rf "$ctx"
}
binary_image "traefik:$TRAEFIK_VERSION" traefik "$TRAEFIK_BIN"
binary_image "versitygw:$VERSITYGW_VERSION" versitygw "$VERSITYGW_BIN"

# Images of Debian packages.
cd "$here"
build postgis/postgis:15-3.3 "$(hash_of images/postgis)" images/postgis
build redis:7.0 "$(hash_of images/redis)" images/redis
if [ "${PVS_MONITORING:-1}" = 1 ]; then build prometheus:pvs "$(hash_of images/prometheus)" images/prometheus; fi

# pvs itself, with the production Dockerfile.
h=$(hash_of Dockerfile .dockerignore go.mod go.sum cmd pkg internal config)
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
build "pvs:$pvs_tag" "$h" . --build-arg "VERSION=$version"
[ "$pvs_tag" = latest ] || docker tag "pvs:$pvs_tag" pvs:latest
