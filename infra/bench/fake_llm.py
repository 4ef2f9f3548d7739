#!/usr/bin/env python3
"""An OpenAI-compatible chat completions server that answers at once, for infra/bench/generate.sh:
POST /v1/chat/completions -> a fixed answer citing [1], with usage. Keep-alive (HTTP/1.1), so the
benchmark measures the function, not connection setup. Usage: fake_llm.py PORT"""
import json
import sys
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
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(ANSWER)))
        self.end_headers()
        self.wfile.write(ANSWER)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
