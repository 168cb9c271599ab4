"""`fieldatlas report`: expense reports — list, show (items, totals, audit trail), submit, approve, reject."""

from __future__ import annotations

import argparse

from core.expenses import (approve, audit_trail, build_period, find_report, list_reports, reject,
                           report_totals, submit)
from core.expenses.common import report_row
from core.expenses.exports import money
from core.storage.database import Store
from desktop.cli.cmd_expense import person_id, run_on_store
from desktop.cli.common import CliError, add_db_argument, add_json_argument, emit


def _which(p: argparse.ArgumentParser) -> None:
    p.add_argument("report_id", type=int, nargs="?", help="the report's id (or give --rep and --period)")
    p.add_argument("--rep", default=None, help="the report's rep (id, email or name)")
    p.add_argument("--period", default=None, help="YYYY-MM")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="expense reports: submit, approve, reject",
                       description="Expense reports (one per rep and month): `list`, `show`, `submit` (locks it), "
                                   "`approve` or `reject` with a reason (a manager or admin, --as).")
    verbs = p.add_subparsers(dest="verb", required=True)
    ls = verbs.add_parser("list", help="reports and their state")
    add_db_argument(ls)
    ls.add_argument("--period", default=None)
    ls.add_argument("--rep", default=None)
    ls.add_argument("--state", default=None, choices=("draft", "submitted", "approved", "rejected", "exported"))
    add_json_argument(ls)
    for verb, help_text in (("show", "a report's items, totals and audit trail"),
                            ("submit", "send a report for approval (locks it)"),
                            ("approve", "approve a submitted report (manager or admin)"),
                            ("reject", "send a submitted report back with a reason (manager or admin)")):
        v = verbs.add_parser(verb, help=help_text)
        add_db_argument(v)
        _which(v)
        if verb != "show":
            v.add_argument("--as", dest="acting_as", metavar="PERSON", required=verb in ("approve", "reject"),
                           help="who is doing this (id, email or name)" + ("; default the report's rep"
                                                                         if verb == "submit" else ""))
        if verb == "approve":
            v.add_argument("--note", default=None)
        if verb == "reject":
            v.add_argument("--reason", required=True, help="why (the rep sees it)")
        add_json_argument(v)
    p.set_defaults(func=run)


def _report_id(store: Store, args: argparse.Namespace) -> int:
    if args.report_id is not None:
        return report_row(store, args.report_id)["id"]
    if not (args.rep and args.period):
        raise CliError("give the report's id, or --rep and --period")
    return find_report(store, person_id(store, args.rep, "--rep"), args.period)["id"]


def run(args: argparse.Namespace) -> int:
    return run_on_store(args, _run)


def _run(store: Store, args: argparse.Namespace) -> int:
    if args.verb == "list":
        rep_id = person_id(store, args.rep, "--rep") if args.rep else None
        rows = list_reports(store, period=args.period, rep_id=rep_id, states=(args.state,) if args.state else None)
        for r in rows:
            r["totals_cents"] = report_totals(store, r["id"])
        emit(args, "\n".join(f"{r['id']:5}  {r['period']}  {r['rep_name'][:20]:20} {r['state']:9} "
                             f"{r['trips']:4} trips {r['expenses']:4} expenses  {money(r['totals_cents'])}"
                             for r in rows) or "No reports", rows)
        return 0
    report_id = _report_id(store, args)
    if args.verb == "show":
        r = report_row(store, report_id)
        period = build_period(store, r["period"], r["rep_id"])
        trips = [t for t in period.trips if t["report_id"] == report_id]
        expenses = [e for e in period.expenses if e["report_id"] == report_id]
        trail = audit_trail(store, report_id)
        totals = report_totals(store, report_id)
        text = [f"Report {report_id}: {r['title']} — {r['state']}"
                + (f" ({r['decision_note']})" if r["decision_note"] else ""),
                f"{len(trips)} trips, {len(expenses)} expenses, total {money(totals)}", "Audit trail:"]
        text += [f"  {a['at']}  {a['actor_name'] or '?':20} {a['action']}" for a in trail]
        emit(args, "\n".join(text), {"report": r, "totals_cents": totals, "trips": len(trips),
                                     "expenses": len(expenses), "audit": trail})
        return 0
    if args.verb == "submit":
        actor = person_id(store, args.acting_as, "--as") if args.acting_as else report_row(store, report_id)["rep_id"]
        changes = submit(store, report_id, actor)
    elif args.verb == "approve":
        changes = approve(store, report_id, person_id(store, args.acting_as, "--as"), args.note)
    else:
        changes = reject(store, report_id, person_id(store, args.acting_as, "--as"), args.reason)
    r = report_row(store, report_id)
    emit(args, f"Report {report_id}: {changes.note} ({r['state']})", r)
    return 0
