"""`fieldatlas visit`: list a day's visits, check in, check out, mark missed (works offline; every write is logged)."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone

from core.planning import check_in, check_out, mark_missed, visits_on
from core.reps import find_rep
from desktop.cli.common import CliError, add_db_argument, add_json_argument, emit, iso_date, open_store, zoned_time


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("visit", help="list, check in, check out and mark missed visits",
                       description="Visits on the road: `list` a rep's day, `checkin` on arrival, `checkout` with "
                                   "an outcome and notes, `missed` when a planned visit did not happen (a rotation's "
                                   "re-plan rolls it forward).")
    verbs = p.add_subparsers(dest="verb", required=True)
    ls = verbs.add_parser("list", help="a rep's visits on a day")
    add_db_argument(ls)
    ls.add_argument("--rep", required=True, help="rep id, email or name")
    ls.add_argument("--day", type=iso_date, default=None, help="YYYY-MM-DD (default today)")
    add_json_argument(ls)
    ci = verbs.add_parser("checkin", help="record arrival at a visit")
    add_db_argument(ci)
    ci.add_argument("visit_id", type=int)
    ci.add_argument("--at", default=None, help="ISO time with zone (default now)")
    add_json_argument(ci)
    co = verbs.add_parser("checkout", help="record leaving, with an outcome")
    add_db_argument(co)
    co.add_argument("visit_id", type=int)
    co.add_argument("--outcome", required=True, help="how it went, e.g. 'Order placed'")
    co.add_argument("--notes", default=None)
    co.add_argument("--at", default=None, help="ISO time with zone (default now)")
    add_json_argument(co)
    mi = verbs.add_parser("missed", help="record that a planned visit did not happen")
    add_db_argument(mi)
    mi.add_argument("visit_id", type=int)
    mi.add_argument("--reason", default=None, help="why, e.g. 'store closed for inventory'")
    add_json_argument(mi)
    p.set_defaults(func=run)


def _local(utc_text: str, time_zone: str | None) -> str:
    """'08:08 CST (2026-12-07T14:08:00Z)': the rep's own clock first, the stored UTC time beside it."""
    from zoneinfo import ZoneInfo

    when = datetime.fromisoformat(utc_text.replace("Z", "+00:00"))
    local = when.astimezone(ZoneInfo(time_zone or "America/Chicago"))
    return f"{local:%H:%M %Z} ({utc_text})"


def run(args: argparse.Namespace) -> int:
    store = open_store(args.db)
    try:
        if args.verb == "list":
            try:
                rep = find_rep(store, args.rep)
            except KeyError as exc:
                raise CliError(f"--rep: {exc.args[0]}") from exc
            day = args.day or datetime.now(timezone.utc).date()
            rows = visits_on(store, rep["id"], day, rep["time_zone"])
            text = "\n".join(f"{r['id']:6}  {_local(r['planned_start'], rep['time_zone'])}  {r['status']:9} "
                             f"{r['account_name']}" for r in rows) or f"No visits for {rep['name']} on {day}"
            emit(args, text, rows)
            return 0
        try:
            if args.verb == "checkin":
                changes = check_in(store, args.visit_id, zoned_time(args.at))
            elif args.verb == "missed":
                changes = mark_missed(store, args.visit_id, args.reason)
            else:
                changes = check_out(store, args.visit_id, args.outcome, args.notes, zoned_time(args.at))
        except (KeyError, ValueError) as exc:
            raise CliError(str(exc.args[0] if exc.args else exc)) from exc
        row = dict(store.conn.execute("SELECT * FROM visits WHERE id = ?", (args.visit_id,)).fetchone())
        emit(args, f"Visit {args.visit_id}: {changes.note} ({row['status']})", row)
    finally:
        store.close()
    return 0
