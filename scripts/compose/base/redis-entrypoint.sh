#!/bin/bash
# The official redis image's entrypoint contract, for the stand-in image (redis.Containerfile): run
# `redis-server` as the user `redis`, owning the /data volume, and without protected mode (the official
# image is built with it off: the container network is the boundary; Debian's build keeps it on, which
# refuses every client from another container).
set -euo pipefail

if [ "${1:0:1}" = '-' ] || [ "${1%.conf}" != "$1" ]; then set -- redis-server "$@"; fi

if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
  find . \! -user redis -exec chown redis:redis '{}' +
  exec setpriv --reuid=redis --regid=redis --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [ "$1" = redis-server ] && [[ " $* " != *' --protected-mode '* ]]; then
  set -- "$@" --protected-mode no
fi
exec "$@"
