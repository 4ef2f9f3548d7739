#!/usr/bin/env bash
# Lambda packaging: builds every function in release mode with the static Swift standard library
# for provided.al2023 and writes .build/lambda/<name>/bootstrap plus .build/lambda/<name>.zip,
# the CodeUri the template points at. It fails if a binary needs a shared library that Amazon
# Linux 2023 does not ship: only glibc-family libraries and the ones listed below are allowed.
#
# Allowed beyond glibc (present on provided.al2023): libstdc++, libgcc_s (the Swift runtime's C++
# and unwinder support). libcurl is not linked: the Lambda transport dlopens libcurl.so.4, which
# AL2023 ships (curl-minimal).
#
# Usage: infra/package.sh [--scratch-path .build] [function ...]
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.build
if [[ "${1:-}" == "--scratch-path" ]]; then scratch="$2"; shift 2; fi
functions=("$@")
((${#functions[@]})) || functions=(route upload reembed search generate health)
export PATH="$PATH:/opt/swift/usr/bin"
source scripts/lib.sh

echo "== swift build -c release --static-swift-stdlib"
for p in "${functions[@]}"; do swift_build -c release --static-swift-stdlib --scratch-path "$scratch" --product "$p"; done

allowed='^(linux-vdso\.so|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|libutil\.so|ld-linux-x86-64\.so|ld-linux-aarch64\.so|libstdc\+\+\.so|libgcc_s\.so)'
out=.build/lambda
mkdir -p "$out"
status=0
for f in "${functions[@]}"; do
  bin="$scratch/release/$f"
  dir="$out/$f"
  rm -rf "$dir" "$out/$f.zip"
  mkdir -p "$dir"
  cp "$bin" "$dir/bootstrap"
  chmod 755 "$dir/bootstrap"
  bad=$(ldd "$dir/bootstrap" | awk '{ print $1 }' | sed 's#.*/##' | grep -Ev "$allowed" || true)
  if [[ -n "$bad" ]]; then
    echo "error: $f needs shared libraries Amazon Linux 2023 may lack: $(echo $bad)" >&2
    status=1
  fi
  python3 - "$dir/bootstrap" "$out/$f.zip" <<'PY'
import sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
    info = zipfile.ZipInfo("bootstrap")
    info.external_attr = 0o100755 << 16  # executable, as Lambda requires
    info.compress_type = zipfile.ZIP_DEFLATED
    with open(src, "rb") as f:
        z.writestr(info, f.read())
PY
  printf '%-9s %s (%s), %s\n' "$f" "$dir/bootstrap" "$(du -h "$dir/bootstrap" | cut -f1)" "$out/$f.zip ($(du -h "$out/$f.zip" | cut -f1))"
done
exit $status
