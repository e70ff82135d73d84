#!/usr/bin/env bash
# The compose topology with plain processes on 127.0.0.1 (no Docker engine needed):
#   nginx :8000 (least_conn) -> GATEWAYS gateway processes on 8101.. (GATEWAY_WORKERS=1 each)
#   + one ingest worker + one query worker, against the local Postgres and Redis.
#
# Usage (after `npm run build`):
#   loadtest/local-topology.sh                      # runs until Ctrl-C
#   loadtest/local-topology.sh -- <command ...>     # runs the command against it, then stops
# e.g. loadtest/local-topology.sh -- npm run bench:mixed -- --target http://127.0.0.1:8000
# The command gets TOPOLOGY_URL and TOPOLOGY_PID_FILE ("group pid" lines, for the bench's CPU figures).
#
# Settings (environment): GATEWAYS (2), GATEWAY_BASE_PORT (8101), LB_PORT (8000), DATABASE_URL
# (postgres://postgres@127.0.0.1:5432/rag_loadtest), REDIS_URL, REDIS_KEY_PREFIX (loadtest),
# LOG_LEVEL (warn), RUN_DIR (a new directory under /tmp). Every process started here is stopped on exit.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

GATEWAYS="${GATEWAYS:-2}"
GATEWAY_BASE_PORT="${GATEWAY_BASE_PORT:-8101}"
LB_PORT="${LB_PORT:-8000}"
RUN_DIR="${RUN_DIR:-$(mktemp -d /tmp/rag-topology.XXXXXX)}"
export NODE_ENV="${NODE_ENV:-production}"
export LOG_LEVEL="${LOG_LEVEL:-warn}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/rag_loadtest}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
export REDIS_KEY_PREFIX="${REDIS_KEY_PREFIX:-loadtest}"

if [[ ! -f dist/apps/gateway/src/main.js ]]; then
  echo "dist/ is missing: run npm run build first" >&2
  exit 1
fi
command -v nginx >/dev/null || {
  echo "nginx is not installed (Debian: apt-get install -y nginx)" >&2
  exit 1
}

mkdir -p "$RUN_DIR/tmp"
pid_file="$RUN_DIR/pids"
: >"$pid_file"
started_pids=()

stop_all() {
  local status=$?
  trap - EXIT INT TERM
  if ((${#started_pids[@]} > 0)); then
    echo "stopping ${#started_pids[@]} processes" >&2
    kill -TERM "${started_pids[@]}" 2>/dev/null || true
    for _ in $(seq 1 100); do
      local alive=0
      for pid in "${started_pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
      ((alive == 0)) && break
      sleep 0.1
    done
    kill -KILL "${started_pids[@]}" 2>/dev/null || true
  fi
  echo "logs kept in $RUN_DIR" >&2
  exit "$status"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start <group> <log name> <command...>: runs it in the background and records its pid.
start() {
  local group="$1" name="$2"
  shift 2
  "$@" >"$RUN_DIR/$name.log" 2>&1 &
  started_pids+=("$!")
  echo "$group $!" >>"$pid_file"
  echo "started $name (pid $!), log $RUN_DIR/$name.log" >&2
}

# wait_http <url> <seconds>: polls until the URL answers 200.
wait_http() {
  node -e '
    const [url, seconds] = process.argv.slice(1);
    const deadline = Date.now() + Number(seconds) * 1000;
    const poll = () => fetch(url).then((r) => { if (r.ok) process.exit(0); throw new Error(String(r.status)); })
      .catch(() => (Date.now() > deadline ? process.exit(1) : setTimeout(poll, 200)));
    poll();
  ' "$1" "$2" || {
    echo "$1 did not answer 200 within $2 s; see the logs in $RUN_DIR" >&2
    exit 1
  }
}

if [[ -f dist/apps/cli/src/migrate.js ]]; then
  node dist/apps/cli/src/migrate.js >"$RUN_DIR/migrate.log" 2>&1 || {
    cat "$RUN_DIR/migrate.log" >&2
    exit 1
  }
fi

server_lines=""
for i in $(seq 1 "$GATEWAYS"); do
  port=$((GATEWAY_BASE_PORT + i - 1))
  PORT="$port" HOST=127.0.0.1 GATEWAY_WORKERS=1 TRUST_PROXY=true \
    start gateway "gateway-$i" node dist/apps/gateway/src/main.js
  server_lines+="        server 127.0.0.1:$port max_fails=2 fail_timeout=5s;"$'\n'
done
for app in ingest-worker query-worker; do
  if [[ -f "dist/apps/$app/src/main.js" ]]; then
    start "$app" "$app" node "dist/apps/$app/src/main.js"
  else
    echo "dist/apps/$app/src/main.js is not built yet: running without it" >&2
  fi
done

# The checked-in config with this run's listen port and gateway servers.
awk -v servers="$server_lines" -v port="$LB_PORT" '
  /# @gateways-begin/ { print; printf "%s", servers; skipping = 1; next }
  /# @gateways-end/ { skipping = 0 }
  skipping { next }
  { sub(/listen 127\.0\.0\.1:8000 /, "listen 127.0.0.1:" port " "); print }
' loadtest/nginx/local.conf >"$RUN_DIR/nginx.conf"
nginx -t -q -p "$RUN_DIR" -e stderr -c "$RUN_DIR/nginx.conf"
start nginx nginx nginx -p "$RUN_DIR" -e stderr -c "$RUN_DIR/nginx.conf"

for i in $(seq 1 "$GATEWAYS"); do
  wait_http "http://127.0.0.1:$((GATEWAY_BASE_PORT + i - 1))/health/live" 60
done
wait_http "http://127.0.0.1:$LB_PORT/health/live" 10

export TOPOLOGY_URL="http://127.0.0.1:$LB_PORT"
export TOPOLOGY_PID_FILE="$pid_file"
echo "up: $TOPOLOGY_URL -> $GATEWAYS gateways; pids in $pid_file" >&2

if [[ "${1:-}" == "--" ]]; then
  shift
  "$@"
else
  # Until Ctrl-C, or until any of the processes exits on its own.
  wait -n "${started_pids[@]}"
  echo "a process exited; stopping the topology" >&2
  exit 1
fi
