#!/usr/bin/env bash
# Foundation benchmark (issue 2), on a release build:
#   floor     NDJSON round trip straight through the pipes of a warm `health` process
#   emulator  GET /healthz through `emulator start-api` with wrk (keep-alive), 1 and 32 connections
#   cold      spawn -> ready and spawn -> first response of `health`
# Prints the figures and the emulator's added latency against the floor measured in this run.
# Usage: infra/bench/run.sh [--duration SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=10
[[ "${1:-}" == "--duration" ]] && duration="$2"
scripts/setup.sh --bench
export PATH="$PATH:/opt/swift/usr/bin"
source scripts/lib.sh

echo "== swift build -c release (static Swift stdlib, as for Lambda)"
swift_build -c release --static-swift-stdlib
bin=.build/release
work=$(mktemp -d)
trap 'kill $(cat "$work/emu.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT

echo "== floor: pipe round trip to a warm health process"
floor=$("$bin/bench" pipe --binary "$bin/health" --requests 20000)
echo "$floor"

echo "== cold start"
cold=$("$bin/bench" cold --binary "$bin/health" --runs 50)
echo "$cold"

port=$((20000 + RANDOM % 20000))
DATABASE_URL="sqlite://$work/rag.sqlite" BLOB_DIR="$work/blobs" \
  "$bin/emulator" start-api --port "$port" --build-dir "$bin" >"$work/emu.log" 2>&1 &
echo $! >"$work/emu.pid"
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

# wrk prints latency percentiles with units; normalise to microseconds.
to_us() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else if (v ~ /s$/) print n * 1000000; else print n }'; }
run_wrk() { # connections threads
  local out
  out=$(wrk -c "$1" -t "$2" -d "${duration}s" --latency "http://127.0.0.1:$port/healthz")
  echo "$out" >&2
  local p50 p99 rps errors
  p50=$(to_us "$(echo "$out" | awk '$1 == "50%" { print $2 }')")
  p99=$(to_us "$(echo "$out" | awk '$1 == "99%" { print $2 }')")
  rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
  errors=$(echo "$out" | awk '/Non-2xx/ { print $5 } /Socket errors/ { s = $4 + $6 + $8 + $10 } END { print s + 0 }' | paste -sd+ | bc)
  echo "$p50 $p99 $rps $errors"
}
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null  # warm
echo "== emulator, 1 connection"
read -r p50_1 p99_1 rps_1 err_1 < <(run_wrk 1 1)
echo "== emulator, 32 connections"
read -r p50_32 p99_32 rps_32 err_32 < <(run_wrk 32 2)

floor_p50=$(echo "$floor" | sed -E 's/.*floor_p50_us=([0-9.]+).*/\1/')
floor_p99=$(echo "$floor" | sed -E 's/.*floor_p99_us=([0-9.]+).*/\1/')
added_p50=$(awk -v a="$p50_1" -v f="$floor_p50" 'BEGIN { printf "%.1f", a - f }')
added_p99=$(awk -v a="$p99_1" -v f="$floor_p99" 'BEGIN { printf "%.1f", a - f }')
cold_first=$(echo "$cold" | sed -E 's/.*cold_first_response_p50_ms=([0-9.]+).*/\1/')
cold_ready=$(echo "$cold" | sed -E 's/.*cold_ready_p50_ms=([0-9.]+).*/\1/')

cat <<REPORT

== results (this machine, this run)
floor (pipe round trip, warm health)     p50 ${floor_p50} us   p99 ${floor_p99} us
emulator HTTP, 1 connection              p50 ${p50_1} us   p99 ${p99_1} us   ${rps_1} req/s
  added by the emulator over the floor   p50 ${added_p50} us (target < 300)   p99 ${added_p99} us (target < 2000)
  ratio emulator/floor                   p50 $(awk -v a="$p50_1" -v f="$floor_p50" 'BEGIN { printf "%.2fx", a / f }')
emulator HTTP, 32 connections            p50 ${p50_32} us   p99 ${p99_32} us   ${rps_32} req/s (target >= 8000), errors ${err_32}
cold start (health)                      spawn->ready p50 ${cold_ready} ms, spawn->first response p50 ${cold_first} ms (target < 20)
baseline for comparison: AWS SAM CLI start-api, 1-10 s per request (aws-sam-cli issues 134, 362, 2223)
REPORT
