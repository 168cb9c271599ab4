"""`fieldatlas users`: add, list and revoke the team server's users (as an admin logged in with `login`)."""

from __future__ import annotations

import argparse
import getpass

from desktop.cli.common import CliError, add_json_argument, emit, open_store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("users", help="manage the sync server's users (admin)",
                       description="Users of a sync server. Run as an admin who has logged in to that server "
                                   "with `fieldatlas login` on this computer.")
    verbs = p.add_subparsers(dest="verb", required=True)
    add = verbs.add_parser("add", help="add a user with a role")
    _common(add)
    add.add_argument("--email", required=True, help="the new user's email")
    add.add_argument("--role", required=True, choices=["rep", "manager", "finance", "admin"])
    add.add_argument("--rep-id", help="the rep this user is: a rep id from --db, or the rep's uid")
    add.add_argument("--db", metavar="PATH", help="database to look --rep-id up in")
    add.add_argument("--password", help="the new user's first password (asked for when not given)")
    ls = verbs.add_parser("list", help="list the users")
    _common(ls)
    rv = verbs.add_parser("revoke", help="end every login of a user at once")
    _common(rv)
    rv.add_argument("--email", required=True)
    p.set_defaults(func=run)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", required=True, metavar="URL")
    parser.add_argument("--as", dest="as_email", metavar="EMAIL",
                        help="the admin to act as (default: the last login to this server here)")
    add_json_argument(parser)


def _rep_uid(args: argparse.Namespace) -> str | None:
    if not args.rep_id:
        return None
    if not args.rep_id.isdigit():
        return args.rep_id
    if not args.db:
        raise CliError("--rep-id: give --db PATH to look a rep id up in, or pass the rep's uid")
    store = open_store(args.db)
    try:
        uid = store.scalar("SELECT uid FROM reps WHERE id = ?", (int(args.rep_id),))
    finally:
        store.close()
    if uid is None:
        raise CliError(f"--rep-id: no rep {args.rep_id} in {args.db}")
    return uid


def run(args: argparse.Namespace) -> int:
    from core.sync import credentials
    from core.sync.transport import Server, SyncError

    url = args.server.rstrip("/")
    email = args.as_email or credentials.last_email(url)
    token = credentials.load_token(url, email) if email else None
    if not token:
        raise CliError(f"not logged in to {url} on this computer; run `fieldatlas login` as an admin first")
    try:
        with Server(url, token) as server:
            if args.verb == "add":
                rep_uid = _rep_uid(args)
                password = args.password if args.password is not None else getpass.getpass("New user's password: ")
                user = server.request("POST", "/users", json={"email": args.email, "password": password,
                                                              "role": args.role, "rep_uid": rep_uid})
                emit(args, f"added {user['email']} ({user['role']})", user)
            elif args.verb == "list":
                users = server.request("GET", "/users")
                emit(args, "\n".join(f"{u['email']:32} {u['role']:8} {u['rep_uid'] or ''}" for u in users), users)
            else:
                answer = server.request("POST", "/users/revoke", json={"email": args.email})
                emit(args, f"revoked {answer['revoked']} logins of {answer['email']}", answer)
    except SyncError as exc:
        raise CliError(f"users {args.verb}: {exc}") from exc
    return 0
