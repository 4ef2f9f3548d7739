#!/usr/bin/env bash
# Foundation benchmark (issue 2), on a release build:
#   floor     NDJSON round trip straight through the pipes of a warm `health` process
#   emulator  GET /healthz through `emulator start-api` with wrk (keep-alive), 1 and 32 connections
#   cold      spawn -> ready and spawn -> first response of `health`
# Each wrk figure is the median of several runs (these machines are noisy). Two placements:
#   default   the emulator as users run it (one event loop pinned per CPU, handlers on their
#             loop's CPU), wrk wherever the kernel puts it
#   one core  emulator, handlers and wrk all on CPU 0: the emulator's own cost without the
#             virtual machine's cross-core wakeups, compared with the one-core floor
# Usage: infra/bench/run.sh [--duration SECONDS] [--repeats N] [--scratch-path DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=5 repeats=3 scratch=.build
while (($#)); do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --repeats) repeats="$2"; shift 2 ;;
    --scratch-path) scratch="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
scripts/setup.sh --bench
export PATH="$PATH:/opt/swift/usr/bin"
source scripts/lib.sh

echo "== swift build -c release --static-swift-stdlib"
swift_build -c release --static-swift-stdlib --scratch-path "$scratch"
bin="$scratch/release"
work=$(mktemp -d)
emulator_pid=""
cleanup() { [[ -n "$emulator_pid" ]] && kill "$emulator_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
field() { sed -E "s/.*$1=([0-9.]+).*/\1/"; }
to_us() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else if (v ~ /s$/) print n * 1000000; else print n }'; }

floor_run() { # prefix...
  local p50s=() p99s=()
  for _ in $(seq "$repeats"); do
    local out; out=$("$@" "$bin/bench" pipe --binary "$bin/health" --requests 20000)
    p50s+=("$(echo "$out" | field floor_p50_us)"); p99s+=("$(echo "$out" | field floor_p99_us)")
  done
  echo "$(printf '%s\n' "${p50s[@]}" | median) $(printf '%s\n' "${p99s[@]}" | median)"
}

start_emulator() { # port affinity prefix...
  local port=$1 affinity=$2; shift 2
  DATABASE_URL="sqlite://$work/rag.sqlite" BLOB_DIR="$work/blobs" \
    "$@" "$bin/emulator" start-api --port "$port" --build-dir "$bin" --cpu-affinity "$affinity" >"$work/emulator-$port.log" 2>&1 &
  emulator_pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done
  echo "emulator did not start:" >&2; cat "$work/emulator-$port.log" >&2; exit 1
}
stop_emulator() { kill "$emulator_pid"; wait "$emulator_pid" 2>/dev/null || true; emulator_pid=""; }

wrk_run() { # port connections threads prefix... -> "p50_us p99_us rps errors" (medians; errors summed)
  local port=$1 c=$2 t=$3; shift 3
  local p50s=() p99s=() rpss=() errors=0
  for _ in $(seq "$repeats"); do
    local out; out=$("$@" wrk -c "$c" -t "$t" -d "${duration}s" --latency "http://127.0.0.1:$port/healthz")
    p50s+=("$(to_us "$(echo "$out" | awk '$1 == "50%" { print $2 }')")")
    p99s+=("$(to_us "$(echo "$out" | awk '$1 == "99%" { print $2 }')")")
    rpss+=("$(echo "$out" | awk '/Requests\/sec/ { print $2 }')")
    errors=$((errors + $(echo "$out" | awk '/Non-2xx/ { n += $5 } /Socket errors/ { gsub(",", ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }')))
  done
  echo "$(printf '%s\n' "${p50s[@]}" | median) $(printf '%s\n' "${p99s[@]}" | median) $(printf '%s\n' "${rpss[@]}" | median) $errors"
}

echo "== floor: pipe round trip to a warm health process ($repeats x 20000)"
read -r floor_p50 floor_p99 < <(floor_run)
read -r floor1_p50 floor1_p99 < <(floor_run taskset -c 0)

echo "== cold start (50 spawns)"
cold=$("$bin/bench" cold --binary "$bin/health" --runs 50)

port=$((20000 + RANDOM % 20000))
echo "== emulator, default placement ($repeats x ${duration}s per figure)"
start_emulator "$port" shard
read -r p50_1 p99_1 rps_1 err_1 < <(wrk_run "$port" 1 1)
read -r p50_32 p99_32 rps_32 err_32 < <(wrk_run "$port" 32 2)
stop_emulator

echo "== emulator, one core"
start_emulator $((port + 1)) none taskset -c 0
read -r q50_1 q99_1 qrps_1 qerr_1 < <(wrk_run $((port + 1)) 1 1 taskset -c 0)
stop_emulator

sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", a - b }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

cat <<REPORT

== results (medians of $repeats runs, this machine, this run)
floor, pipe round trip to warm health    any core p50 ${floor_p50} us  p99 ${floor_p99} us | one core p50 ${floor1_p50} us  p99 ${floor1_p99} us
emulator GET /healthz, 1 connection      p50 ${p50_1} us  p99 ${p99_1} us  ${rps_1} req/s  errors ${err_1}
  added over the floor                   p50 $(sub "$p50_1" "$floor_p50") us (target < 300)  p99 $(sub "$p99_1" "$floor_p99") us (target < 2000)  ratio $(ratio "$p50_1" "$floor_p50")x
emulator, 1 connection, all on one core  p50 ${q50_1} us  p99 ${q99_1} us  ${qrps_1} req/s  errors ${qerr_1}
  added over the one-core floor          p50 $(sub "$q50_1" "$floor1_p50") us  p99 $(sub "$q99_1" "$floor1_p99") us  ratio $(ratio "$q50_1" "$floor1_p50")x
emulator GET /healthz, 32 connections    p50 ${p50_32} us  p99 ${p99_32} us  ${rps_32} req/s (target >= 8000)  errors ${err_32}
cold start, health                       spawn->ready p50 $(echo "$cold" | field cold_ready_p50_ms) ms, spawn->first response p50 $(echo "$cold" | field cold_first_response_p50_ms) ms (target < 20)
baseline: AWS SAM CLI start-api answers in 1-10 s per request (aws-sam-cli issues 134, 362, 2223)
REPORT
