#!/usr/bin/env bash
# The search evaluation on a throwaway emulator: starts `emulator start-api` on a free port over
# a temporary SQLite store (or DATABASE_URL when set), runs `search-eval` against it (the shipped
# set config/search-eval unless --dataset/--corpus are given) and stops it. Builds nothing: run
# after `swift build` (BUILD_DIR=.build/release for a release build).
# Usage: scripts/search-eval.sh [search-eval options, e.g. --dataset ~/beir/scifact --rrf-k 10,60]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
bin="${BUILD_DIR:-.build/debug}"
work=$(mktemp -d)
emulator_pid=""
cleanup() { [[ -n "$emulator_pid" ]] && kill "$emulator_pid" 2>/dev/null && wait "$emulator_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

args=("$@")
if [[ ! " $* " =~ " --dataset " && ! " $* " =~ " --corpus " ]]; then args+=(--dataset config/search-eval); fi

start_throwaway_emulator "$work" "$bin"
"$bin/search-eval" --url "$url" --emulator "$bin/emulator" "${args[@]}"
