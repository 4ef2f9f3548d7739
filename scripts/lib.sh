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

# A throwaway emulator on a free port over a temporary store in $1 (a folder the caller removes),
# serving the binaries in $2, with any further arguments passed to `start-api`; DATABASE_URL from
# the environment wins over the SQLite file there. Schedules are off unless EMULATOR_SCHEDULES=1.
# Sets emulator_pid and url; prints the log and fails when it does not start.
start_throwaway_emulator() {
  local work=$1 bin=$2
  shift 2
  local schedules=(--no-schedules)
  [[ "${EMULATOR_SCHEDULES:-}" == 1 ]] && schedules=()
  DATABASE_URL="${DATABASE_URL:-sqlite://$work/rag.sqlite}" BLOB_DIR="$work/blobs" EMBEDDING_MODEL_DIR="${EMBEDDING_MODEL_DIR:-}" \
    "$bin/emulator" start-api --port 0 --build-dir "$bin" "${schedules[@]}" --async-dir "$work/async" "$@" >"$work/emulator.log" 2>&1 &
  emulator_pid=$!
  url=""
  for _ in $(seq 600); do
    url=$(grep -o 'listening on http://[0-9.:]*' "$work/emulator.log" | head -1 | sed 's/listening on //') && [[ -n "$url" ]] && break
    kill -0 "$emulator_pid" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n "$url" ]] || { echo "the emulator did not start:" >&2; cat "$work/emulator.log" >&2; return 1; }
}
