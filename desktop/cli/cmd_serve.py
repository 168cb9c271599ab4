"""`fieldatlas serve`: run the team sync server (FastAPI + uvicorn), on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import argparse

from desktop.cli.common import CliError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the team sync server",
                       description="Serve the sync API on HOST:PORT. It binds to 127.0.0.1 by default; put a TLS "
                                   "reverse proxy in front before opening it to a network (docs/server.md).")
    p.add_argument("--database-url", required=True, metavar="URL",
                   help="the database `fieldatlas server init` set up (sqlite:///... or postgresql://...)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this computer only)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--access-log", action="store_true", help="log one line per request (off by default: it costs "
                                                             "throughput, and the TLS proxy logs requests too)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from server.running import serve
    from server.storage import StorageError

    try:
        serve(args.database_url, args.host, args.port, access_log=args.access_log)
    except StorageError as exc:
        raise CliError(str(exc)) from exc
    return 0
