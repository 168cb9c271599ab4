"""`fieldatlas login`: log a database in to the team server; the token goes to the keyring (or a private file)."""

from __future__ import annotations

import argparse
import getpass

from desktop.cli.common import CliError, add_db_argument, add_json_argument, emit, open_store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("login", help="log in to the team sync server",
                       description="Log this database in to a sync server as a user. The password is checked by "
                                   "the server; only the token it returns is kept, in the system keyring or, "
                                   "without one, in a private file in the FieldAtlas config folder.")
    add_db_argument(p)
    p.add_argument("--server", required=True, metavar="URL", help="e.g. http://127.0.0.1:8765")
    p.add_argument("--email", required=True)
    p.add_argument("--password", help="asked for when not given")
    add_json_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.sync import credentials, engine
    from core.sync.transport import SyncError

    password = args.password if args.password is not None else getpass.getpass(f"Password for {args.email}: ")
    store = open_store(args.db, create=True)
    try:
        answer = engine.login(store, args.server, args.email, password)
    except SyncError as exc:
        raise CliError(f"login: {exc}") from exc
    finally:
        store.close()
    emit(args, f"logged in to {args.server} as {answer['email']} ({answer['role']}); token kept in "
               f"{credentials.where()}",
         {"server": args.server, "email": answer["email"], "role": answer["role"], "rep_uid": answer["rep_uid"]})
    return 0
