#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs, builds, lints the template,
# runs every test target (real handler processes, real pipes, real HTTP).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PATH:/opt/swift/usr/bin"
source scripts/lib.sh

echo "== cfn-lint infra/template.yaml"
# Through the module, not the `cfn-lint` script, so it works whatever pip's script folder is.
python3 -c "import sys; from cfnlint.runner import main; sys.argv = ['cfn-lint', 'infra/template.yaml']; sys.exit(main())"

echo "== swift build --build-tests"
swift_build --build-tests

echo "== Package.swift's dependencies equal the imports (scripts/check-deps.py); docs/ARCHITECTURE.md's module graph is current"
swift package dump-package > .build/package-dump.json
python3 scripts/check-deps.py .build/package-dump.json
python3 scripts/architecture.py --check --dump .build/package-dump.json

echo "== postgres (infra/postgres.sh)"
# Each server is stopped on exit, pass or fail, unless it was already running before (someone's local one).
stop_on_exit=()
trap 'for c in "${stop_on_exit[@]}"; do $c stop || true; done' EXIT
if ! infra/postgres.sh status 2>/dev/null; then stop_on_exit+=(infra/postgres.sh); fi
TEST_POSTGRES_URL=$(infra/postgres.sh start)
export TEST_POSTGRES_URL

echo "== s3 (infra/s3.sh: moto's S3 server)"
if ! infra/s3.sh status 2>/dev/null; then stop_on_exit+=(infra/s3.sh); fi
TEST_S3_ENDPOINT=$(infra/s3.sh start)
export TEST_S3_ENDPOINT

echo "== redis (infra/redis.sh: Debian's redis-server, for the shared query cache)"
if ! infra/redis.sh status 2>/dev/null; then stop_on_exit+=(infra/redis.sh); fi
TEST_REDIS_URL=$(infra/redis.sh start)
export TEST_REDIS_URL

echo "== swift test"
swift test --skip-build "$@"

echo "== swift test at the lowest kernel level (VECTOR_KERNELS=scalar): embedding, routing and search suites"
# The kernels dispatch on the CPU (AVX-512, AVX2, portable C); this machine's level is the one
# above. Running the suites that touch them again at the portable level shows here what a CPU
# without AVX-512 or AVX2 would compute, so no test passes only on this machine's instructions.
VECTOR_KERNELS=scalar swift test --skip-build \
  --filter 'EmbeddingsTests|IntentRoutingTests|RetrievalTests|StoreConformanceTests|SearchThroughEmulatorTests'

echo "== route-eval on the shipped devset (router vs nearest-seed baseline)"
# Also writes the seed vector file (no extra embedding: the evaluation embeds the catalog anyway),
# so the writer the packaging step relies on runs on every test run.
.build/debug/route-eval --catalog config/routing/catalog.yaml --rules config/routing/rules.yaml \
  --settings config/routing/router.yaml --devset config/routing/devset.jsonl --baseline \
  --write-seed-vectors .build/seed-vectors.bin

echo "== search-eval on the shipped set (an emulator on a temporary SQLite store; fails below nDCG@10 0.55)"
scripts/search-eval.sh --min-ndcg 0.55

echo "== api-fuzz: openapi.yaml validated, then schemathesis against a throwaway emulator"
# Server errors, response schema and status code conformance over every operation, with a fixed
# seed and a bounded number of examples (about 1,000 requests, well under a minute).
scripts/api-fuzz.sh

echo "== the emulator's dashboard in headless Chromium (Selenium), then GET /metrics through Prometheus's parser and promtool"
# Writes .build/dashboard.png, the screenshot the README shows.
scripts/dashboard-test.sh

echo "== Lambda packages: sam validate --lint, sam build (infra/Makefile -> infra/package.sh: release, static Swift stdlib, AL2023 symbol check)"
infra/sam.sh

echo "== the packages sam build wrote, under AWS's Runtime Interface Emulator"
# Each bootstrap read-only at /var/task under AWS's RIE, through upload (S3 on moto, Postgres)
# -> reembed drain -> search -> generate -> route -> delete.
PACKAGES=infra/.aws-sam/build infra/rie.sh

