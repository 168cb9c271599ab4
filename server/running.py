"""Run the server with uvicorn in this process: in the foreground (`fieldatlas serve`) or on a thread."""

from __future__ import annotations

import gc
import socket
import threading
import time

import uvicorn

from server.app import create_app


def config(database_url: str, host: str = "127.0.0.1", port: int = 8765, *, quiet: bool = False,
           access_log: bool = False) -> uvicorn.Config:
    # loop/http "auto" take uvloop and httptools (both in the dependencies): C event loop and HTTP parser.
    # The access log is off unless asked for: one formatted line per request cost more than a pull
    # under load, and the TLS proxy in front (docs/server.md) logs requests anyway.
    return uvicorn.Config(create_app(database_url), host=host, port=port, log_level="warning" if quiet else "info",
                          access_log=access_log and not quiet, lifespan="off", loop="auto", http="auto")


def settle_memory() -> None:
    """Once the app is built: set what is loaded by then aside from the garbage collector (gc.freeze).

    A full collection walks every object the process holds: with the web stack, pydantic and the app
    loaded, some 85,000, which took 85-350 ms on a shared 2-CPU machine while no request moved, once
    in each run of benchmarks/sync_load.py. Frozen objects are never walked again.
    """
    gc.collect()
    gc.freeze()  # the thresholds stay: a larger first generation made each young collection the pause


def serve(database_url: str, host: str = "127.0.0.1", port: int = 8765, *, access_log: bool = False) -> None:
    server = uvicorn.Server(config(database_url, host, port, access_log=access_log))
    settle_memory()
    server.run()


class Background:
    """A server on a free port of 127.0.0.1 in a daemon thread; `url` once started, stop() to end it."""

    def __init__(self, database_url: str, port: int = 0) -> None:
        if not port:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._server = uvicorn.Server(config(database_url, "127.0.0.1", port, quiet=True))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self, timeout: float = 15.0) -> "Background":
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the sync server did not start on {self.url}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._server.config.app.state.store.close()
