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
# Bundled: the stores link libpq (Postgres) and libsqlite3, which provided.al2023 lacks. They and
# their own non-glibc dependencies are copied into the package's lib/ folder, which Lambda puts
# on LD_LIBRARY_PATH (/var/task/lib). Anything else unexpected fails the build.
# The embedding functions link OpenBLAS (libopenblas, libgfortran, libquadmath), bundled the
# same way; those that embed (route, search, reembed, generate) carry the default native model,
# multilingual-e5-small (its 72 MB e5-small-q4.bin in .models/multilingual-e5-small, the model's
# own folder relative to /var/task; the zip goes to Lambda through S3, as `sam deploy` does for
# packages over 50 MB). health checks the model's configuration without it; upload links no BLAS.
# EMBEDDING_MODEL=sentence-transformers/all-MiniLM-L6-v2 packages that model instead (about 90 MB
# in .models/all-MiniLM-L6-v2, scripts/model.sh): a package carries the one native model its
# deployment runs, which also keeps it under Lambda's 250 MB.
# The SQL migrations ship in migrations/ ($LAMBDA_TASK_ROOT/migrations, where the stores look).
# route carries config/routing and the catalog's seed vectors (config/routing/seed-vectors.bin,
# written by route-eval --write-seed-vectors), so its cold start reads vectors instead of
# embedding every seed.
#
# Usage: infra/package.sh [--scratch-path .build] [function ...]
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.build
if [[ "${1:-}" == "--scratch-path" ]]; then scratch="$2"; shift 2; fi
functions=("$@")
((${#functions[@]})) || functions=(route upload reembed search generate health)
case "${EMBEDDING_MODEL:-}" in
  sentence-transformers/all-MiniLM-L6-v2|all-MiniLM-L6-v2) native_model=minilm ;;
  ""|intfloat/multilingual-e5-small|multilingual-e5-small) native_model=e5 ;;
  *) native_model=none ;;  # an HTTP provider's model: no native model to carry
esac
export PATH="$PATH:/opt/swift/usr/bin"
source scripts/lib.sh

echo "== swift build -c release --static-swift-stdlib"
for p in "${functions[@]}"; do swift_build -c release --static-swift-stdlib --scratch-path "$scratch" --product "$p"; done
# route-eval writes route's seed vector file; it runs here, at packaging time.
[[ " ${functions[*]} " == *" route "* ]] && swift_build -c release --static-swift-stdlib --scratch-path "$scratch" --product route-eval

