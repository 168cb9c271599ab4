"""`fieldatlas export WHAT`: write data out as CSV or XLSX; each kind of export is one entry in EXPORTS."""

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


# name -> (help, add its own arguments, run it returning a JSON-able summary). Expenses and mileage
# exports join by adding an entry here; --db, --out and --json are shared.
EXPORTS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], dict]]] = {
    "accounts": ("accounts as CSV or XLSX (spreadsheet formulas neutralised)", _add_accounts, _run_accounts),
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export data to CSV or XLSX",
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
    emit(args, f"Wrote {summary['rows']:,} {args.what} to {args.out}", summary)
    return 0
