"""Local HTTP servers that answer like a kubo node's RPC API and like an IPFS Pinning
Service, for the pinning client's tests only (the client itself talks real HTTP)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tastemaker.store.media import cid_for_bytes


class Recorder:
    def __init__(self) -> None:
        self.pins: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []
        self.garbage = False  # answer HTML, as a misconfigured proxy would
        self.wrong_cid = False


def _handler(kind: str, state: Recorder, token: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any, raw: bool = False) -> None:
            data = body if raw else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html" if raw else "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _handle(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            state.requests.append((self.command, url.path, query))
            body = self._body()
            if state.garbage:
                return self._send(200, b"<html>502 Bad Gateway</html>", raw=True)
            if kind == "kubo":
                return self._kubo(url.path, query, body)
            return self._psa(url.path, query, body)

        do_GET = do_POST = _handle

        def _kubo(self, path: str, query: dict[str, list[str]], body: bytes) -> None:
            if self.command != "POST":
                return self._send(405, {"Message": "405 - Method Not Allowed", "Type": "error"})
            if path == "/api/v0/add":
                boundary = self.headers["Content-Type"].split("boundary=")[1].encode()
                part = body.split(b"--" + boundary)[1]
                data = part.split(b"\r\n\r\n", 1)[1].removesuffix(b"\r\n")
                cid = cid_for_bytes(data if not state.wrong_cid else data + b"!")
                if query.get("pin") == ["true"]:
                    state.pins[cid] = {"Type": "recursive"}
                line = json.dumps({"Name": "file", "Hash": cid, "Size": str(len(data))})
                return self._send(200, (line + "\n").encode(), raw=True)
            if path == "/api/v0/pin/ls":
                cid = query["arg"][0]
                if cid in state.pins:
                    return self._send(200, {"Keys": {cid: state.pins[cid]}})
                message = f"path '{cid}' is not pinned"
                return self._send(500, {"Message": message, "Code": 0, "Type": "error"})
            if path == "/api/v0/id":
                return self._send(200, {"ID": "12D3Koo", "Addresses": ["/ip4/127.0.0.1/tcp/4001"]})
            return self._send(404, {"Message": "unknown command", "Type": "error"})

        def _psa(self, path: str, query: dict[str, list[str]], body: bytes) -> None:
            if self.headers.get("Authorization") != f"Bearer {token}":
                reason = {"reason": "UNAUTHORIZED", "details": "bad access token"}
                return self._send(401, {"error": reason})
            if path == "/pins" and self.command == "GET":
                found = [p for p in state.pins.values() if p["pin"]["cid"] in query["cid"]]
                return self._send(200, {"count": len(found), "results": found})
            if path == "/pins" and self.command == "POST":
                request = json.loads(body)
                status = {
                    "requestid": f"r{len(state.pins)}",
                    "status": "queued",
                    "created": "2026-12-02T00:00:00Z",
                    "pin": request,
                    "delegates": ["/ip4/203.0.113.1/tcp/4001/p2p/12D3KooPSA"],
                }
                state.pins[request["cid"]] = status
                return self._send(202, status)
            return self._send(404, {"error": {"reason": "NOT_FOUND"}})

    return Handler


@contextmanager
def serve(kind: str, token: str = "secret-token") -> Iterator[tuple[str, Recorder]]:
    """A kubo-like (``kind="kubo"``) or Pinning-Service-like server on a free port."""
    state = Recorder()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(kind, state, token))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
