#!/usr/bin/env bash
# A local S3 for development and tests: moto's S3 server (PyPI `moto[server]`), which speaks S3's
# wire format (SigV4, path-style addressing, XML errors). No AWS account, no Docker.
#
# Usage: infra/s3.sh start | stop | status | url
#   start   start on 127.0.0.1 (idempotent), wait until it answers, create the bucket `rag-blobs`;
#           prints the endpoint URL as the only line on stdout.
#   stop    stop it; fine when not running.
#   status  exit 0 when running, 3 when not.
#   url     print http://127.0.0.1:PORT
#
# Use it with: BLOB_URL=s3://rag-blobs/dev AWS_ENDPOINT_URL_S3=$(infra/s3.sh start) \
#   AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 scripts/run.sh
# Environment: S3_PORT (default 54330), S3_DATA_DIR (default <repo>/.data/s3: pid and log; moto
# keeps objects in memory, so they are gone when it stops).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
DATA=${S3_DATA_DIR:-$ROOT/.data/s3}
PORT=${S3_PORT:-54330}
URL="http://127.0.0.1:$PORT"
PIDFILE=$DATA/moto.pid
LOG=$DATA/moto.log
BUCKET=rag-blobs

log() { echo "s3.sh: $*" >&2; }

running() { [[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

answers() { curl -s -o /dev/null --max-time 2 "$URL/" 2>/dev/null; }

case "${1:-}" in
  start)
    mkdir -p "$DATA"
    if ! running; then
      python3 -c "import moto.server, flask_cors" 2>/dev/null || { log "moto[server] is not installed (pip install 'moto[server]')"; exit 1; }
      log "starting moto's S3 server on $URL (log: $LOG)"
      # setsid: its own session, so it outlives the shell that started it until `stop`.
      setsid python3 -m moto.server -H 127.0.0.1 -p "$PORT" >"$LOG" 2>&1 < /dev/null &
      echo $! >"$PIDFILE"
    fi
    for _ in $(seq 100); do answers && break; sleep 0.1; done
    answers || { log "moto did not answer on $URL:"; cat "$LOG" >&2; exit 1; }
    # The development bucket (an existing one answers 409 BucketAlreadyOwnedByYou; moto 200).
    curl -s -o /dev/null -X PUT "$URL/$BUCKET" || true
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
    echo "usage: infra/s3.sh start|stop|status|url" >&2
    exit 2
    ;;
esac
