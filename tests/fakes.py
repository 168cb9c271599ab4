"""Local stand-ins for remote services: an HTTP server on 127.0.0.1 and a helper to answer with a body."""

from __future__ import annotations

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator


class FakeHandler(BaseHTTPRequestHandler):
    """Base for fake services: quiet, with one way to send a reply."""

    def reply(self, body: bytes | Any, content_type: str = "application/json", status: int = 200) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Run handler on a free port of 127.0.0.1; yields 'host:port' and stops the server afterwards."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class RecordingProgress:
    """A progress sink that keeps every report and says 'cancelled' once a test sets `stop`."""

    def __init__(self) -> None:
        self.reports: list[tuple] = []
        self.stop = False

    def update(self, done: int, total: int, message: str = "") -> None:
        self.reports.append((done, total, message))

    def cancelled(self) -> bool:
        return self.stop
