"""`fieldatlas server init`: set up a team server database (SQLite or PostgreSQL) with its first admin."""

from __future__ import annotations

import argparse

from desktop.cli.common import CliError, add_json_argument, emit


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("server", help="set up the team sync server's database",
                       description="Team sync server administration. `init` creates the server's tables and its "
                                   "first admin user (safe to run again; it changes nothing that exists).")
    verbs = p.add_subparsers(dest="verb", required=True)
    init = verbs.add_parser("init", help="create the server database and the first admin")
    init.add_argument("--database-url", required=True, metavar="URL",
                      help="sqlite:///path/server.sqlite or postgresql://user:pass@host/db")
    init.add_argument("--admin-email", required=True)
    init.add_argument("--admin-password", required=True, help="at least 8 characters")
    add_json_argument(init)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from server.app import init_server
    from server.storage import StorageError

    try:
        result = init_server(args.database_url, args.admin_email, args.admin_password)
    except (StorageError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    text = (f"server database ready ({result['database']}); admin {result['admin']} "
            + ("created" if result["created"] else "already existed"))
    emit(args, text, result)
    return 0
