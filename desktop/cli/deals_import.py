"""`fieldatlas import deals FILE`: closed deals from a CRM export, the results revenue and new-account goals are measured on."""

from __future__ import annotations

import argparse

from core.goals.deals import DealImportProblem, import_deals
from core.importing.reading import FileProblem
from desktop.cli.common import CliError, add_db_argument, add_json_argument, emit, open_store


def register(what: argparse._SubParsersAction) -> None:
    d = what.add_parser("deals", help="import closed deals (won or lost) from a CSV or XLSX file",
                        description="Columns: deal id, deal name, account (name or CRM id), owner (rep name or "
                                    "email; default the account's owner), amount, close date, stage (won/lost), "
                                    "new account (yes/no). Good rows are imported; bad rows go to a rejects file.")
    d.add_argument("file", metavar="FILE")
    add_db_argument(d)
    d.add_argument("--rejects", metavar="OUT.csv", help="where rejected rows go (default: FILE-rejects.csv)")
    add_json_argument(d)
    d.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    store = open_store(args.db)
    try:
        result = import_deals(store, args.file, rejects_path=args.rejects)
    except (DealImportProblem, FileProblem) as exc:
        raise CliError(str(exc)) from exc
    finally:
        store.close()
    text = result.summary()
    if result.rejects:
        text += "\nFirst problems:\n" + "\n".join("  " + r.text() for r in result.rejects[:5])
    emit(args, text, result.as_dict())
    return 0
