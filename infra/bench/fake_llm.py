#!/usr/bin/env python3
"""An OpenAI-compatible chat completions server that answers at once, for infra/bench/generate.sh:
POST /v1/chat/completions -> a fixed answer citing [1], with usage. Keep-alive (HTTP/1.1), so the
benchmark measures the function, not connection setup. With `"stream": true` (infra/bench/stream.sh)
the same answer a word per server-sent event, the first after FIRST_TOKEN_MS and the others
TOKEN_MS apart (environment; default 50 and 10), then the usage and `[DONE]`; with WHOLE_DELAY=1 a
whole answer takes as long as its stream would.
Usage: fake_llm.py PORT"""
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWER = json.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "model": "instant",
    "choices": [{"index": 0, "message": {"role": "assistant",
                 "content": "Employees must submit annual leave requests through the HR portal [1]. Receipts are needed within thirty days [2]."},
                 "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 400, "completion_tokens": 30, "total_tokens": 430},
}).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body in one write, without Nagle: otherwise the body waits for the client's
    # delayed ACK (40 ms on Linux) and the "instant" provider is not instant.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            streamed = json.loads(body).get("stream") is True
        except ValueError:
            streamed = False
        if streamed:
            return self.stream()
        if WHOLE_DELAY:
            # As long as the stream of the same answer takes, for a fair whole-vs-streamed comparison.
            words = len(json.loads(ANSWER)["choices"][0]["message"]["content"].split(" "))
            time.sleep((FIRST_TOKEN_MS + (words - 1) * TOKEN_MS) / 1000)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(ANSWER)))
        self.end_headers()
        self.wfile.write(ANSWER)

    def stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

        def chunk(data):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        words = json.loads(ANSWER)["choices"][0]["message"]["content"].split(" ")
        time.sleep(FIRST_TOKEN_MS / 1000)
        for i, word in enumerate(words):
            if i:
                time.sleep(TOKEN_MS / 1000)
            event = {"id": "c", "object": "chat.completion.chunk", "model": "instant",
                     "choices": [{"index": 0, "delta": {"content": (" " if i else "") + word}, "finish_reason": None}]}
            chunk(b"data: " + json.dumps(event).encode() + b"\n\n")
        end = {"id": "c", "object": "chat.completion.chunk", "model": "instant", "choices": [],
               "usage": {"prompt_tokens": 400, "completion_tokens": 30, "total_tokens": 430}}
        chunk(b"data: " + json.dumps(end).encode() + b"\n\ndata: [DONE]\n\n")
        chunk(b"")

    def log_message(self, *args):
        pass


FIRST_TOKEN_MS = float(os.environ.get("FIRST_TOKEN_MS", "50"))
TOKEN_MS = float(os.environ.get("TOKEN_MS", "10"))
WHOLE_DELAY = os.environ.get("WHOLE_DELAY") == "1"


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
