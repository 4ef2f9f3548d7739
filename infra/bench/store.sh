#!/usr/bin/env bash
# Data-layer benchmark (issue 4), on a release build: bulk insert rate, dense top-10 latency
# (one org's 10k chunks; a 100k-chunk org) with recall@10 against the exact answer, keyword
# latency, for the SQLite store (brute-force SIMD scan) and the Postgres store (HNSW), each
# beside a plain in-memory SIMD scan measured in the same run.
# Usage: infra/bench/store.sh [--scratch-path DIR] [store-bench options, e.g. --stores sqlite]
set -euo pipefail
cd "$(dirname "$0")/../.."
scratch=.build
if [[ "${1:-}" == "--scratch-path" ]]; then scratch="$2"; shift 2; fi
scripts/setup.sh
export PATH="$PATH:/opt/swift/usr/bin"
source scripts/lib.sh

echo "== swift build -c release --product store-bench"
swift_build -c release --scratch-path "$scratch" --product store-bench
url=$(infra/postgres.sh start)
"$scratch/release/store-bench" --postgres-url "$url" "$@"
