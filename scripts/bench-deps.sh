#!/usr/bin/env bash
# Installs the reference servers the benchmarks compare pvs with, from
# Debian: MapServer 8 (FastCGI), MapCache (Apache module and mapcache_seed),
# Apache, nginx, spawn-fcgi and wrk.
set -euo pipefail
pkgs=()
[ -x /usr/lib/cgi-bin/mapserv ] || pkgs+=(cgi-mapserver)
command -v mapcache_seed >/dev/null || pkgs+=(mapcache-tools)
[ -e /usr/lib/apache2/modules/mod_mapcache.so ] || pkgs+=(libapache2-mod-mapcache apache2)
command -v nginx >/dev/null || pkgs+=(nginx-light)
command -v spawn-fcgi >/dev/null || pkgs+=(spawn-fcgi)
command -v wrk >/dev/null || pkgs+=(wrk)
# mkfs.ext4, for the seeding benchmark's journaled ext4.
command -v mkfs.ext4 >/dev/null || pkgs+=(e2fsprogs)
if [ ${#pkgs[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi
# Debian starts the installed web servers; the benchmarks run their own.
systemctl disable --now nginx apache2 >/dev/null 2>&1 || service nginx stop >/dev/null 2>&1 || true
service apache2 stop >/dev/null 2>&1 || true
echo "bench-deps: ready"
