#!/usr/bin/env bash
# Fails when an ELF file needs a glibc or libstdc++ symbol version newer than Amazon Linux 2023
# has (provided.al2023: glibc 2.34; GCC 11's libstdc++: GLIBCXX_3.4.29, CXXABI_1.3.13). Prints
# every such symbol with the file that needs it, and the newest version each file needs.
# Usage: infra/symbol-check.sh FILE...
set -euo pipefail
MAX_GLIBC=${MAX_GLIBC:-2.34}
MAX_GLIBCXX=${MAX_GLIBCXX:-3.4.29}
MAX_CXXABI=${MAX_CXXABI:-1.3.13}

# a <= b for dotted versions
le() { [[ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -1)" == "$1" ]]; }

status=0
for f in "$@"; do
  newest_glibc=0 newest_cxx=0
  # objdump -T: "... *UND* ... (GLIBC_2.35) hypot" (a "Base" or hidden version is skipped).
  while read -r version symbol; do
    family=${version%%_*} number=${version#*_}
    case "$family" in
      GLIBC) limit=$MAX_GLIBC; le "$newest_glibc" "$number" && newest_glibc=$number ;;
      GLIBCXX) limit=$MAX_GLIBCXX; le "$newest_cxx" "$number" && newest_cxx=$number ;;
      CXXABI) limit=$MAX_CXXABI ;;
      *) continue ;;
    esac
    if ! le "$number" "$limit"; then
      echo "symbol-check: $f needs $symbol@$version (AL2023 has $family up to $limit)" >&2
      status=1
    fi
  done < <(objdump -T "$f" 2>/dev/null | awk '$0 ~ /\*UND\*/ { for (i = 1; i <= NF; i++) if ($i ~ /^\((GLIBC|GLIBCXX|CXXABI)_[0-9.]+\)$/) { v = $i; gsub(/[()]/, "", v); print v, $NF } }')
  cxx=""; [[ $newest_cxx != 0 ]] && cxx=", GLIBCXX_$newest_cxx"
  echo "symbol-check: $(basename "$(dirname "$f")")/$(basename "$f"): newest GLIBC_$newest_glibc$cxx"
done
exit $status
