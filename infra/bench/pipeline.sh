#!/usr/bin/env bash
# Ingestion pipeline benchmark (issue 6), release build, through `emulator start-api` and the
# real template with the default native model (EMBEDDING_MODEL picks another):
#   backlog    N documents of ~1,000 words uploaded through POST /v1/documents (4 at a time);
#              time from the first upload to every document `ready` (docs/s, chunks/s), against
#              the raw embedding time of exactly the texts the pipeline embedded (title + chunk,
#              read back from the store) by the `embed` CLI in batches of 32, measured in the same
#              run: the pipeline should stay within 1.3x of it.
#   freshness  after the backlog, a one-page document uploaded, then searched every 20 ms until
#              it is the top keyword hit: upload-to-first-hit, median of 15 (target p50 < 2 s).
# Usage: infra/bench/pipeline.sh [--docs N] [--scratch-path DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
scratch=.build docs=1000
while (($#)); do
  case "$1" in
    --docs) docs="$2"; shift 2 ;;
    --scratch-path) scratch="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
export PATH="$PATH:/opt/swift/usr/bin"
source scripts/lib.sh
scripts/model.sh
scripts/model-e5.sh

echo "== swift build -c release (emulator, upload, reembed, search, health, embed)"
for p in emulator upload reembed search health embed; do swift_build -c release --scratch-path "$scratch" --product "$p"; done
bin="$scratch/release"
work=$(mktemp -d)
emulator_pid=""
cleanup() { [[ -n "$emulator_pid" ]] && kill "$emulator_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# Documents: ~1,000 words each, windows of the repository's prose, every one different (so no
# vector is reused and the model embeds everything).
python3 - "$work" "$docs" <<'PY'
import glob, os, re, sys
work, n = sys.argv[1], int(sys.argv[2])
words = []
for f in ["README.md"] + sorted(glob.glob("Functions/**/*.swift", recursive=True) + sorted(glob.glob("Tools/**/*.swift", recursive=True))):
    text = open(f, encoding="utf-8").read()
    text = "\n".join(l.strip("/ ") for l in text.splitlines() if l.strip().startswith("///") or f.endswith(".md"))
    words += [w for w in re.findall(r"[A-Za-z][A-Za-z'.,-]*", text) if len(w) < 20]
os.makedirs(f"{work}/docs")
for k in range(n):
    start = (k * 7919) % (len(words) - 1100)
    w = words[start:start + 1000]
    paras = [" ".join(w[i:i + 90]) + "." for i in range(0, len(w), 90)]
    open(f"{work}/docs/d{k:05d}.txt", "w").write(f"Document {k}\n\n" + "\n\n".join(paras) + "\n")
PY

port=3931
DATABASE_URL="sqlite://$work/rag.sqlite" BLOB_DIR="$work/blobs" EMBEDDING_MODEL_DIR="${EMBEDDING_MODEL_DIR:-}" \
  "$bin/emulator" start-api --port "$port" --build-dir "$bin" --no-schedules >"$work/emulator.log" 2>&1 &
emulator_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
token=$("$bin/emulator" token --org acme --sub bench)
# Warm the worker and search processes (model loaded) before the clock starts.
curl -s -o /dev/null -X POST "http://127.0.0.1:$port/v1/reembed" -H "Authorization: Bearer $token" -d '{}'
curl -s -o /dev/null -X POST "http://127.0.0.1:$port/v1/search" -H "Authorization: Bearer $token" -d '{"query":"warm up"}'

count_ready() { python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute(\"SELECT count(*) FROM documents WHERE status='ready'\").fetchone()[0])" "$work/rag.sqlite"; }
echo "== backlog: $docs documents"
start=$(date +%s.%N)
ls "$work/docs" | xargs -P 4 -I{} curl -s -o /dev/null -X POST "http://127.0.0.1:$port/v1/documents?filename={}" \
  -H "Authorization: Bearer $token" -H 'Content-Type: text/plain' --data-binary "@$work/docs/{}"
uploaded=$(date +%s.%N)
while (( $(count_ready) < docs )); do sleep 0.2; done
done_at=$(date +%s.%N)

# The exact texts the pipeline embedded (title context + chunk), embedded again by the CLI.
python3 - "$work" <<'PY'
import json, sqlite3, sys
work = sys.argv[1]
c = sqlite3.connect(f"{work}/rag.sqlite")
with open(f"{work}/texts.jsonl", "w") as out:
    for title, content in c.execute("SELECT d.title, ch.content FROM doc_chunks ch JOIN documents d ON d.id = ch.document_id ORDER BY ch.rowid"):
        line = " ".join(title.split())
        text = content if not line or content.startswith(line) else line + "\n\n" + content
        out.write(json.dumps({"text": text}) + "\n")
PY
chunks=$(wc -l < "$work/texts.jsonl")
kill "$emulator_pid" 2>/dev/null; wait "$emulator_pid" 2>/dev/null || true; emulator_pid=""
embed_start=$(date +%s.%N)
"$bin/embed" --no-ids --batch-size 32 < "$work/texts.jsonl" > /dev/null
embed_end=$(date +%s.%N)

echo "== freshness: a one-page document to its first search hit"
DATABASE_URL="sqlite://$work/rag.sqlite" BLOB_DIR="$work/blobs" EMBEDDING_MODEL_DIR="${EMBEDDING_MODEL_DIR:-}" \
  "$bin/emulator" start-api --port "$port" --build-dir "$bin" --no-schedules >>"$work/emulator.log" 2>&1 &
emulator_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
curl -s -o /dev/null -X POST "http://127.0.0.1:$port/v1/reembed" -H "Authorization: Bearer $token" -d '{}'
curl -s -o /dev/null -X POST "http://127.0.0.1:$port/v1/search" -H "Authorization: Bearer $token" -d '{"query":"warm up"}'
fresh=()
for i in $(seq 15); do
  word="zqfresh$i$RANDOM"
  page="Fresh page $i\n\n$(head -c 1800 "$work/docs/d0000$((i % 10)).txt" | tail -c 1500) The marker word is $word."
  t0=$(date +%s.%N)
  printf "$page" | curl -s -o /dev/null -X POST "http://127.0.0.1:$port/v1/documents?filename=fresh$i.txt" \
    -H "Authorization: Bearer $token" -H 'Content-Type: text/plain' --data-binary @-
  until curl -s -X POST "http://127.0.0.1:$port/v1/search" -H "Authorization: Bearer $token" \
      -d "{\"query\": \"$word\", \"mode\": \"keyword\", \"limit\": 1}" | grep -q '"chunk_id"'; do sleep 0.02; done
  fresh+=("$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { print a - b }')")
done
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

echo
awk -v docs="$docs" -v chunks="$chunks" -v s="$start" -v u="$uploaded" -v d="$done_at" -v es="$embed_start" -v ee="$embed_end" \
    -v fresh="$(printf '%s\n' "${fresh[@]}" | median)" -v fmax="$(printf '%s\n' "${fresh[@]}" | sort -g | tail -1)" 'BEGIN {
  total = d - s; embed = ee - es
  printf "%-52s %s\n", "documents / chunks", docs " / " chunks
  printf "%-52s %8.1f s   (uploads done after %.1f s)\n", "upload of the first to all ready", total, u - s
  printf "%-52s %8.1f docs/s  %8.1f chunks/s\n", "pipeline", docs / total, chunks / total
  printf "%-52s %8.1f s   (%.1f chunks/s)\n", "baseline: embed CLI, same texts, batches of 32", embed, chunks / embed
  printf "%-52s %8.2fx   (target <= 1.3x)\n", "pipeline / pure embedding", total / embed
  printf "%-52s %8.2f s   (max %.2f s; target p50 < 2 s)\n", "freshness: upload to first search hit, p50", fresh, fmax
}'
grep -c '"msg":"job done"' "$work/emulator.log" >/dev/null || true
