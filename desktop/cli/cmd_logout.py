"""`fieldatlas logout`: sign a database out of the team server; the server ends the token and this computer forgets it."""

from __future__ import annotations

import argparse

from desktop.cli.common import CliError, add_db_argument, add_json_argument, emit, open_store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("logout", help="sign out of the team sync server",
                       description="Sign this database out: the server ends its login token (when it can be "
                                   "reached) and this computer forgets it. Edits not sent yet stay queued and are "
                                   "sent after the next `fieldatlas login`.")
    add_db_argument(p)
    add_json_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.sync import engine

    store = open_store(args.db)
    try:
        st = engine.status(store)
        if not st.configured:
            raise CliError(f"logout: {args.db} is not signed in to a server")
        ended = engine.logout(store)
        pending = engine.status(store).pending
    finally:
        store.close()
    where = "the server ended the login" if ended else "the server could not be reached; the login was forgotten here"
    emit(args, f"signed out {st.email} from {st.server} ({where}); {pending} changes wait to be sent",
         {"server": st.server, "email": st.email, "ended_on_server": ended, "pending": pending})
    return 0
