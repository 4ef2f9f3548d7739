#!/usr/bin/env bash
# Routing by latency (issue 22, item 1): queries through a single remote provider of the model
# (the baseline: a TEI-like server a network hop away, here the native model behind
# infra/bench/embed_server.py with --delay-ms of network) against the pool of that server and the
# native model in the function, the remote one listed first, so a pool that kept the listed
# order would change nothing. The shipped search set is indexed once; its 115 queries run one at
# a time with the query cache off (every query is embedded), in interleaved rounds on the same
# store. Prints each round's p50/p95, the medians, their ratio, and where the queries went.
# Usage: infra/bench/provider-routing.sh [--rounds 3] [--delay-ms 10]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=3 delay=10
while (($#)); do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --delay-ms) delay="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
export PATH="$PATH:/opt/swift/usr/bin"
source scripts/lib.sh
scripts/setup.sh >/dev/null
echo "== swift build -c release --static-swift-stdlib"
swift_build -c release --static-swift-stdlib
bin=.build/release
work=$(mktemp -d) emulator_pid="" server_pid=""
cleanup() { [[ -n "$emulator_pid" ]] && kill "$emulator_pid" 2>/dev/null; [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

python3 infra/bench/embed_server.py --embed "$bin/embed" --delay-ms "$delay" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 300); do remote=$(grep -o 'http://[0-9.:]*' "$work/server.log" | head -1) && [[ -n "$remote" ]] && break; sleep 0.1; done
[[ -n "${remote:-}" ]] || { cat "$work/server.log" >&2; exit 1; }
cat >"$work/providers.yaml" <<YAML
providers:
  - { name: remote, kind: tei, base_url: "$remote" }
  - { name: native, kind: native }
YAML
export QUERY_CACHE_SIZE=0 QUERY_CACHE_SHARED=off EMBEDDING_PROBE_REFERENCE=$PWD/config/embedding/probes/intfloat__multilingual-e5-small.json

start() { # env...
  local a
  for a in "$@"; do export "${a?}"; done
  start_throwaway_emulator "$work" "$bin" --quiet
  for a in "$@"; do unset "${a%%=*}"; done
}
stop() { kill "$emulator_pid"; wait "$emulator_pid" 2>/dev/null || true; emulator_pid=""; }

start
token=$("$bin/emulator" token --org bench --sub bench)
python3 infra/bench/index_corpus.py "$url" "$token"
stop

measure() { # label env...
  local label=$1; shift
  start "$@"
  python3 - "$url" "$token" "$label" "$remote" <<'PY'
import json, statistics, sys, time, urllib.request
url, token, label, remote = sys.argv[1:5]
before = json.loads(urllib.request.urlopen(remote + "/stats").read())["query"][0]
h = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
queries = [json.loads(l)["text"] for l in open("config/search-eval/queries.jsonl")]
def search(q):
    body = json.dumps({"query": q, "limit": 10}).encode()
    t = time.perf_counter()
    urllib.request.urlopen(urllib.request.Request(url + "/v1/search", data=body, headers=h, method="POST")).read()
    return (time.perf_counter() - t) * 1000
search("warm up the search process")
ms = sorted(search(q) for q in queries)
after = json.loads(urllib.request.urlopen(remote + "/stats").read())["query"][0]
p50, p95 = statistics.median(ms), ms[int(len(ms) * 0.95) - 1]
print(f"{label:<34} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  queries embedded remotely {after - before}/{len(ms) + 1}")
open("/dev/fd/3", "a").write(f"{label} {p50}\n")
PY
  stop
}

echo "== $(wc -l < config/search-eval/queries.jsonl) searches one at a time, limit 10, query cache off; remote = embed_server.py + ${delay} ms"
exec 3>"$work/p50s"
for r in $(seq "$rounds"); do
  measure "round $r: remote only (baseline)" EMBEDDING_PROVIDER=tei EMBEDDING_BASE_URL="$remote" EMBEDDING_MODEL=intfloat/multilingual-e5-small
  measure "round $r: pool [remote, native]" EMBEDDING_PROVIDERS_FILE="$work/providers.yaml"
done
exec 3>&-
python3 - "$work/p50s" <<'PY'
import statistics, sys
rows = [l.rsplit(" ", 1) for l in open(sys.argv[1])]
base = statistics.median(float(v) for k, v in rows if "baseline" in k)
pool = statistics.median(float(v) for k, v in rows if "pool" in k)
print(f"median p50: baseline {base:.2f} ms, pool {pool:.2f} ms, ratio {base / pool:.2f}x")
PY
