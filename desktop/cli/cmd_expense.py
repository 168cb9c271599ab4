"""`fieldatlas expense`: log expenses with receipts and per diem, list, edit and delete them (locked once submitted)."""

from __future__ import annotations

import argparse
from typing import Any, Callable

from core.expenses import (CATEGORIES, ExpenseError, add_expense, attach_receipt, delete_expense, list_expenses,
                           update_expense)
from core.expenses.common import check_period
from core.money import format_cents
from core.reps import find_rep
from core.storage.database import Store
from desktop.cli.common import CliError, add_db_argument, add_json_argument, emit, open_store


def person_id(store: Store, text: str | None, flag: str, *, default_role: str | None = "rep") -> int:
    """A person by id, email or name; without one, the only person of `default_role` (else a clear error)."""
    if text:
        try:
            return find_rep(store, text)["id"]
        except KeyError as exc:
            raise CliError(f"{flag}: {exc.args[0]}") from None
    rows = store.query("SELECT id FROM reps WHERE deleted_at IS NULL AND active = 1 AND role = ?", (default_role,))
    if len(rows) == 1:
        return rows[0]["id"]
    raise CliError(f"{flag}: say who (id, email or name); there are {len(rows)} people with role {default_role}")


def add_actor_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--as", dest="acting_as", metavar="PERSON",
                   help="who is doing this (id, email or name; default: the rep)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("expense", help="log and list expenses with receipts",
                       description="Expenses: `add` one (amount and ISO currency, receipt JPEG/PNG/PDF, per diem), "
                                   "`list` a month, `attach` a receipt, `edit`, `delete`. Items on a submitted or "
                                   "approved report are locked.")
    verbs = p.add_subparsers(dest="verb", required=True)
    a = verbs.add_parser("add", help="log an expense")
    add_db_argument(a)
    a.add_argument("--date", required=True, help="YYYY-MM-DD (not in the future)")
    a.add_argument("--amount", help="e.g. 42.50 (two decimals at most, positive)")
    a.add_argument("--currency", default="USD", help="ISO 4217 code (default USD)")
    a.add_argument("--category", default=None, help="one of: " + ", ".join(CATEGORIES))
    a.add_argument("--merchant", default=None)
    a.add_argument("--receipt", default=None, metavar="FILE", help="a JPEG, PNG or PDF receipt")
    a.add_argument("--rep", default=None, help="whose expense (id, email or name); default the only rep")
    a.add_argument("--account", type=int, default=None, metavar="ID", help="the account it was for")
    a.add_argument("--purpose", default=None, help="business purpose")
    a.add_argument("--notes", default=None)
    a.add_argument("--per-diem", action="store_true", help="a meals-and-incidentals per diem at the rate in force")
    a.add_argument("--place", default="Standard CONUS", help="per diem place (default Standard CONUS)")
    a.add_argument("--partial-day", action="store_true", help="per diem for a first or last travel day (75%%)")
    add_actor_argument(a)
    add_json_argument(a)
    ls = verbs.add_parser("list", help="a month's expenses")
    add_db_argument(ls)
    ls.add_argument("--period", required=True, help="YYYY-MM")
    ls.add_argument("--rep", default=None, help="one rep (default everyone)")
    add_json_argument(ls)
    at = verbs.add_parser("attach", help="attach a receipt file to an expense")
    add_db_argument(at)
    at.add_argument("expense_id", type=int)
    at.add_argument("file")
    add_actor_argument(at)
    add_json_argument(at)
    ed = verbs.add_parser("edit", help="change an expense (not once its report is submitted)")
    add_db_argument(ed)
    ed.add_argument("expense_id", type=int)
    for flag in ("amount", "currency", "category", "merchant", "notes", "purpose", "date"):
        ed.add_argument(f"--{flag}", default=None)
    add_actor_argument(ed)
    add_json_argument(ed)
    de = verbs.add_parser("delete", help="delete an expense (not once its report is submitted)")
    add_db_argument(de)
    de.add_argument("expense_id", type=int)
    add_actor_argument(de)
    add_json_argument(de)
    p.set_defaults(func=run)


