#!/usr/bin/env bash
# Routing benchmark (issue 9), release build, through `emulator start-api` and the real template:
#   catalog   100 actions / 2,000+ seeds, made from the shipped catalog (each action cloned with
#             its seeds reworded), so the router scores a realistic, larger catalog; its seed
#             vector file written by `route-eval --write-seed-vectors` (the embedding time of the
#             whole catalog, which a cold start without the file would pay)
#   init      the route function's Init Duration through the emulator, with the seed vector
#             file (the main run) and without it (a second emulator, ROUTE_SEED_VECTORS="",
#             after everything else; it may hit the 10 s init limit)
#   route     POST /v1/route with wrk, 1 connection; every request a text never sent before (a
#             counter in it), so neither the route cache nor the query-vector cache answers:
#             query embedding, rules, lexical and seed scoring all included
#   floor     GET /healthz through the same emulator in the same run: the emulator + process
#             round trip the route figure contains, for the ratio
#   reload    one action's seed edited on disk, 5 times; the first request after each change
#             includes the reload (only that seed re-embedded): its latency against warm
#             requests, and the reload's own time as the function logs it (phase by phase)
# Target: warm route p50 < 15 ms; reload of one changed action < 200 ms.
# Usage: infra/bench/route.sh [--duration SECONDS] [--scratch-path DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=10 scratch=.build-bench
while (($#)); do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --scratch-path) scratch="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
scripts/setup.sh --bench
export PATH="$PATH:/opt/swift/usr/bin"
source scripts/lib.sh

echo "== swift build -c release (emulator, route, health, route-eval)"
for p in emulator route health route-eval; do swift_build -c release --scratch-path "$scratch" --product "$p"; done
bin="$scratch/release"
work=$(mktemp -d)
emulator_pid=""
cleanup() { [[ -n "$emulator_pid" ]] && kill "$emulator_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# 100 actions: the shipped ones, then clones with their seeds reworded (word order rotated, a
# qualifier added) so no two seed rows are identical.
python3 - "$work/catalog.yaml" <<'PY'
import sys, yaml
src = yaml.safe_load(open("config/routing/catalog.yaml"))
actions = list(src["actions"])
extra = ["please", "today", "for my team", "urgent", "next month", "giúp tôi", "gấp", "cho phòng ban"]
k = 0
while len(actions) < 100:
    base = src["actions"][k % len(src["actions"])]
    n = k // len(src["actions"]) + 1
    clone = dict(base, id=f"{base['id']}.v{n}")
    clone["seeds"] = []
    for i, s in enumerate(base["seeds"]):
        words = s.split()
        r = (i + n) % max(1, len(words))
        clone["seeds"].append(" ".join(words[r:] + words[:r]) + " " + extra[(i + n) % len(extra)])
    while len(clone["seeds"]) < 23:
        clone["seeds"].append(clone["seeds"][len(clone["seeds"]) % len(base["seeds"])] + " " + extra[len(clone["seeds"]) % len(extra)] + f" {len(clone['seeds'])}")
    actions.append(clone)
    k += 1
src["actions"] = actions
yaml.safe_dump(src, open(sys.argv[1], "w"), allow_unicode=True, sort_keys=False)
print(f"catalog: {len(actions)} actions, {sum(len(a['seeds']) for a in actions)} seeds", file=sys.stderr)
PY

echo "== seed vectors for the 100-action catalog (route-eval --write-seed-vectors)"
"$bin/route-eval" --catalog "$work/catalog.yaml" --rules config/routing/rules.yaml --settings config/routing/router.yaml \
  --write-seed-vectors "$work/seed-vectors.bin" 2>&1 | tee "$work/write.log"
embed_all_ms=$(sed -nE 's/.*embedded in ([0-9]+) ms.*/\1/p' "$work/write.log")

port=3917
# emulator LOG SEED_VECTORS: an emulator over the 100-action catalog, in the background.
start_emulator() {
  DATABASE_URL="sqlite://$work/rag.sqlite" BLOB_DIR="$work/blobs" ROUTE_CATALOG="$work/catalog.yaml" \
    ROUTE_RULES=config/routing/rules.yaml ROUTE_SETTINGS=config/routing/router.yaml ROUTE_SEED_VECTORS="$2" \
    "$bin/emulator" start-api --port "$port" --build-dir "$bin" >"$1" 2>&1 &
  emulator_pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
}
start_emulator "$work/emulator.log" "$work/seed-vectors.bin"
token=$("$bin/emulator" token --org acme --sub bench)
post() { curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -X POST "http://127.0.0.1:$port/v1/route" \
  -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "$1"; }
# The route function's Init Duration from the emulator's REPORT line, or the init error.
init_ms() { grep -oE '\[RouteFunction\].*Init Duration: [0-9.]+' "$1" | head -1 | sed -E 's/.*Init Duration: //' \
  || true; grep -qE 'InitTimeout' "$1" && echo "InitTimeout" || true; }
echo "== warm-up (cold start reads the seed vector file)"
post '{"text": "xin nghỉ phép ngày mai"}'
init_with=$(init_ms "$work/emulator.log" | head -1)
grep -m1 "route catalog loaded" "$work/emulator.log" | sed -E 's/.*(route catalog loaded[^"]*).*/  \1/' || true

cat >"$work/route.lua" <<LUA
local n = 0
local texts = {"xin nghi phep ngay mai", "I forgot my password again", "đặt phòng họp 10 người chiều nay",
               "how do I claim taxi expenses", "xem bảng lương tháng này", "register a visitor for Friday"}
request = function()
  n = n + 1
  local body = '{"text": "' .. texts[(n % #texts) + 1] .. ' ' .. n .. '"}'
  return wrk.format("POST", "/v1/route", {["Authorization"] = "Bearer $token", ["Content-Type"] = "application/json"}, body)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT p50_us=%d p99_us=%d rps=%.1f errors=%d\n", latency:percentile(50), latency:percentile(99),
    summary.requests / (summary.duration / 1e6), summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
cat >"$work/health.lua" <<LUA
done = function(summary, latency, requests)
  io.write(string.format("RESULT p50_us=%d p99_us=%d rps=%.1f errors=%d\n", latency:percentile(50), latency:percentile(99),
    summary.requests / (summary.duration / 1e6), summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
result() { grep RESULT | sed 's/RESULT //'; }
field() { sed -E "s/.*$1=([0-9.]+).*/\1/"; }
route=$(wrk -t1 -c1 -d"${duration}s" -s "$work/route.lua" "http://127.0.0.1:$port/v1/route" | result)
floor=$(wrk -t1 -c1 -d"${duration}s" -s "$work/health.lua" "http://127.0.0.1:$port/healthz" | result)

echo "== reload: one action's seed edited, the next request reloads it"
warm=()
for i in 1 2 3 4 5; do warm+=("$(post "{\"text\": \"book a meeting room $i\"}" | awk '{print $2 * 1000}')"); done
reload=()
for i in 1 2 3 4 5; do
  sed -i "0,/- xin nghỉ phép$/s//- xin nghỉ phép (lần $i)/" "$work/catalog.yaml"
  sed -i "0,/- xin nghỉ phép (lần $((i - 1)))$/s//- xin nghỉ phép (lần $i)/" "$work/catalog.yaml"
  sleep 1.2  # past the 1 s file-check interval
  reload+=("$(post "{\"text\": \"reload probe $i\"}" | awk '{print $2 * 1000}')")
done
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# The function's own account of each reload (total ms, then the phases).
grep -oE 'route catalog reloaded: [^"]*' "$work/emulator.log" | sed 's/^/  /' || true
reload_own=$(grep -oE 'route catalog reloaded: [0-9.]+' "$work/emulator.log" | awk '{print $4}' | median)

echo "== cold start without the seed vector file (ROUTE_SEED_VECTORS=\"\")"
kill "$emulator_pid" 2>/dev/null; wait "$emulator_pid" 2>/dev/null || true
start_emulator "$work/emulator-nofile.log" ""
post '{"text": "xin nghỉ phép ngày mai"}'
init_without=$(init_ms "$work/emulator-nofile.log" | head -1)

echo
echo "== route through the emulator (100-action catalog)"
awk -v rp50="$(echo "$route" | field p50_us)" -v rp99="$(echo "$route" | field p99_us)" -v rrps="$(echo "$route" | field rps)" \
    -v rerr="$(echo "$route" | field errors)" -v fp50="$(echo "$floor" | field p50_us)" -v fp99="$(echo "$floor" | field p99_us)" \
    -v warm="$(printf '%s\n' "${warm[@]}" | median)" -v reload="$(printf '%s\n' "${reload[@]}" | median)" \
    -v own="${reload_own:-n/a}" -v init_with="${init_with:-n/a}" -v init_without="${init_without:-n/a}" \
    -v embed_all="${embed_all_ms:-n/a}" 'BEGIN {
  printf "%-44s %10s %10s\n", "", "p50 ms", "p99 ms"
  printf "%-44s %10.2f %10.2f   (%.0f req/s, %d errors)\n", "POST /v1/route, unique texts (target p50 < 15)", rp50 / 1000, rp99 / 1000, rrps, rerr
  printf "%-44s %10.2f %10.2f\n", "GET /healthz, same emulator (floor)", fp50 / 1000, fp99 / 1000
  printf "%-44s %10.2fx\n", "route / floor (p50)", rp50 / fp50
  printf "%-44s %10.1f\n", "warm request, curl (ms)", warm
  printf "%-44s %10.1f   (reload = %.1f ms over warm; target < 200)\n", "first request after a one-action edit (ms)", reload, reload - warm
  printf "%-44s %10s   (median of the function'"'"'s own reload times)\n", "reload of one changed action (ms)", own
  printf "%-44s %10s\n", "route init with the seed vector file (ms)", init_with
  printf "%-44s %10s   (route-eval embedded the catalog in %s ms)\n", "route init without it (ms)", init_without, embed_all
}'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
