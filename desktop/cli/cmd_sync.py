"""`fieldatlas sync`: send this database's edits to the team server and take everyone else's."""

from __future__ import annotations

import argparse
import dataclasses

from desktop.cli.common import CliError, add_db_argument, add_json_argument, emit, open_store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sync", help="sync with the team server",
                       description="Push every local edit, then pull what changed on the server, merging field "
                                   "by field. --status shows what is waiting; --conflicts lists values that lost "
                                   "a merge; --restore ID puts one back as a new edit.")
    add_db_argument(p)
    group = p.add_mutually_exclusive_group()
    group.add_argument("--status", action="store_true", help="show the sync status only")
    group.add_argument("--conflicts", action="store_true", help="list open conflicts")
    group.add_argument("--restore", type=int, metavar="ID", help="restore the losing value of conflict ID")
    add_json_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.sync import conflicts, engine
    from core.sync.transport import SyncError

    store = open_store(args.db)
    try:
        if args.status:
            st = engine.status(store)
            text = (f"server {st.server or '(none; run fieldatlas login)'} as {st.email or '-'}\n"
                    f"pending changes {st.pending}; last sync {st.last_sync_at or 'never'}; "
                    f"open conflicts {st.open_conflicts}" + (f"; last error: {st.last_error}" if st.last_error else "")
                    + (f"\nlast sync did: {st.last_result}" if st.last_result else ""))
            emit(args, text, dataclasses.asdict(st))
            return 0
        if args.conflicts:
            found = conflicts.list_conflicts(store)
            text = "\n".join(f"{c.id:5}  {c.table} {c.row_label!r} {c.column}: kept {c.kept_value!r}, "
                             f"lost {c.lost_value!r} ({c.reason})" for c in found) or "no open conflicts"
            emit(args, text, [dataclasses.asdict(c) for c in found])
            return 0
        if args.restore is not None:
            try:
                changes = conflicts.restore(store, args.restore)
            except (KeyError, ValueError) as exc:
                raise CliError(f"--restore: {exc.args[0]}") from exc
            emit(args, f"restored conflict {args.restore} ({changes.note}); it is sent at the next sync",
                 {"restored": args.restore})
            return 0
        try:
            report = engine.sync(store)
        except SyncError as exc:
            raise CliError(f"sync: {exc}") from exc
        emit(args, report.text(),
             {"pushed": report.pushed, "rejected": report.rejected, "pulled": report.pulled,
              "conflicts": report.conflicts, "parked": report.parked,
              "files_sent": report.files_sent, "files_received": report.files_received,
              "files_refused": report.files_refused, "gone": report.gone,
              "visits_cancelled": report.visits_cancelled, "moved_refused": report.moved_refused})
        return 0
    finally:
        store.close()
