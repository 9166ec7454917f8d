#!/bin/sh
# Runs redis-server as the redis user. With REDIS_PASSWORD_FILE (a Docker
# secret) the password goes into a config file that only redis can read, so
# it is in no command line.
set -eu
if [ "${1:-}" = "redis-server" ] && [ "$(id -u)" = 0 ]; then
  chown -R redis:redis /data
  if [ -n "${REDIS_PASSWORD_FILE:-}" ]; then
    conf=/run/redis-auth.conf
    printf 'requirepass "%s"\n' "$(cat "$REDIS_PASSWORD_FILE")" >"$conf"
    chown redis "$conf" && chmod 600 "$conf"
    shift
    set -- redis-server "$conf" "$@"
  fi
  exec setpriv --reuid=redis --regid=redis --init-groups "$@"
fi
exec "$@"
