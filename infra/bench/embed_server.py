"""An OpenAI-compatible /v1/embeddings server running the native model through the `embed` tool
(one process per role), with a fixed extra delay per request standing in for the network hop to
a TEI or vLLM server: the remote provider of infra/bench/provider-routing.sh.

Usage: python3 embed_server.py --embed .build/release/embed --delay-ms 10
Prints "listening on http://127.0.0.1:PORT"; GET /stats answers the calls and texts served by role.
"""
import argparse, json, subprocess, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--embed", required=True)
ap.add_argument("--delay-ms", type=float, default=10)
args = ap.parse_args()

procs, locks, stats = {}, {}, {"query": [0, 0], "passage": [0, 0]}
for role in ("query", "passage"):
    procs[role] = subprocess.Popen([args.embed, "--role", role, "--batch-size", "1", "--no-ids", "--threads", "1"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    locks[role] = threading.Lock()


def embed(role, texts):
    p = procs[role]
    with locks[role]:
        for t in texts:
            p.stdin.write(json.dumps({"text": t}) + "\n")
        p.stdin.flush()
        return [json.loads(p.stdout.readline()) for _ in texts]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        body = json.dumps(stats).encode()
        self.send_response(200); self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body))); self.end_headers(); self.wfile.write(body)

    def do_POST(self):
        req = json.loads(self.rfile.read(int(self.headers["content-length"])))
        time.sleep(args.delay_ms / 1000)
        data, tokens = [None] * len(req["input"]), 0
        for role, prefix in (("query", "query: "), ("passage", "passage: ")):
            idx = [i for i, t in enumerate(req["input"]) if (t.startswith(prefix) or (role == "passage" and not t.startswith("query: ")))]
            if not idx:
                continue
            texts = [req["input"][i][len(prefix):] if req["input"][i].startswith(prefix) else req["input"][i] for i in idx]
            stats[role][0] += 1; stats[role][1] += len(texts)
            for i, out in zip(idx, embed(role, texts)):
                data[i] = {"object": "embedding", "index": i, "embedding": out["embedding"]}
                tokens += out.get("tokens", 0)
        body = json.dumps({"object": "list", "data": data, "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}).encode()
        self.send_response(200); self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body))); self.end_headers(); self.wfile.write(body)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
