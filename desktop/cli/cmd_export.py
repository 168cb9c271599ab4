"""`fieldatlas export WHAT`: write data out as CSV, XLSX or PDF; each kind of export is one entry in EXPORTS."""

from __future__ import annotations

import argparse
from typing import Callable

from core.importing.export import ExportProblem, export_accounts
from desktop.cli.common import BarProgress, CliError, add_db_argument, add_json_argument, emit, open_store


def _add_accounts(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("csv", "xlsx"), default=None,
                        help="file format (default: from the --out file name, else csv)")


def _run_accounts(args: argparse.Namespace) -> dict:
    store = open_store(args.db)
    try:
        with BarProgress("Exporting accounts") as bar:
            rows = export_accounts(store, args.out, args.format, progress=bar)
    except ExportProblem as exc:
        raise CliError(str(exc)) from exc
    finally:
        store.close()
    return {"what": "accounts", "rows": rows, "out": args.out}


def _add_period(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--period", required=True, help="the month, YYYY-MM")
    parser.add_argument("--rep", default=None, help="one rep (id, email or name; default everyone)")
    parser.add_argument("--format", choices=("csv", "xlsx", "pdf"), default=None,
                        help="file format (default: from the --out file name, else csv)")
    parser.add_argument("--mark-exported", action="store_true",
                        help="move the approved reports in this export to 'exported' (recorded in the audit trail)")
    parser.add_argument("--as", dest="acting_as", metavar="PERSON", help="who is exporting (for the audit trail)")


def _period_runner(what: str):
    def run_it(args: argparse.Namespace) -> dict:
        from core.expenses import ExpenseError, build_period, mark_exported
        from core.expenses.exports import export_expenses, export_mileage
        from desktop.cli.cmd_expense import person_id

        store = open_store(args.db)
        try:
            rep_id = person_id(store, args.rep, "--rep") if args.rep else None
            actor = person_id(store, args.acting_as, "--as") if args.acting_as else None
            report = build_period(store, args.period, rep_id)
            write = export_expenses if what == "expenses" else export_mileage
            rows = write(store, report, args.out, args.format)
            marked = []
            if args.mark_exported:
                for r in report.reports:
                    if r["state"] == "approved":
                        mark_exported(store, r["id"], actor, str(args.out))
                        marked.append(r["id"])
        except ExpenseError as exc:
            raise CliError(str(exc)) from exc
        finally:
            store.close()
        return {"what": what, "rows": rows, "out": args.out, "period": args.period,
                "totals_cents": report.expense_totals if what == "expenses" else report.mileage_totals,
                "marked_exported": marked}
    return run_it


# name -> (help, add its own arguments, run it returning a JSON-able summary). Expenses and mileage
# exports join by adding an entry here; --db, --out and --json are shared.
EXPORTS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], dict]]] = {
    "accounts": ("accounts as CSV or XLSX (spreadsheet formulas neutralised)", _add_accounts, _run_accounts),
    "expenses": ("a month's expenses as CSV, XLSX or PDF (the PDF with mileage and receipts)", _add_period,
                 _period_runner("expenses")),
    "mileage": ("a month's mileage log (IRS Pub 463 columns) as CSV, XLSX or PDF", _add_period,
                _period_runner("mileage")),
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export data to CSV, XLSX or PDF",
                       description="Export data to files for spreadsheets and other systems.")
    what = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    for name, (help_text, add_arguments, _) in EXPORTS.items():
        e = what.add_parser(name, help=help_text, description=f"Export {help_text}.")
        add_db_argument(e)
        e.add_argument("--out", metavar="FILE", required=True, help="the file to write (replaced when complete)")
        add_arguments(e)
        add_json_argument(e)
        e.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    summary = EXPORTS[args.what][2](args)
    noun = {"mileage": "trips"}.get(args.what, args.what)
    emit(args, f"Wrote {summary['rows']:,} {noun} to {args.out}", summary)
    return 0
