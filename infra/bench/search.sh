#!/usr/bin/env bash
# Search latency (issue 7), release build, through `emulator start-api` and the real template:
# warm `POST /v1/search` end to end (HTTP, the handler, the query embedded by the native model,
# multilingual-e5-small unless --model says otherwise, both arms, fusion, texts) on an org of 100k chunks, for the SQLite store
# (brute-force SIMD scan) and Postgres (HNSW). The org is seeded straight into the store by
# store-bench (clustered 384-d vectors claiming the deployment's model, Zipf text); every
# request's query text is different (a counter in it), so the query-vector cache never answers
# and each request pays for its embedding. A `GET /healthz` floor is measured in the same run.
# wrk, one connection (latency, not throughput). Targets: p50 < 25 ms SQLite, < 20 ms Postgres.
# Postgres: $POSTGRES_URL when set (a server already running, e.g. the tests'), else infra/postgres.sh's.
# Postgres runs twice: with POSTGRES_MAX_CONNECTIONS=1 (both arms queue on one connection: the
# baseline) and with the default pool of two (the arms overlap on the server).
# --reuse-schema NAME seeds that schema on the first run and keeps it for the next (seeding 100k
# chunks into Postgres takes minutes); without it a throwaway schema is dropped at the end.
# --baseline-bin DIR: release binaries of another build (emulator, search, health; e.g. copied
# from .build/release before a change) measured first on the same data in the same run, each
# figure followed by the ratio of this build's p50 to theirs. --baseline-template FILE: the template
# those binaries run with (their own commit's `infra/template.yaml`, when this one uses features
# their emulator does not have).
# Usage: infra/bench/search.sh [--chunks 100000] [--duration 10] [--stores sqlite|postgres|both] [--scratch-path DIR]
#                              [--reuse-schema NAME] [--baseline-bin DIR [--baseline-template FILE]]
#                              [--model intfloat/multilingual-e5-small|sentence-transformers/all-MiniLM-L6-v2]
set -euo pipefail
cd "$(dirname "$0")/../.."
scratch=.build chunks=100000 duration=10 stores=both reuse_schema="" baseline_bin="" baseline_template=""
model=intfloat/multilingual-e5-small
while (($#)); do
  case "$1" in
    --chunks) chunks="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --stores) stores="$2"; shift 2 ;;
    --scratch-path) scratch="$2"; shift 2 ;;
    --reuse-schema) reuse_schema="$2"; shift 2 ;;
    --baseline-bin) baseline_bin="$2"; shift 2 ;;
    --baseline-template) baseline_template="$2"; shift 2 ;;
    --model) model="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
export PATH="$PATH:/opt/swift/usr/bin"
source scripts/lib.sh
scripts/model.sh
scripts/model-e5.sh
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 2; }

