#!/usr/bin/env bash
# The query-vector caches on a replayed query log: the shipped search set's corpus indexed, then
# its queries replayed (Zipf-distributed, fixed seed, 4 clients, so up to 4 warm search
# processes share the load) three times, each on a fresh emulator: the first level only
# (QUERY_CACHE_SHARED=off, the baseline), with the shared level in the store (SQLite), and in
# Redis. Prints each run's hit rates, model calls and search latency (release build).
# Usage: infra/bench/query-cache.sh [--requests 600] [--clients 4]
set -euo pipefail
cd "$(dirname "$0")/../.."
requests=600 clients=4
while (($#)); do
  case "$1" in
    --requests) requests="$2"; shift 2 ;;
    --clients) clients="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
export PATH="$PATH:/opt/swift/usr/bin"
source scripts/lib.sh
scripts/setup.sh >/dev/null
echo "== swift build -c release --static-swift-stdlib"
swift_build -c release --static-swift-stdlib
bin=.build/release
# Its own Redis (not the test command's port), stopped on exit.
export REDIS_PORT=${BENCH_REDIS_PORT:-54341} REDIS_DATA_DIR=$PWD/.data/redis-bench
redis_url=$(infra/redis.sh start)
work="" emulator_pid=""
cleanup() { [[ -n "$emulator_pid" ]] && kill "$emulator_pid" 2>/dev/null; infra/redis.sh stop; [[ -n "$work" ]] && rm -rf "$work"; }
trap cleanup EXIT

run() { # label env...
  local label=$1 a; shift
  work=$(mktemp -d)
  for a in "$@"; do export "${a?}"; done
  DATABASE_URL="" start_throwaway_emulator "$work" "$bin" --quiet --default-concurrency "$clients"
  for a in "$@"; do unset "${a%%=*}"; done
  token=$("$bin/emulator" token --org bench --sub bench)
  python3 infra/bench/index_corpus.py "$url" "$token"
  result=$(python3 infra/bench/query_cache.py --url "$url" --token "$token" --queries config/search-eval/queries.jsonl \
    --requests "$requests" --clients "$clients")
  printf '%-36s %s\n' "$label" "$result"
  kill "$emulator_pid"; wait "$emulator_pid" 2>/dev/null || true; emulator_pid=""
  rm -rf "$work"; work=""
}

echo "== $requests searches from the shipped queries (Zipf), $clients clients"
run "first level only (baseline)" QUERY_CACHE_SHARED=off
run "shared level in the store (SQLite)" QUERY_CACHE_SHARED=store
run "shared level in Redis" REDIS_URL="$redis_url"