def off_report_note(report_id: int | None) -> str:
    """What to add when a new item landed on no report because its month's report was already submitted."""
    return "" if report_id else "; not on a report: that month's report is already submitted"


def actor_id(store: Store, args: argparse.Namespace) -> int | None:
    """The --as person, or None (the services then record the rep as the actor)."""
    return person_id(store, args.acting_as, "--as") if getattr(args, "acting_as", None) else None


def run_on_store(args: argparse.Namespace, body: Callable[[Store, argparse.Namespace], int]) -> int:
    """Open --db, run the verb, turn a refused action into one CLI line, always close (trip, expense, report)."""
    store = open_store(args.db)
    try:
        return body(store, args)
    except ExpenseError as exc:
        raise CliError(str(exc)) from None
    finally:
        store.close()


def run(args: argparse.Namespace) -> int:
    return run_on_store(args, _run)


def _run(store: Store, args: argparse.Namespace) -> int:
    if args.verb == "add":
        rep_id = person_id(store, args.rep, "--rep")
        if not args.per_diem and not args.category:
            raise CliError("--category: required (one of " + ", ".join(CATEGORIES) + ")")
        eid, changes = add_expense(
            store, rep_id, args.date, category=args.category or "Per diem", amount=args.amount,
            currency=args.currency, merchant=args.merchant, account_id=args.account, notes=args.notes,
            purpose=args.purpose, receipt=args.receipt, per_diem=args.per_diem, per_diem_place=args.place,
            partial_day=args.partial_day, actor_id=actor_id(store, args))
        row = _row(store, eid)
        emit(args, f"Expense {eid}: {row['day']} {row['category']} {format_cents(row['amount_cents'], row['currency'])}"
                   f" ({changes.note}{off_report_note(row['report_id'])})", row)
    elif args.verb == "list":
        first, last = check_period(args.period)
        rep_id = person_id(store, args.rep, "--rep") if args.rep else None
        rows = list_expenses(store, first=first, last=last, rep_id=rep_id)
        text = "\n".join(f"{r['id']:6}  {r['day']}  {r['rep_name'][:18]:18} {r['category'][:12]:12} "
                         f"{format_cents(r['amount_cents'], r['currency']):>12}  {r['merchant'] or ''}"
                         + ("  [receipt]" if r["receipt_id"] else "") + (f"  [same receipt as {r['duplicate_of']}]"
                                                                        if r["duplicate_of"] else "")
                         + ("  [not on a report]" if not r["report_id"] else "")
                         for r in rows) or f"No expenses in {args.period}"
        emit(args, text, rows)
    elif args.verb == "attach":
        changes = attach_receipt(store, args.expense_id, args.file, actor_id=actor_id(store, args))
        emit(args, f"Expense {args.expense_id}: {changes.note}", _row(store, args.expense_id))
    elif args.verb == "edit":
        values: dict[str, Any] = {k: getattr(args, k) for k in ("amount", "currency", "category", "merchant", "notes")
                                  if getattr(args, k) is not None}
        if args.purpose is not None:
            values["business_purpose"] = args.purpose
        if args.date is not None:
            values["day"] = args.date
        if not values:
            raise CliError("edit: give at least one of --amount --currency --category --merchant --notes --purpose --date")
        changes = update_expense(store, args.expense_id, values, actor_id=actor_id(store, args))
        emit(args, f"Expense {args.expense_id}: {changes.note or 'nothing changed'}", _row(store, args.expense_id))
    else:
        delete_expense(store, args.expense_id, actor_id=actor_id(store, args))
        emit(args, f"Expense {args.expense_id} deleted", {"deleted": args.expense_id})
    return 0


def _row(store: Store, expense_id: int) -> dict[str, Any]:
    return dict(store.conn.execute("SELECT * FROM expenses WHERE id = ?", (expense_id,)).fetchone())
