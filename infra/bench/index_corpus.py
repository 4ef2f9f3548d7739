"""Uploads the shipped search set's corpus to an emulator as one org and waits until no document
is pending: the indexing step the benchmarks share (query-cache.sh, provider-routing.sh).

Usage: python3 infra/bench/index_corpus.py URL TOKEN [corpus.jsonl]
"""
import json, sys, time, urllib.parse, urllib.request

url, token = sys.argv[1], sys.argv[2]
corpus = sys.argv[3] if len(sys.argv) > 3 else "config/search-eval/corpus.jsonl"
h = {"Authorization": "Bearer " + token, "Content-Type": "text/plain"}
for line in open(corpus):
    d = json.loads(line)
    q = urllib.parse.urlencode({"filename": d["_id"] + ".txt", "title": d.get("title", "")})
    urllib.request.urlopen(urllib.request.Request(f"{url}/v1/documents?{q}", data=d["text"].encode(), headers=h, method="POST")).read()
for _ in range(600):
    c = json.loads(urllib.request.urlopen(urllib.request.Request(f"{url}/v1/documents?counts=true&limit=1", headers=h)).read())["counts"]
    if c["pending"] == 0:
        break
    time.sleep(0.5)
else:
    sys.exit("index_corpus: documents still pending after 300 s")
