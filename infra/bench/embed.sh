#!/usr/bin/env bash
# Native all-MiniLM-L6-v2 embedding benchmark, on a release build of `embed`:
#   passages  1,000 texts of ~240 tokens in batches of 32
#   queries   1,000 texts of ~22 tokens in batches of 32
#   single    300 queries one at a time (the search path's latency)
#   load      model load time (weights mapped, tokenizer built), warm page cache
# against sentence-transformers on PyTorch on this machine (2 cores): 22.6 passages/s
# (5,400 tokens/s), 218 queries/s, single query < 10 ms, model load < 300 ms.
# Texts are cut from the repository's design notes, deterministically.
# Usage: infra/bench/embed.sh [--scratch-path DIR] [--threads N]
set -euo pipefail
cd "$(dirname "$0")/../.."
scratch=.build-emb threads=""
while (($#)); do
  case "$1" in
    --scratch-path) scratch="$2"; shift 2 ;;
    --threads) threads="--threads $2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
export PATH="$PATH:/opt/swift/usr/bin"
source scripts/lib.sh
scripts/model.sh

echo "== swift build -c release --product embed"
swift_build -c release --scratch-path "$scratch" --product embed
embed="$scratch/release/embed"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Plain prose words from README.md and the design notes; passages and queries are windows of them.
python3 - "$work" <<'PY'
import json, re, sys, glob
words = []
for f in ["README.md"] + sorted(glob.glob("infra/*.md")) + sorted(glob.glob("Functions/**/*.swift", recursive=True) + sorted(glob.glob("Tools/**/*.swift", recursive=True))):
    text = open(f, encoding="utf-8").read()
    text = "\n".join(l.strip("/ ") for l in text.splitlines() if l.strip().startswith("///") or f.endswith(".md"))
    words += [w for w in re.findall(r"[A-Za-z][A-Za-z'.,-]*", text) if len(w) < 20]
def windows(n_words, count, path, step):
    with open(path, "w") as out:
        for k in range(count):
            start = (k * step) % max(1, len(words) - n_words)
            out.write(json.dumps({"text": " ".join(words[start:start + n_words])}) + "\n")
windows(182, 1000, f"{sys.argv[1]}/passages.jsonl", 97)
windows(15, 1000, f"{sys.argv[1]}/queries.jsonl", 31)
PY
head -300 "$work/queries.jsonl" > "$work/single.jsonl"

run() { # name file batch-size
  EMBEDDING_MODEL=sentence-transformers/all-MiniLM-L6-v2 "$embed" --timing --no-ids --batch-size "$3" $threads < "$2" 2> "$work/$1.timing" > /dev/null
  grep -o 'load_ms=.*' "$work/$1.timing"
}
field() { sed -E "s/.* $1=([^ ]+).*/\1/" <<< " $2"; }

run passages "$work/passages.jsonl" 32 > "$work/p"
run queries "$work/queries.jsonl" 32 > "$work/q"
run single "$work/single.jsonl" 1 > "$work/s"
p=$(cat "$work/p") q=$(cat "$work/q") s=$(cat "$work/s")

echo "== all-MiniLM-L6-v2, native (OpenBLAS $(field blas "$p"), $(field threads "$p") threads) vs sentence-transformers (PyTorch)"
awk -v pt="$(field texts_per_s "$p")" -v ptok="$(field tokens_per_s "$p")" -v pn="$(field tokens "$p")" -v pc="$(field texts "$p")" \
    -v qt="$(field texts_per_s "$q")" -v qn="$(field tokens "$q")" -v qc="$(field texts "$q")" \
    -v s50="$(field batch_p50_ms "$s")" -v s99="$(field batch_p99_ms "$s")" -v load="$(field load_ms "$s")" -v rss="$(field peak_rss_mb "$p")" 'BEGIN {
  printf "%-34s %12s %12s %8s\n", "", "native", "baseline", "ratio"
  printf "%-34s %12.1f %12.1f %7.2fx\n", sprintf("passages/s (%.0f tokens each)", pn / pc), pt, 22.6, pt / 22.6
  printf "%-34s %12.0f %12.0f %7.2fx\n", "passage tokens/s", ptok, 5400, ptok / 5400
  printf "%-34s %12.1f %12.1f %7.2fx\n", sprintf("queries/s (%.0f tokens each)", qn / qc), qt, 218, qt / 218
  printf "%-34s %12.2f %12s %8s\n", "single query p50 ms", s50, "< 10", ""
  printf "%-34s %12.2f %12s %8s\n", "single query p99 ms", s99, "", ""
  printf "%-34s %12.1f %12s %8s\n", "model load ms", load, "< 300", ""
  printf "%-34s %12d %12s %8s\n", "peak memory MB (passages run)", rss, "", ""
}'
