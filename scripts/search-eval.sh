#!/usr/bin/env bash
# The search evaluation on a throwaway emulator: starts `emulator start-api` on a free port over
# a temporary SQLite store (or DATABASE_URL when set), runs `search-eval` against it (the shipped
# set config/search-eval unless --dataset/--corpus are given) and stops it. Builds nothing: run
# after `swift build` (BUILD_DIR=.build/release for a release build).
# Usage: scripts/search-eval.sh [search-eval options, e.g. --dataset ~/beir/scifact --rrf-k 10,60]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${BUILD_DIR:-.build/debug}"
work=$(mktemp -d)
emulator_pid=""
cleanup() { [[ -n "$emulator_pid" ]] && kill "$emulator_pid" 2>/dev/null && wait "$emulator_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

args=("$@")
if [[ ! " $* " =~ " --dataset " && ! " $* " =~ " --corpus " ]]; then args+=(--dataset config/search-eval); fi

DATABASE_URL="${DATABASE_URL:-sqlite://$work/rag.sqlite}" BLOB_DIR="$work/blobs" EMBEDDING_MODEL_DIR="$PWD/.models/all-MiniLM-L6-v2" \
  "$bin/emulator" start-api --port 0 --build-dir "$bin" --no-schedules --async-dir "$work/async" >"$work/emulator.log" 2>&1 &
emulator_pid=$!
url=""
for _ in $(seq 600); do
  url=$(grep -o 'listening on http://[0-9.:]*' "$work/emulator.log" | head -1 | sed 's/listening on //') && [[ -n "$url" ]] && break
  kill -0 "$emulator_pid" 2>/dev/null || break
  sleep 0.1
done
[[ -n "$url" ]] || { echo "the emulator did not start:" >&2; cat "$work/emulator.log" >&2; exit 1; }
"$bin/search-eval" --url "$url" --emulator "$bin/emulator" "${args[@]}"
