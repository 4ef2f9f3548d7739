#!/usr/bin/env python3
"""Replays a query log through a running emulator and reports what the query-vector caches did,
from the functions' own metric records (GET /metrics): the first level's hit rate (each warm
process's own cache), the shared level's, how many queries reached the model, and the search
latency the client saw (p50, p99). Used by infra/bench/query-cache.sh."""
import argparse, concurrent.futures, json, random, statistics, time, urllib.request


def post(url, token, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as r:
        r.read()
    return (time.perf_counter() - t) * 1000


def totals(url):
    text = urllib.request.urlopen(url + "/metrics", timeout=30).read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("rag_fn_") and "_total{" in line and 'route="POST /v1/search"' in line:
            name = line.split("{")[0]
            out[name] = out.get(name, 0) + float(line.rsplit(" ", 1)[1])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--queries", required=True, help="queries.jsonl ({_id, text})")
    ap.add_argument("--requests", type=int, default=600)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seed", type=int, default=20261207)
    args = ap.parse_args()
    texts = [json.loads(l)["text"] for l in open(args.queries) if l.strip()]
    # A query log's shape: a few queries asked often, most rarely (Zipf, s = 1.1), in one fixed order.
    rng = random.Random(args.seed)
    weights = [1 / (rank ** 1.1) for rank in range(1, len(texts) + 1)]
    log = rng.choices(texts, weights=weights, k=args.requests)
    with concurrent.futures.ThreadPoolExecutor(args.clients) as pool:
        latencies = list(pool.map(lambda q: post(args.url + "/v1/search", args.token, {"query": q, "limit": 10}), log))
    t = totals(args.url)
    g = lambda k: t.get("rag_fn_" + k + "_total", 0)
    l1h, l1m = g("query_cache_hits"), g("query_cache_misses")
    sh, sm = g("shared_cache_hits"), g("shared_cache_misses")
    lat = sorted(latencies)
    print(json.dumps({
        "requests": len(log), "distinct": len(set(log)),
        "first_level_hit_rate": round(l1h / max(1, l1h + l1m), 3),
        "shared_level_hit_rate": round(sh / max(1, sh + sm), 3) if sh + sm else None,
        "overall_hit_rate": round((l1h + sh) / max(1, l1h + l1m), 3),
        "model_calls": int(g("embedding_calls")), "shared_errors": int(g("shared_cache_errors")),
        "search_p50_ms": round(statistics.median(lat), 2), "search_p99_ms": round(lat[int(0.99 * (len(lat) - 1))], 2),
    }))


if __name__ == "__main__":
    main()
