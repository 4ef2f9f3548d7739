#!/usr/bin/env bash
# Generation benchmark (issue 8), release build, through `emulator start-api` and the real template:
#   overhead    POST /v1/generate with three context chunks and an OpenAI-compatible provider that
#               answers at once (infra/bench/fake_llm.py, on loopback), cache off, wrk at 1 connection;
#               beside, in the same run, GET /healthz through the same emulator (the floor: the
#               gateway and process round trip every request pays) and the provider called directly
#               (its own time). overhead = generate - floor - provider. Target p50 < 5 ms.
#   extractive  POST /v1/generate without context on a 100k-chunk org with no provider enabled:
#               hybrid search (query embedding, dense scan, keyword arm) + the extractive answer,
#               every query unique (no cache helps); beside POST /v1/search on the same org and
#               queries (the search alone). Target p50 < 50 ms.
# Usage: infra/bench/generate.sh [--duration SECONDS] [--chunks N] [--scratch-path DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=10 chunks=100000 scratch=.build-bench
while (($#)); do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --chunks) chunks="$2"; shift 2 ;;
    --scratch-path) scratch="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
scripts/setup.sh --bench
export PATH="$PATH:/opt/swift/usr/bin"
source scripts/lib.sh

echo "== swift build -c release (emulator, generate, search, health, generate-bench)"
for p in emulator generate search health generate-bench; do swift_build -c release --scratch-path "$scratch" --product "$p"; done
bin="$scratch/release"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

echo "== seeding one org of $chunks chunks"
"$bin/generate-bench" --path "$work/rag.sqlite" --org big --chunks "$chunks"

llm_port=3931 port=3932
python3 infra/bench/fake_llm.py "$llm_port" &
pids+=($!)
cat >"$work/providers.yaml" <<YAML
providers:
  instant:
    api: openai
    requires_key: false
    base_url: http://127.0.0.1:$llm_port/v1
    models: { primary: instant }
    enabled: \${BENCH_PROVIDER_ENABLED}
YAML
# Every request reaches the provider: no answer cache.
sed 's/^  enabled: true$/  enabled: false/' config/generation/generation.yaml >"$work/generation.yaml"
grep -q "enabled: false" "$work/generation.yaml"

start_emulator() {  # $1: provider enabled (true|false)
  DATABASE_URL="sqlite://$work/rag.sqlite" BLOB_DIR="$work/blobs" EMBEDDING_MODEL_DIR="${EMBEDDING_MODEL_DIR:-}" \
    GENERATION_PROVIDERS="$work/providers.yaml" GENERATION_SETTINGS="$work/generation.yaml" \
    GENERATION_PROMPTS="$PWD/config/generation/prompts.yaml" BENCH_PROVIDER_ENABLED="$1" LOG_LEVEL=warning \
    "$bin/emulator" start-api --port "$port" --build-dir "$bin" --no-schedules >"$work/emulator-$1.log" 2>&1 &
  emulator_pid=$!
  pids+=($emulator_pid)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
}
stop_emulator() { kill "$emulator_pid"; wait "$emulator_pid" 2>/dev/null || true; }

token=$("$bin/emulator" token --org big --sub bench)
cat >"$work/result.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("RESULT p50_us=%d p99_us=%d rps=%.1f errors=%d\n", latency:percentile(50), latency:percentile(99),
    summary.requests / (summary.duration / 1e6), summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
# POST bodies: $1 path-independent body template with N for a counter (unique queries).
post_lua() {
  cat "$work/result.lua"
  cat <<LUA
local n = 0
local queries = {"How do employees submit annual leave", "When are travel expenses reimbursed", "Who approves hotel bookings",
                 "nhân viên gửi nghỉ phép năm thế nào", "How are overtime hours claimed", "training budgets for team leads"}
request = function()
  n = n + 1
  local q = queries[(n % #queries) + 1] .. " " .. n
  local body = string.format('$1', q)
  return wrk.format("POST", "$2", {["Authorization"] = "Bearer $token", ["Content-Type"] = "application/json"}, body)
end
LUA
}
chunks_json='[{"chunk_id":"a","content":"Employees must submit annual leave requests through the HR portal. Requests need manager approval.","metadata":{"title":"Leave policy","confidence_score":0.9}},{"chunk_id":"b","content":"Travel expenses are reimbursed within thirty days of submitting receipts.","metadata":{"title":"Expenses","confidence_score":0.7}},{"chunk_id":"c","content":"Laptops are replaced every four years by the IT department.","metadata":{"title":"IT","confidence_score":0.4}}]'
post_lua "{\"query\":\"%s\",\"language\":\"en\",\"context_chunks\":$chunks_json}" /v1/generate >"$work/generate.lua"
post_lua '{"query":"%s"}' /v1/generate >"$work/extractive.lua"
post_lua '{"query":"%s","limit":8}' /v1/search >"$work/search.lua"
cat "$work/result.lua" - >"$work/provider.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"instant","messages":[{"role":"user","content":"hi"}],"max_tokens":10}'
LUA
result() { grep RESULT | sed 's/RESULT //'; }
field() { sed -E "s/.*$1=([0-9.]+).*/\1/"; }
run_wrk() { wrk -t1 -c1 -d"${duration}s" -s "$@" | result; }

echo "== (a) generation overhead, instant provider"
start_emulator true
for _ in 1 2 3; do curl -s -o /dev/null -X POST "http://127.0.0.1:$port/v1/generate" -H "Authorization: Bearer $token" \
  -d "{\"query\":\"warm up\",\"context_chunks\":$chunks_json}"; done
curl -s -X POST "http://127.0.0.1:$port/v1/generate" -H "Authorization: Bearer $token" \
  -d "{\"query\":\"How do employees submit annual leave?\",\"context_chunks\":$chunks_json}" \
  | python3 -c 'import json,sys; m=json.load(sys.stdin)["response_metadata"]; assert m["provider"]=="instant", m; print("check: answered by", m["provider"], "fallback", m["fallback"])'
generate=$(run_wrk "$work/generate.lua" "http://127.0.0.1:$port/v1/generate")
floor=$(run_wrk "$work/result.lua" "http://127.0.0.1:$port/healthz")
provider=$(run_wrk "$work/provider.lua" "http://127.0.0.1:$llm_port/v1/chat/completions")
stop_emulator

echo "== (b) extractive fallback on a $chunks-chunk org, no provider"
start_emulator false
for q in "warm up one" "warm up two" "warm up three"; do
  curl -s -o /dev/null -X POST "http://127.0.0.1:$port/v1/generate" -H "Authorization: Bearer $token" -d "{\"query\":\"$q\"}"
  curl -s -o /dev/null -X POST "http://127.0.0.1:$port/v1/search" -H "Authorization: Bearer $token" -d "{\"query\":\"$q\"}"
done
curl -s -X POST "http://127.0.0.1:$port/v1/generate" -H "Authorization: Bearer $token" -d '{"query":"How do employees submit annual leave?"}' \
  | python3 -c 'import json,sys; r=json.load(sys.stdin); m=r["response_metadata"]; assert m["fallback"]=="extractive", m; print("check: fallback", m["fallback"], "from", m["context_chunks"], "chunks,", len(r["citations"]), "citations")'
extractive=$(run_wrk "$work/extractive.lua" "http://127.0.0.1:$port/v1/generate")
search=$(run_wrk "$work/search.lua" "http://127.0.0.1:$port/v1/search")
stop_emulator

echo
awk -v gp50="$(echo "$generate" | field p50_us)" -v gp99="$(echo "$generate" | field p99_us)" -v gerr="$(echo "$generate" | field errors)" \
    -v fp50="$(echo "$floor" | field p50_us)" -v fp99="$(echo "$floor" | field p99_us)" \
    -v pp50="$(echo "$provider" | field p50_us)" -v pp99="$(echo "$provider" | field p99_us)" \
    -v ep50="$(echo "$extractive" | field p50_us)" -v ep99="$(echo "$extractive" | field p99_us)" -v eerr="$(echo "$extractive" | field errors)" \
    -v sp50="$(echo "$search" | field p50_us)" -v sp99="$(echo "$search" | field p99_us)" -v chunks="$chunks" 'BEGIN {
  printf "%-58s %9s %9s\n", "", "p50 ms", "p99 ms"
  printf "%-58s %9.2f %9.2f   (%d errors)\n", "POST /v1/generate, 3 chunks, instant provider", gp50 / 1000, gp99 / 1000, gerr
  printf "%-58s %9.2f %9.2f\n", "GET /healthz, same emulator (floor)", fp50 / 1000, fp99 / 1000
  printf "%-58s %9.2f %9.2f\n", "the provider alone (direct, loopback)", pp50 / 1000, pp99 / 1000
  printf "%-58s %9.2f             (target < 5)\n", "generation overhead = generate - floor - provider", (gp50 - fp50 - pp50) / 1000
  printf "%-58s %9.2fx\n", "generate / floor (p50)", gp50 / fp50
  printf "%-58s %9.2f %9.2f   (%d errors; target p50 < 50)\n", "POST /v1/generate, extractive, " chunks "-chunk org", ep50 / 1000, ep99 / 1000, eerr
  printf "%-58s %9.2f %9.2f\n", "POST /v1/search, same org and queries (search alone)", sp50 / 1000, sp99 / 1000
  printf "%-58s %9.2fx   (+%.2f ms)\n", "extractive / search (p50)", ep50 / sp50, (ep50 - sp50) / 1000
}'
