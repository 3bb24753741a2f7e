"""A small OpenAI-compatible chat-completions server for the llm engine's tests (a fake
only inside the tests): answers are a deterministic function of the request, and a
``mode`` makes it misbehave the ways real endpoints do."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

WORDS = [
    "the",
    "a",
    "moon",
    "keeper",
    "said",
    "nothing",
    "and",
    "the",
    "sea",
    "laughed",
    "back",
    "at",
    "last",
]


class FakeLLM:
    def __init__(self) -> None:
        self.mode = "ok"  # ok | garbage | no_choices | http_500 | slow | empty
        self.requests: list[dict[str, Any]] = []
        self.delay = 2.0

    def answer(self, request: dict[str, Any]) -> str:
        prompt = request["messages"][-1]["content"]
        digest = hashlib.sha256(f"{prompt}|{request['seed']}|{request['temperature']}".encode())
        picks = [WORDS[b % len(WORDS)] for b in digest.digest()[:12]]
        return f"{prompt.split(' about ')[-1].rstrip('.')}: " + " ".join(picks) + "."


@contextmanager
def fake_llm() -> Iterator[tuple[str, FakeLLM]]:
    """(base URL, controller) of a server on a free local port, for one test."""
    fake = FakeLLM()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            assert self.path == "/v1/chat/completions", self.path
            fake.requests.append(body | {"authorization": self.headers.get("Authorization")})
            if fake.mode == "slow":
                time.sleep(fake.delay)
            if fake.mode == "http_500":
                return self._send(500, b'{"error": "model not loaded"}')
            if fake.mode == "garbage":
                return self._send(200, b"<html>hello</html>")
            if fake.mode == "no_choices":
                return self._send(200, b'{"object": "chat.completion", "choices": []}')
            content = "" if fake.mode == "empty" else fake.answer(body)
            reply = {"choices": [{"message": {"role": "assistant", "content": content}}]}
            self._send(200, json.dumps(reply).encode())

        def _send(self, status: int, data: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the timeout test)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", fake
    finally:
        server.shutdown()
        server.server_close()
