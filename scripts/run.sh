#!/usr/bin/env bash
# Quick start: installs what it needs, builds the handlers and the emulator, and serves the
# template's HTTP API on 127.0.0.1:3000 with the embedded defaults (SQLite file under .data/).
# Extra arguments go to `emulator start-api` (e.g. --port 8080). RELEASE=1 builds optimised.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PATH:/opt/swift/usr/bin"
source scripts/lib.sh

config=debug
[[ "${RELEASE:-0}" == "1" ]] && config=release
echo "== swift build -c $config"
swift_build -c "$config"
mkdir -p .data
exec ".build/$config/emulator" start-api --build-dir ".build/$config" "$@"
