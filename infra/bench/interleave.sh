#!/usr/bin/env bash
# The emulator's throughput and one-core latency, base and this tree interleaved (base, this,
# base, this, ...), because on these virtual machines a whole run can be 30% slower than the run
# before it: ab.sh's "base, then this" can then read a change as a regression (or hide one).
# Uses the release builds ab.sh leaves: the base's in .build-ab-<rev>/release, this tree's in
# .build/release (run ab.sh first, or build both).
# Usage: infra/bench/interleave.sh --base REF [--rounds N] [--duration SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
base="" rounds=5 duration=4
while (($#)); do
  case "$1" in
    --base) base="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -n "$base" ]] || { echo "interleave.sh: --base REF is required" >&2; exit 2; }
rev=$(git rev-parse --short "$base")
declare -A bins=([base]=".build-ab-$rev/release" [this]=".build/release")
for k in base this; do [[ -x "${bins[$k]}/emulator" ]] || { echo "interleave.sh: no ${bins[$k]}/emulator (run infra/bench/ab.sh --base $base)" >&2; exit 1; }; done
work=$(mktemp -d)
pid=""
trap '[[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

start() { # bin port affinity prefix...
  local bin=$1 port=$2 affinity=$3; shift 3
  DATABASE_URL="sqlite://$work/rag.sqlite" BLOB_DIR="$work/blobs" \
    "$@" "$bin/emulator" start-api --port "$port" --build-dir "$bin" --cpu-affinity "$affinity" --no-schedules >"$work/emu.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done
  echo "emulator did not start" >&2; cat "$work/emu.log" >&2; exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }
rps() { awk '/Requests\/sec/ { print $2 }'; }
p50() { awk '$1 == "50%" { v = $2; n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else print n * 1000000 }'; }
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

declare -A thr one
for r in $(seq "$rounds"); do
  for k in base this; do
    port=$((20000 + RANDOM % 20000))
    start "${bins[$k]}" "$port" shard
    curl -s "http://127.0.0.1:$port/healthz" >/dev/null
    t=$(wrk -c 32 -t 2 -d "${duration}s" "http://127.0.0.1:$port/healthz" | rps)
    stop
    start "${bins[$k]}" $((port + 1)) none taskset -c 0
    o=$(taskset -c 0 wrk -c 1 -t 1 -d "${duration}s" --latency "http://127.0.0.1:$((port + 1))/healthz" | p50)
    stop
    thr[$k]+="$t "; one[$k]+="$o "
    echo "round $r $k: 32 connections $t req/s, one core 1 connection p50 $o us"
  done
done
tb=$(echo ${thr[base]} | tr ' ' '\n' | median) tt=$(echo ${thr[this]} | tr ' ' '\n' | median)
ob=$(echo ${one[base]} | tr ' ' '\n' | median) ot=$(echo ${one[this]} | tr ' ' '\n' | median)
echo
echo "== interleaved medians of $rounds rounds (base $rev, this $(git rev-parse --short HEAD))"
printf '%-40s base %10s  this %10s  ratio %s\n' "32 connections, req/s" "$tb" "$tt" "$(awk -v a="$tb" -v b="$tt" 'BEGIN { printf "%.2f", b / a }')"
printf '%-40s base %10s  this %10s  ratio %s\n' "one core, 1 connection, p50 us" "$ob" "$ot" "$(awk -v a="$ob" -v b="$ot" 'BEGIN { printf "%.2f", b / a }')"
