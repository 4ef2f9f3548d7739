#!/usr/bin/env bash
# Streaming benchmark (issue 20), release build, through `emulator start-api` and the real
# template: POST /v1/generate with "stream": true to generate's function URL (RESPONSE_STREAM),
# three context chunks, an OpenAI-compatible provider on loopback that streams a word per event
# (infra/bench/fake_llm.py: first token after FIRST_TOKEN_MS, then one every TOKEN_MS), answer
# cache off, one request at a time, every query different:
#   ttft     time to the first `delta` event at the client, against the provider's own time to
#            its first event called directly by the same client in the same run (the baseline):
#            added = ttft - provider's ttft (goal: under 2 ms at p50). Streamed redaction holds a
#            word back until the next token shows it has ended (README, Streaming), so the first
#            delta can leave only when the provider's second event arrives: the overhead of the
#            path itself is ttft - the provider's time to its second event, also printed.
#   total    the whole answer streamed, against the same request with "stream": false (whole)
# Prints p50/p99 of each and the ratios.
# Usage: infra/bench/stream.sh [--requests N] [--scratch-path DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
requests=200 scratch=.build
while (($#)); do
  case "$1" in
    --requests) requests="$2"; shift 2 ;;
    --scratch-path) scratch="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
export PATH="$PATH:/opt/swift/usr/bin"
source scripts/lib.sh
scripts/model-e5.sh
echo "== swift build -c release (emulator, generate, health)"
for p in emulator generate health; do swift_build -c release --scratch-path "$scratch" --product "$p"; done
bin="$scratch/release"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

llm_port=3941 port=3942 url_port=3943
FIRST_TOKEN_MS="${FIRST_TOKEN_MS:-50}" TOKEN_MS="${TOKEN_MS:-10}" WHOLE_DELAY=1 python3 infra/bench/fake_llm.py "$llm_port" &
pids+=($!)
cat >"$work/providers.yaml" <<YAML
providers:
  instant:
    api: openai
    requires_key: false
    base_url: http://127.0.0.1:$llm_port/v1
    models: { primary: instant }
YAML
sed 's/^  enabled: true$/  enabled: false/' config/generation/generation.yaml >"$work/generation.yaml"
grep -q "enabled: false" "$work/generation.yaml"
DATABASE_URL="sqlite://$work/rag.sqlite" BLOB_DIR="$work/blobs" GENERATION_PROVIDERS="$work/providers.yaml" \
  GENERATION_SETTINGS="$work/generation.yaml" GENERATION_PROMPTS="$PWD/config/generation/prompts.yaml" LOG_LEVEL=warning \
  "$bin/emulator" start-api --port "$port" --function-url-port "$url_port" --build-dir "$bin" --no-schedules >"$work/emulator.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
grep -q "function URL of GenerateFunction on http://127.0.0.1:$url_port" "$work/emulator.log" || { cat "$work/emulator.log"; exit 1; }
token=$("$bin/emulator" token --org bench --sub bench)

python3 - "$llm_port" "$url_port" "$token" "$requests" <<'PY'
import http.client, json, statistics, sys, time
llm_port, url_port, token, n = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
chunks = [{"chunk_id": "a", "content": "Employees must submit annual leave requests through the HR portal. Requests need manager approval.",
           "metadata": {"title": "Leave policy", "confidence_score": 0.9}},
          {"chunk_id": "b", "content": "Travel expenses are reimbursed within thirty days of submitting receipts.",
           "metadata": {"title": "Expenses", "confidence_score": 0.7}}]
conns = {}

def timed(port, path, body, headers, marker):
    """(time to the first body piece holding `marker`, time to the end) in ms, on a kept-alive connection."""
    c = conns.get(port) or http.client.HTTPConnection("127.0.0.1", port)
    conns[port] = c
    t0 = time.perf_counter()
    c.request("POST", path, body, headers)
    r = c.getresponse()
    assert r.status == 200, (r.status, r.read()[:300])
    first, second, seen = None, None, b""
    while True:
        piece = r.read1(65536)
        if not piece:
            break
        seen += piece
        if first is None and marker in seen:
            first = (time.perf_counter() - t0) * 1000
        if second is None and seen.count(marker) >= 2:
            second = (time.perf_counter() - t0) * 1000
    total = (time.perf_counter() - t0) * 1000
    return first, total, seen, second

def p(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]

auth = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
direct = json.dumps({"model": "instant", "messages": [{"role": "user", "content": "hi"}], "stream": True}).encode()
rows = {"provider": [], "stream": [], "whole": []}
# Interleaved, so drift on a noisy machine hits all three alike; the first rounds warm up.
for i in range(n + 5):
    a = timed(llm_port, "/v1/chat/completions", direct, {"Content-Type": "application/json"}, b"data: {")
    q = {"query": f"How do employees submit annual leave requests {i}", "language": "en", "context_chunks": chunks}
    b = timed(url_port, "/v1/generate", json.dumps(dict(q, stream=True)).encode(), auth, b"event: delta")
    c = timed(url_port, "/v1/generate", json.dumps(q).encode(), auth, b"}")
    if i == 0:
        assert b"event: done" in b[2], b[2][-300:]
        assert json.loads(c[2])["response_metadata"]["provider"] == "instant"
    if i >= 5:
        rows["provider"].append(a); rows["stream"].append(b); rows["whole"].append(c)

pt = [r[0] for r in rows["provider"]]; st = [r[0] for r in rows["stream"]]; pt2 = [r[3] for r in rows["provider"]]
ptot = [r[1] for r in rows["provider"]]; stot = [r[1] for r in rows["stream"]]; wtot = [r[1] for r in rows["whole"]]
added = [s - q for s, q in zip(st, pt)]
print(f"{n} requests each, interleaved (FIRST_TOKEN_MS and TOKEN_MS as set for the fake provider)")
print(f"time to first token   provider direct  p50 {p(pt,50):7.2f} ms  p99 {p(pt,99):7.2f} ms   (baseline)")
print(f"                      through emulator p50 {p(st,50):7.2f} ms  p99 {p(st,99):7.2f} ms   added p50 {p(st,50)-p(pt,50):.2f} ms (paired: {statistics.median(added):.2f} ms)")
print(f"provider's 2nd event  provider direct  p50 {p(pt2,50):7.2f} ms                       path overhead p50 {p(st,50)-p(pt2,50):.2f} ms (paired: {statistics.median([s - q for s, q in zip(st, pt2)]):.2f} ms; the rest is the one-token hold-back)")
print(f"whole answer          provider direct  p50 {p(ptot,50):7.2f} ms")
print(f"                      streamed         p50 {p(stot,50):7.2f} ms  p99 {p(stot,99):7.2f} ms")
print(f"                      not streamed     p50 {p(wtot,50):7.2f} ms  p99 {p(wtot,99):7.2f} ms   streamed/whole {p(stot,50)/p(wtot,50):.2f}x")
print(f"first token, streamed vs whole answer: {p(st,50):.1f} ms vs {p(wtot,50):.1f} ms ({p(wtot,50)/p(st,50):.1f}x sooner)")
PY
