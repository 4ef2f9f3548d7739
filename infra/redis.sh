#!/usr/bin/env bash
# A local Redis for development and tests: Debian's redis-server, on loopback, with no
# persistence (a cache). For the query-vector cache's shared level (README, Embeddings).
#
# Usage: infra/redis.sh start | stop | status | url
#   start   start it (idempotent) and wait until it answers PING; prints redis://127.0.0.1:PORT/0
#           as the only line on stdout.
#   stop    stop it; fine when not running.
#   status  exit 0 when running, 3 when not.
#   url     print the URL.
# Use it with: REDIS_URL=$(infra/redis.sh start) scripts/run.sh
# Environment: REDIS_PORT (default 54331), REDIS_DATA_DIR (default <repo>/.data/redis: pid and log).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
DATA=${REDIS_DATA_DIR:-$ROOT/.data/redis}
PORT=${REDIS_PORT:-54331}
URL="redis://127.0.0.1:$PORT/0"
PIDFILE=$DATA/redis.pid
LOG=$DATA/redis.log

log() { echo "redis.sh: $*" >&2; }

running() { [[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

answers() { [[ "$(printf 'PING\r\n' | timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT; cat >&3; head -c 7 <&3" 2>/dev/null)" == "+PONG"* ]]; }

case "${1:-}" in
  start)
    mkdir -p "$DATA"
    if ! running; then
      command -v redis-server >/dev/null || { log "redis-server is not installed (apt-get install redis-server)"; exit 1; }
      log "starting redis-server on 127.0.0.1:$PORT (log: $LOG)"
      redis-server --bind 127.0.0.1 --port "$PORT" --save "" --appendonly no --daemonize yes \
        --pidfile "$PIDFILE" --logfile "$LOG" --dir "$DATA" >/dev/null
    fi
    for _ in $(seq 100); do answers && break; sleep 0.1; done
    answers || { log "redis did not answer on port $PORT:"; cat "$LOG" >&2 || true; exit 1; }
    echo "$URL"
    ;;
  stop)
    if running; then kill "$(cat "$PIDFILE")" 2>/dev/null || true; fi
    rm -f "$PIDFILE"
    ;;
  status)
    running && answers && exit 0
    exit 3
    ;;
  url)
    echo "$URL"
    ;;
  *)
    echo "usage: infra/redis.sh start|stop|status|url" >&2
    exit 2
    ;;
esac
