#!/bin/sh
# As the official redis image: options alone run redis-server; redis-server runs as user redis with
# protected mode off (later arguments may turn it back on).
set -e
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi
if [ "$1" = 'redis-server' ]; then
  shift
  if [ "${1%.conf}" != "${1:-}" ]; then
    conf="$1"
    shift
    set -- redis-server "$conf" --protected-mode no "$@"
  else
    set -- redis-server --protected-mode no "$@"
  fi
  if [ "$(id -u)" = '0' ]; then
    find . \! -user redis -exec chown redis '{}' +
    exec setpriv --reuid=redis --regid=redis --clear-groups -- "$@"
  fi
fi
exec "$@"
