#!/usr/bin/env bash
# A/B of the emulator's own cost: infra/bench/run.sh on a base commit and on this tree, in one
# run on one machine (base first), each on its own release build, then the key medians side by
# side with the ratio this/base. These machines are noisy: read ratios, and rerun before
# believing a few percent.
# Usage: infra/bench/ab.sh --base REF [--duration SECONDS] [--repeats N]
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd) base="" duration=5 repeats=3
while (($#)); do
  case "$1" in
    --base) base="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --repeats) repeats="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -n "$base" ]] || { echo "ab.sh: --base REF is required (the commit to compare with)" >&2; exit 2; }
rev=$(git rev-parse --short "$base")
tree=.build/ab/base-$rev
[[ -d "$tree" ]] || git worktree add --detach "$tree" "$base" >/dev/null
mkdir -p .build/ab
echo "== base $rev (worktree $tree, scratch .build-ab-$rev)"
(cd "$tree" && infra/bench/run.sh --duration "$duration" --repeats "$repeats" --scratch-path "$root/.build-ab-$rev") | tee .build/ab/base.txt
echo "== this tree ($(git rev-parse --short HEAD)$(git diff --quiet || echo ', with uncommitted changes'))"
infra/bench/run.sh --duration "$duration" --repeats "$repeats" | tee .build/ab/head.txt

# The figures: name, then a pattern whose first number after "p50" (or "req/s") is the median.
value() { # file line-prefix field: the first number after the field's name on the line
  python3 -c 'import re, sys
line = next((l for l in open(sys.argv[1]) if l.startswith(sys.argv[2])), "")
m = re.search(re.escape(sys.argv[3]) + r"\s+([0-9.]+)", line)
print(m.group(1) if m else "nan")' "$1" "$2" "$3"
}
row() { # label prefix field unit
  local a b
  a=$(value .build/ab/base.txt "$2" "$3"); b=$(value .build/ab/head.txt "$2" "$3")
  printf '%-44s base %10s %-5s this %10s %-5s ratio %s\n' "$1" "$a" "$4" "$b" "$4" "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b / a }')"
}
echo
echo "== A/B (medians of $repeats runs, ${duration}s each; ratio = this / base)"
row "floor, pipe round trip p50" "floor, pipe round trip" "p50" "us"
row "emulator GET /healthz, 1 connection p50" "emulator GET /healthz, 1 connection" "p50" "us"
row "  added over the floor p50" "  added over the floor" "p50" "us"
row "emulator, one core, added p50" "  added over the one-core floor" "p50" "us"
row "emulator GET /healthz, 32 connections" "emulator GET /healthz, 32 connections" "us" "req/s"
row "health cold start, spawn to first response" "cold start, health" "spawn->first response p50" "ms"
