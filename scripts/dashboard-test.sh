#!/usr/bin/env bash
# Browser test of the emulator's dashboard (GET /__emulator/), then its GET /metrics checked by
# Prometheus's parser and `promtool check metrics` (Tests/Dashboard/metrics_check.py): starts `emulator start-api` on a
# free port over a temporary SQLite store, with schedules on, the Lambda Invoke API on another
# free port and fast async retries, then runs Tests/Dashboard/dashboard_test.py (real traffic,
# then headless Chromium through Selenium). Builds nothing: run after `swift build`.
#
# Environment: BUILD_DIR (default .build/debug), DASHBOARD_SCREENSHOT (default .build/dashboard.png;
# a failed run also saves <name>-failure.png), EMBEDDING_MODEL_DIR (passed on when set).
# Installs when missing: Debian chromium, chromium-driver and prometheus (promtool), PyPI selenium
# and prometheus-client.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
bin="${BUILD_DIR:-.build/debug}"
screenshot="${DASHBOARD_SCREENSHOT:-.build/dashboard.png}"

command -v python3 >/dev/null || { echo "dashboard-test: python3 is required" >&2; exit 1; }
[[ -x "$bin/emulator" ]] || { echo "dashboard-test: no $bin/emulator; run swift build first" >&2; exit 1; }

# Debian and PyPI packages, installed only when missing (as scripts/api-fuzz.sh does).
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! command -v promtool >/dev/null; then
  echo "dashboard-test: installing chromium, chromium-driver and prometheus (promtool)"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium chromium-driver prometheus >/dev/null
fi
for module in selenium prometheus_client; do
  if ! python3 -c "import $module" >/dev/null 2>&1; then
    echo "dashboard-test: installing ${module//_/-}"
    python3 -m pip install -q --root-user-action=ignore "${module//_/-}"
  fi
done

work=$(mktemp -d)
emulator_pid=""
cleanup() { [[ -n "$emulator_pid" ]] && kill "$emulator_pid" 2>/dev/null && wait "$emulator_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# A free port for the Lambda Invoke API (the HTTP API takes --port 0 and logs the one it got).
lambda_port=$(python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1]); s.close()")

# Schedules on, the Lambda Invoke API, async retries 1000 times faster (a dead letter within
# seconds) and no function URLs.
DATABASE_URL="" EMULATOR_SCHEDULES=1 start_throwaway_emulator "$work" "$bin" \
  --lambda-port "$lambda_port" --async-retry-scale 0.001 --function-url-port=-1
lambda_url=$(grep -o 'Lambda Invoke API on http://[0-9.:]*' "$work/emulator.log" | head -1 | sed 's/Lambda Invoke API on //') || true
[[ -n "$lambda_url" ]] || { echo "dashboard-test: no Lambda Invoke API line:" >&2; cat "$work/emulator.log" >&2; exit 1; }
echo "dashboard-test: emulator at $url, Lambda Invoke API at $lambda_url"

rc=0
python3 Tests/Dashboard/dashboard_test.py --url "$url" --lambda-url "$lambda_url" --emulator "$bin/emulator" \
  --screenshot "$screenshot" || rc=$?
if ((rc == 0)); then
  echo "dashboard-test: GET /metrics after that traffic"
  python3 Tests/Dashboard/metrics_check.py --url "$url" || rc=$?
fi
if ((rc != 0)); then
  echo "dashboard-test: failed (exit $rc); emulator log tail:" >&2
  tail -40 "$work/emulator.log" >&2
fi
exit "$rc"
