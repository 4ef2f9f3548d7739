#!/usr/bin/env python3
"""Checks the emulator's GET /metrics after real traffic: Prometheus's own Python parser reads
every family (prometheus_client), histograms are cumulative and end at _count, the families the
README documents are there, and `promtool check metrics` (Debian's prometheus) finds nothing to
lint. Exits non-zero with the reason otherwise."""
import argparse
import subprocess
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True, help="the emulator's base URL")
    args = ap.parse_args()
    with urllib.request.urlopen(args.url + "/metrics", timeout=30) as r:
        ctype = r.headers.get("content-type", "")
        text = r.read().decode()
    failures = []
    if not ctype.startswith("text/plain; version=0.0.4"):
        failures.append(f"content-type is {ctype!r}")

    families = {f.name: f for f in text_string_to_metric_families(text)}
    for name in ["rag_invocations", "rag_invocation_duration_seconds", "rag_init_duration_seconds", "rag_cold_starts",
                 "rag_processes", "rag_dead_letters", "rag_alert_firing", "rag_fn_invocations", "rag_fn_duration_seconds",
                 "rag_fn_embed_time_seconds", "rag_fn_upload_bytes"]:
        if name not in families:
            failures.append(f"family {name} is missing")
    for f in families.values():
        if not f.documentation:
            failures.append(f"{f.name} has no HELP")
        if f.type != "histogram":
            continue
        series = {}
        for s in f.samples:
            key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
            series.setdefault(key, {"buckets": [], "count": None})
            if s.name.endswith("_bucket"):
                series[key]["buckets"].append((float(s.labels["le"]), s.value))
            elif s.name.endswith("_count"):
                series[key]["count"] = s.value
        for key, v in series.items():
            values = [c for _, c in sorted(v["buckets"])]
            if values != sorted(values):
                failures.append(f"{f.name}{dict(key)}: buckets are not cumulative")
            if not values or values[-1] != v["count"]:
                failures.append(f"{f.name}{dict(key)}: +Inf bucket {values[-1:]} != _count {v['count']}")
    search = [s for s in families["rag_invocations"].samples
              if s.labels.get("route") == "POST /v1/search" and s.labels.get("outcome") == "ok"] if "rag_invocations" in families else []
    if not search or search[0].value < 1:
        failures.append("no successful POST /v1/search counted")

    lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    if lint.returncode != 0 or lint.stdout.strip() or lint.stderr.strip():
        failures.append(f"promtool check metrics: rc {lint.returncode}: {lint.stdout.strip()} {lint.stderr.strip()}")

    for f in failures:
        print("  FAIL:", f)
    print(f"metrics: {len(families)} families, {len(text.splitlines())} lines, {len(failures)} problem(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
