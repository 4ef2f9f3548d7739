"""A local stand-in for a paid embeddings API, speaking OpenAI's wire format
(POST /v1/embeddings, bearer key, {"input": [...], "model", "dimensions"} ->
{"data": [{"index", "embedding"}], "usage"}). Prints its port, then serves.

mode "ok":   deterministic vectors: words hashed into `dimensions` buckets, L2-normalised,
             so texts sharing words are close (search works end to end).
mode "fail": answers 500 to everything but the startup probe ("dimension probe").
"""
import hashlib, json, math, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODE = sys.argv[1] if len(sys.argv) > 1 else "ok"
KEY = "test-key"


def vector(text, dims):
    v = [0.0] * dims
    for word in text.lower().split():
        h = int.from_bytes(hashlib.sha256(word.strip(".,;:!?").encode()).digest()[:4], "little")
        v[h % dims] += 1.0 if (h >> 31) & 1 else -1.0
    n = math.sqrt(sum(x * x for x in v)) or 1.0
    return [x / n for x in v] if any(v) else [1.0 / math.sqrt(dims)] * dims


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if self.path != "/v1/embeddings":
            return self.reply(404, {"error": {"message": "not found"}})
        if self.headers.get("Authorization") != "Bearer " + KEY:
            return self.reply(401, {"error": {"message": "bad key", "type": "invalid_request_error"}})
        inputs = body.get("input")
        inputs = [inputs] if isinstance(inputs, str) else inputs
        if MODE == "fail" and inputs != ["dimension probe"]:
            return self.reply(500, {"error": {"message": "upstream overloaded", "type": "server_error"}})
        dims = int(body.get("dimensions") or 1536)
        data = [{"object": "embedding", "index": i, "embedding": vector(t, dims)} for i, t in enumerate(inputs)]
        tokens = sum(len(t.split()) for t in inputs)
        self.reply(200, {"object": "list", "data": data, "model": body.get("model"),
                         "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