# glibc's own libraries (libresolv among them) come from AL2023, never from the package: a
# Debian 12 copy needs glibc 2.36.
allowed='^(linux-vdso\.so|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|libutil\.so|libresolv\.so|ld-linux-x86-64\.so|ld-linux-aarch64\.so|libstdc\+\+\.so|libgcc_s\.so)'
# libpq's closure on Debian 12: TLS, Kerberos/GSSAPI and LDAP client libraries.
bundled='^(libpq\.so|libsqlite3\.so|libssl\.so|libcrypto\.so|libgssapi_krb5\.so|libkrb5\.so|libk5crypto\.so|libcom_err\.so|libkrb5support\.so|libkeyutils\.so|libldap|liblber|libsasl2\.so|libgnutls\.so|libidn2\.so|libunistring\.so|libtasn1\.so|libnettle\.so|libhogweed\.so|libgmp\.so|libp11-kit\.so|libffi\.so|libz\.so|libzstd\.so|liblzma\.so|libopenblas\.so|libgfortran\.so|libquadmath\.so)'
out=.build/lambda
mkdir -p "$out"
embedders="route search reembed generate"
status=0
for f in "${functions[@]}"; do
  bin="$scratch/release/$f"
  dir="$out/$f"
  rm -rf "$dir" "$out/$f.zip"
  mkdir -p "$dir"
  # Debug info (about 40 % of a binary) stays beside the package, for symbolicating a crash
  # report (`gdb -s .build/lambda/<fn>.debug`), not in it.
  objcopy --only-keep-debug "$bin" "$out/$f.debug"
  objcopy --strip-debug --add-gnu-debuglink="$out/$f.debug" "$bin" "$dir/bootstrap"
  chmod 755 "$dir/bootstrap"
  # Bundle the libraries AL2023 lacks that we knowingly depend on (with their dependencies).
  mkdir -p "$dir/lib"
  while read -r name path; do
    [[ "$name" =~ $allowed ]] && continue
    [[ "$name" =~ $bundled && -f "$path" ]] && cp -L "$path" "$dir/lib/$name"
  done < <(ldd "$dir/bootstrap" | awk '$2 == "=>" { print $1, $3 }')
  cp -r infra/migrations "$dir/migrations"
  # health serves the API's description (GET /openapi.yaml, /openapi.json).
  [[ "$f" == health ]] && cp openapi.yaml "$dir/openapi.yaml"
  # The router's catalog, rules and settings (ROUTE_CATALOG & co. default to config/routing/);
  # health too: its readiness validates them.
  if [[ "$f" == route || "$f" == health ]]; then
    mkdir -p "$dir/config" && cp -r config/routing "$dir/config/routing"
    rm -f "$dir/config/routing/seed-vectors.bin"   # a local one may be stale: written afresh below
  fi
  # The generation providers, settings and prompts (GENERATION_* default to config/generation/),
  # for generate and for health's readiness check of them.
  if [[ "$f" == generate || "$f" == health ]]; then
    mkdir -p "$dir/config" && cp -r config/generation "$dir/config/generation"
  fi
  # The embedding providers file (EMBEDDING_PROVIDERS_FILE, e.g. config/embedding/providers.yaml),
  # for the functions that embed and for health's probe of each provider.
  if [[ "$f" != upload ]]; then
    mkdir -p "$dir/config" && cp -r config/embedding "$dir/config/embedding"
  fi
  # The model goes only to the functions that embed (a query, a chunk, the router's input):
  # health checks the configuration without it, upload never embeds.
  if [[ " $embedders " == *" $f "* ]]; then
    if [[ "$native_model" == e5 ]]; then
      model="${EMBEDDING_MODEL_DIR:-.models/multilingual-e5-small}"
      [[ -f "$model/e5-small-q4.bin" ]] || { echo "error: $f embeds but $model has no e5-small-q4.bin; run scripts/model-e5.sh" >&2; exit 1; }
      mkdir -p "$dir/.models/multilingual-e5-small"
      cp "$model/e5-small-q4.bin" "$dir/.models/multilingual-e5-small/"
    else
      model="${EMBEDDING_MODEL_DIR:-.models/all-MiniLM-L6-v2}"
      [[ -f "$model/model.safetensors" ]] || { echo "error: $f embeds but $model has no model; run scripts/model.sh" >&2; exit 1; }
      mkdir -p "$dir/.models/all-MiniLM-L6-v2"
      for m in config.json vocab.txt model.safetensors sentence_bert_config.json; do
        [[ -f "$model/$m" ]] && cp "$model/$m" "$dir/.models/all-MiniLM-L6-v2/$m"
      done
    fi
  fi
  if [[ "$f" == route ]]; then
    "$scratch/release/route-eval" --catalog config/routing/catalog.yaml --rules config/routing/rules.yaml \
      --settings config/routing/router.yaml --model "${EMBEDDING_MODEL:-intfloat/multilingual-e5-small}" \
      ${EMBEDDING_MODEL_DIR:+--model-dir "$EMBEDDING_MODEL_DIR"} \
      --write-seed-vectors "$dir/config/routing/seed-vectors.bin"
  fi
  # Nothing may need a glibc or libstdc++ symbol newer than AL2023's (the binary's three are
  # forwarded to older versions: Runtime/CGlibcCompat).
  infra/symbol-check.sh "$dir/bootstrap" "$dir"/lib/* || status=1
  bad=$(ldd "$dir/bootstrap" | awk '{ print $1 }' | sed 's#.*/##' | grep -Ev "$allowed" | grep -Ev "$bundled" || true)
  if [[ -n "$bad" ]]; then
    echo "error: $f needs shared libraries Amazon Linux 2023 may lack: $(echo $bad)" >&2
    status=1
  fi
  python3 - "$dir" "$out/$f.zip" <<'PY'
import os, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
    for root, _, files in os.walk(src):
        for name in sorted(files):
            path = os.path.join(root, name)
            info = zipfile.ZipInfo(os.path.relpath(path, src))
            # bootstrap must be executable, as Lambda requires; the rest is read-only data.
            info.external_attr = (0o100755 if name == "bootstrap" else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as f:
                z.writestr(info, f.read())
PY
  # Lambda's limit is on the unzipped package: 262,144,000 bytes.
  unzipped=$(du -sb "$dir" | cut -f1)
  printf '%-9s unzipped %s bytes (%s%% of Lambda'"'"'s 262,144,000), bootstrap %s, zip %s\n' "$f" "$unzipped" \
    "$((unzipped * 100 / 262144000))" "$(du -h "$dir/bootstrap" | cut -f1)" "$(du -h "$out/$f.zip" | cut -f1)"
  if ((unzipped > 262144000 * 9 / 10)); then
    echo "error: $f unzips to $unzipped bytes, over 90 % of Lambda's 262,144,000-byte limit" >&2
    status=1
  fi
done
exit $status