echo "== swift build -c release (emulator, search, health, store-bench)"
for p in emulator search health store-bench; do swift_build -c release --scratch-path "$scratch" --product "$p"; done
bin="$scratch/release"
work=$(mktemp -d)
emulator_pid="" pg_url="" schema="${reuse_schema:-bench_search_$$}"
cleanup() {
  [[ -n "$emulator_pid" ]] && kill "$emulator_pid" 2>/dev/null && wait "$emulator_pid" 2>/dev/null
  [[ -n "$pg_url" && -z "$reuse_schema" ]] && pg_psql "$pg_url" -q -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
# psql from the pgserver wheel (infra/postgres.sh's), pointed at whichever server we use.
pg_psql() { "$(python3 -c 'import pgserver, os; print(os.path.dirname(pgserver.__file__))')/pginstall/bin/psql" "$@"; }

# Unique queries: two of the corpus's synthetic words (so the keyword arm has work to do) and
# plain English (so the embedding is a real sentence), plus the request counter. The words are
# of middling frequency (ranks 300-5000 of the Zipf vocabulary: each in roughly 0.3-3 % of the
# chunks, as a real query's content words); KEYWORD_WORDS=common takes ranks 0-96, which appear
# in most chunks: the keyword arm's worst case (an OR over postings of the whole org).
cat >"$work/search.lua" <<'LUA'
local n = 0
local syl = {"an","ba","co","du","em","fa","gi","ho","in","ky","la","mo","nu","ok","pa","qui","ra","so","tu","vy",
             "nghỉ","phép","đơn","lương","họp","phòng","khách","công","tác","mua"}
local function word(i) return syl[i % 30 + 1] .. syl[math.floor(i / 30) % 30 + 1] .. tostring(i % 7) end
local mode = os.getenv("MODE") or "hybrid"
local common = os.getenv("KEYWORD_WORDS") == "common"
local headers = {["Authorization"] = "Bearer " .. os.getenv("TOKEN"), ["Content-Type"] = "application/json"}
request = function()
  n = n + 1
  local a, b = 300 + (n * 37) % 4700, 300 + (n * 91) % 4700
  if common then a, b = n % 97, (n * 7) % 89 end
  local q = string.format("%s %s how do I request leave %d", word(a), word(b), n)
  return wrk.format("POST", "/v1/search", headers, '{"query":"' .. q .. '","limit":10,"mode":"' .. mode .. '"}')
end
response = function(status, headers, body)
  if status ~= 200 then io.stderr:write("search answered " .. status .. ": " .. body .. "\n") end
end
LUA

# wrk's --latency lines ("50%  12.34ms") in milliseconds.
pct() { awk -v p="$1%" '$1 == p { v = $2; u = v; gsub(/[0-9.]/, "", u); sub(/[a-z]+$/, "", v);
          f = (u == "us") ? 0.001 : (u == "s") ? 1000 : 1; printf "%.2f", v * f }' "$2"; }

declare -A p50s=()
run_store() {  # name, DATABASE_URL[, binaries[, template]]
  local name="$1" url="$2" bin="${3:-$bin}" port=3941 template_args=()
  [[ -n "${4:-}" ]] && template_args=(--template "$4")
  DATABASE_URL="$url" BLOB_DIR="$work/blobs" EMBEDDING_MODEL="$model" EMBEDDING_MODEL_DIR="${EMBEDDING_MODEL_DIR:-}" \
    "$bin/emulator" start-api --port "$port" --build-dir "$bin" "${template_args[@]}" --no-schedules --quiet >"$work/emulator-$name.log" 2>&1 &
  emulator_pid=$!
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  local token
  token=$("$bin/emulator" token "${template_args[@]}" --org bench --sub bench)
  # Warm: the model loaded, the SQLite vector cache filled, Postgres' index pages cached.
  for i in $(seq 20); do
    curl -sf -o /dev/null -X POST "http://127.0.0.1:$port/v1/search" -H "Authorization: Bearer $token" \
      -d "{\"query\":\"warm up $i\"}" || { echo "search failed on $name:"; tail -20 "$work/emulator-$name.log"; return 1; }
  done
  local hits
  hits=$(curl -s -X POST "http://127.0.0.1:$port/v1/search" -H "Authorization: Bearer $token" -d '{"query":"mola3 leave","limit":10}' \
    | python3 -c 'import json,sys; r=json.load(sys.stdin)["results"]; print(len(r), sum(1 for x in r if x["dense_rank"]), sum(1 for x in r if x["keyword_rank"]))')
  echo "$name: a sample query returns $hits (results, with a dense rank, with a keyword rank)"
  wrk -t1 -c1 -d"${duration}s" --latency "http://127.0.0.1:$port/healthz" >"$work/healthz-$name.txt"
  for mode in hybrid dense; do
    MODE=$mode TOKEN="$token" KEYWORD_WORDS="${KEYWORD_WORDS:-}" wrk -t1 -c1 -d"${duration}s" --latency -s "$work/search.lua" "http://127.0.0.1:$port" >"$work/search-$name-$mode.txt"
    local p50 p99 h50 h99 reqs
    p50=$(pct 50 "$work/search-$name-$mode.txt"); p99=$(pct 99 "$work/search-$name-$mode.txt")
    h50=$(pct 50 "$work/healthz-$name.txt"); h99=$(pct 99 "$work/healthz-$name.txt")
    reqs=$(awk '/^Requests\/sec/ { print $2 }' "$work/search-$name-$mode.txt")
    printf "%-23s search %-6s p50 %7.2f ms  p99 %7.2f ms  (%s req/s) | /healthz floor p50 %.2f ms p99 %.2f ms | p50 ratio %.0fx" \
      "$name" "$mode" "$p50" "$p99" "$reqs" "$h50" "$h99" "$(echo "$p50 / $h50" | bc -l)"
    p50s["$name $mode"]=$p50
    local base="${p50s["$name-baseline $mode"]:-}"
    [[ -n "$base" ]] && printf " | %.2fx the baseline build's p50" "$(echo "$p50 / $base" | bc -l)"
    echo
    grep -E "Non-2xx|Socket errors" "$work/search-$name-$mode.txt" || true
  done
  kill "$emulator_pid"; wait "$emulator_pid" 2>/dev/null || true; emulator_pid=""
}

if [[ "$stores" == "both" || "$stores" == "sqlite" ]]; then
  echo "== seed: $chunks chunks into SQLite"
  "$bin/store-bench" --stores sqlite --dir "$work/sqlite" --seed-org bench --seed-model "$model" --big-org-chunks "$chunks"
  [[ -n "$baseline_bin" ]] && run_store sqlite-baseline "sqlite://$work/sqlite/bench.sqlite" "$baseline_bin" "$baseline_template"
  run_store sqlite "sqlite://$work/sqlite/bench.sqlite"
fi
if [[ "$stores" == "both" || "$stores" == "postgres" ]]; then
  pg_url="${POSTGRES_URL:-$(infra/postgres.sh start)}"
  if [[ -n "$reuse_schema" && "$(pg_psql "$pg_url" -tAc "SELECT count(*) FROM $schema.doc_chunks" 2>/dev/null || true)" == "$chunks" ]]; then
    echo "== reusing Postgres schema $schema ($chunks chunks)"
  else
    echo "== seed: $chunks chunks into Postgres schema $schema"
    [[ -n "$reuse_schema" ]] && pg_psql "$pg_url" -q -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1
    "$bin/store-bench" --stores postgres --postgres-url "$pg_url" --seed-schema "$schema" --seed-org bench --seed-model "$model" --big-org-chunks "$chunks"
  fi
  sep="?"; [[ "$pg_url" == *"?"* ]] && sep="&"
  local_url="$pg_url${sep}options=-csearch_path%3D$schema%2Cpublic"
  if [[ -n "$baseline_bin" ]]; then
    POSTGRES_MAX_CONNECTIONS=1 run_store postgres-1conn-baseline "$local_url" "$baseline_bin" "$baseline_template"
    run_store postgres-baseline "$local_url" "$baseline_bin" "$baseline_template"
  fi
  POSTGRES_MAX_CONNECTIONS=1 run_store postgres-1conn "$local_url"
  run_store postgres "$local_url"
fi
