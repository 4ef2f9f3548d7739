#!/usr/bin/env bash
# Runs the Lambda packages under AWS's own Runtime Interface Emulator (the aws-lambda-rie-x86_64
# binary shipped inside the aws-sam-cli wheel) through the whole flow (infra/rie/flow.py), against
# moto's S3 and the local Postgres. Builds nothing unless asked: run infra/package.sh first, or
# pass --package. Needs root (each function gets a mount namespace with its package read-only at
# /var/task, and runs as `nobody`).
# Usage: [PACKAGES=infra/.aws-sam/build] infra/rie.sh [--package]
set -euo pipefail
cd "$(dirname "$0")/.."
[[ "${1:-}" == "--package" ]] && infra/package.sh
# PACKAGES: infra/package.sh's .build/lambda (default) or `sam build`'s infra/.aws-sam/build.
export PACKAGES=${PACKAGES:-.build/lambda}
for fn in health upload reembed search generate route; do
  [[ -x $PACKAGES/$fn/bootstrap || -x $PACKAGES/${fn^}Function/bootstrap ]] || { echo "rie.sh: no $fn package in $PACKAGES; run infra/package.sh or infra/sam.sh" >&2; exit 1; }
done

# AWS's RIE, from the aws-sam-cli wheel (downloaded once, without its dependencies).
rie=.build/rie/samcli/local/rapid/aws-lambda-rie-x86_64
if [[ ! -x $rie ]]; then
  mkdir -p .build/rie
  python3 -m pip download -q --no-deps --dest .build/rie aws-sam-cli
  (cd .build/rie && python3 -c "import glob, zipfile; zipfile.ZipFile(glob.glob('aws_sam_cli-*.whl')[0]).extract('samcli/local/rapid/aws-lambda-rie-x86_64')")
  chmod +x "$rie"
fi

stop_on_exit=()
trap 'for c in "${stop_on_exit[@]}"; do $c stop || true; done' EXIT
infra/postgres.sh status 2>/dev/null || stop_on_exit+=(infra/postgres.sh)
infra/s3.sh status 2>/dev/null || stop_on_exit+=(infra/s3.sh)
RIE_DATABASE_URL=$(infra/postgres.sh start) RIE_S3_ENDPOINT=$(infra/s3.sh start) python3 infra/rie/flow.py "$rie"
