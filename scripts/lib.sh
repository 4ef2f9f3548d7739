# Shared by the scripts: quiet builds that show everything when they fail.
swift_build() {
  local log
  log=$(mktemp)
  if ! swift build "$@" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "swift build $* failed" >&2
    return 1
  fi
  grep -E "Build complete|error:" "$log" || true
  rm -f "$log"
}
