#!/usr/bin/env bash
# Fuzzes the HTTP API against its description: validates openapi.yaml, starts `emulator start-api`
# on a free port over a temporary SQLite store, mints a token for a fresh org, uploads one small
# document (so the read endpoints have data), and runs schemathesis over every operation with
# the conformance checks. Exits non-zero when the description is invalid or schemathesis reports
# a failure. Builds nothing: run after `swift build` (BUILD_DIR=.build/release for a release build).
#
# Environment: BUILD_DIR (default .build/debug), FUZZ_MAX_EXAMPLES (per operation, default 25),
# FUZZ_SEED (default 20261207), FUZZ_REPORT_DIR (keep JUnit and HAR reports there; default none).
# Usage: scripts/api-fuzz.sh [extra schemathesis run options, e.g. --include-path /v1/search]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
root=$PWD
bin="${BUILD_DIR:-.build/debug}"
spec="$root/openapi.yaml"
max_examples="${FUZZ_MAX_EXAMPLES:-25}"
seed="${FUZZ_SEED:-20261207}"

for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "api-fuzz: $tool is required" >&2; exit 1; }
done
[[ -x "$bin/emulator" ]] || { echo "api-fuzz: no $bin/emulator; run swift build first" >&2; exit 1; }

# PyPI packages, installed only when missing (as scripts/setup.sh does).
if ! python3 -c "import openapi_spec_validator" >/dev/null 2>&1; then
  echo "api-fuzz: installing openapi-spec-validator"
  python3 -m pip install -q --root-user-action=ignore openapi-spec-validator
fi
if ! python3 -c "import schemathesis" >/dev/null 2>&1; then
  echo "api-fuzz: installing schemathesis"
  python3 -m pip install -q --root-user-action=ignore schemathesis
fi

echo "api-fuzz: validating openapi.yaml"
python3 -m openapi_spec_validator "$spec"

work=$(mktemp -d)
emulator_pid=""
cleanup() { [[ -n "$emulator_pid" ]] && kill "$emulator_pid" 2>/dev/null && wait "$emulator_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# Always a fresh SQLite store: the fuzzer deletes and re-embeds what it finds.
DATABASE_URL="" start_throwaway_emulator "$work" "$bin"
echo "api-fuzz: emulator at $url"

org="fuzz-$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')"
token=$("$bin/emulator" token --org "$org" --sub api-fuzz)

# One small document, indexed, so GET/reembed/search/generate see real data.
printf '# Leave policy\n\nEmployees get 20 days of paid annual leave per year. Sick leave needs a doctor note after three days.\n' >"$work/leave.md"
upload=$(curl -sS -X POST "$url/v1/documents" -H "Authorization: Bearer $token" \
  -F "file=@$work/leave.md;type=text/markdown" -F "title=Leave policy" -F 'metadata={"dept":"hr"}')
doc=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["document_id"])' "$upload") \
  || { echo "api-fuzz: the seed upload failed: $upload" >&2; exit 1; }
status=""
for _ in $(seq 120); do
  status=$(curl -sS "$url/v1/documents/$doc" -H "Authorization: Bearer $token" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin).get("status",""))')
  [[ "$status" == ready || "$status" == failed ]] && break
  sleep 0.5
done
[[ "$status" == ready ]] || { echo "api-fuzz: the seed document is '$status', not ready" >&2; tail -20 "$work/emulator.log" >&2; exit 1; }
echo "api-fuzz: org $org, seed document $doc ready"

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
checks+=,response_headers_conformance,negative_data_rejection,unsupported_method,ignored_auth
report=()
if [[ -n "${FUZZ_REPORT_DIR:-}" ]]; then
  mkdir -p "$FUZZ_REPORT_DIR"
  report=(--report junit,har --report-dir "$(cd "$FUZZ_REPORT_DIR" && pwd)")
fi

# Run from the temporary folder: nothing (no .hypothesis, no reports) lands in the repository.
echo "api-fuzz: schemathesis $(python3 -c 'import schemathesis; print(schemathesis.__version__)'), seed $seed, $max_examples examples per operation"
rc=0
(cd "$work" && timeout 600 schemathesis run "$spec" --url "$url" -H "Authorization: Bearer $token" \
  --checks "$checks" --max-examples "$max_examples" --seed "$seed" --generation-database none \
  --request-timeout 35 --no-color "${report[@]}" "$@") || rc=$?
if ((rc != 0)); then
  echo "api-fuzz: schemathesis reported failures (exit $rc); emulator log tail:" >&2
  grep -E '"level":"(error|critical)"' "$work/emulator.log" | tail -20 >&2 || true
fi
exit "$rc"
