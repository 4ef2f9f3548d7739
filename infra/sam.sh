#!/usr/bin/env bash
# `sam validate --lint` and `sam build` on infra/template.yaml with AWS's SAM CLI (aws-sam-cli
# from PyPI, in its own virtualenv at .build/sam-venv so its botocore pin cannot break awscli's),
# then checks that SAM's build folders hold exactly what infra/package.sh wrote: the makefile
# build method (infra/Makefile) calls that script per function. No AWS account or Docker needed.
# Usage: infra/sam.sh        (output: infra/.aws-sam/build/<LogicalId>/, as `sam deploy` expects)
set -euo pipefail
cd "$(dirname "$0")/.."
export SAM_CLI_TELEMETRY=0 PATH="$PATH:/opt/swift/usr/bin"
sam=.build/sam-venv/bin/sam
if [[ ! -x $sam ]]; then
  echo "sam.sh: installing aws-sam-cli into .build/sam-venv"
  python3 -m venv .build/sam-venv
  .build/sam-venv/bin/pip install -q aws-sam-cli
fi

cd infra
echo "== sam validate --lint"
../$sam validate --lint --template template.yaml
echo "== sam build (makefile build method: infra/Makefile -> infra/package.sh per function)"
../$sam build --template template.yaml

status=0
for pair in HealthFunction:health RouteFunction:route UploadFunction:upload ReembedFunction:reembed SearchFunction:search GenerateFunction:generate; do
  id=${pair%%:*} fn=${pair#*:}
  if ! diff -rq ".aws-sam/build/$id" "../.build/lambda/$fn" >/dev/null; then
    echo "sam.sh: .aws-sam/build/$id differs from .build/lambda/$fn:" >&2
    diff -rq ".aws-sam/build/$id" "../.build/lambda/$fn" | head -5 >&2
    status=1
  fi
done
((status == 0)) && echo "sam.sh: SAM's six build folders are the infra/package.sh packages, byte for byte"
exit $status
