"""`fieldatlas import accounts FILE`: bring a CRM export (CSV or XLSX) into the accounts, all or nothing."""

from __future__ import annotations

import argparse
import glob
import os
import re
import sys
import tempfile
from pathlib import Path

from core.importing import FileProblem, ImportAborted, MappingProblem, import_accounts
from core.importing.importer import problems_text
from core.importing.mapping import SOURCES, resolve_mapping, save_mapping
from core.importing.reading import open_table
from core.storage.database import Store, remove_database_files
from desktop.cli.common import BarProgress, CliError, add_db_argument, add_json_argument, emit, open_store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import accounts from a CRM export (CSV or XLSX)",
                       description="Import data from files exported by a CRM.")
    what = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    a = what.add_parser(
        "accounts", help="import accounts from a Salesforce, HubSpot, Pipedrive, Dynamics or other CSV/XLSX file",
        description="Import accounts from a CSV or XLSX export. Columns are matched to account fields "
                    "automatically for Salesforce, HubSpot, Pipedrive and Dynamics exports. The whole file is "
                    "imported in one transaction: one bad row stops it unless --skip-bad-rows is given. "
                    "Re-importing updates accounts in place (matched on the CRM record id, else on name + ZIP).")
    a.add_argument("file", metavar="FILE", help="the CSV or XLSX file")
    add_db_argument(a)
    a.add_argument("--mapping", default="auto", metavar="auto|" + "|".join(s for s in SOURCES if s != "fieldatlas")
                   + "|NAME|MAPPING.json",
                   help="how columns map to account fields: auto (default, detects the CRM), a CRM name, "
                        "a mapping saved with --save-mapping, or a JSON file {\"columns\": {field: header}}")
    a.add_argument("--sheet", metavar="NAME", help="the sheet to read in an XLSX workbook (default: the first)")
    a.add_argument("--skip-bad-rows", action="store_true",
                   help="import the good rows and write the bad ones, with the reason, to the rejects file")
    a.add_argument("--rejects", metavar="OUT.csv",
                   help="where bad rows go with --skip-bad-rows (default: FILE-rejects.csv beside the file)")
    a.add_argument("--dry-run", action="store_true", help="check the file and report what would happen; write nothing")
    a.add_argument("--save-mapping", metavar="NAME", help="save the mapping used under this name for next time")
    a.add_argument("--show-mapping", action="store_true", help="print the column mapping and stop")
    add_json_argument(a)
    a.set_defaults(func=run)
    from desktop.cli import deals_import  # `import deals` (issue #12) lives beside its feature

    deals_import.register(what)


def run(args: argparse.Namespace) -> int:
    if args.rejects and not args.skip_bad_rows:
        raise CliError("--rejects needs --skip-bad-rows (without it one bad row stops the whole import)")
    db = Path(args.db)
    if db.exists():
        store = open_store(db)
        try:
            return _run(args, store)
        finally:
            store.close()
    # Importing a CRM export is how a database usually starts: a new path makes a new database.
    # A check (--dry-run, --show-mapping) runs on a throwaway one, and a failed import leaves no file.
    if args.dry_run or args.show_mapping:
        with tempfile.TemporaryDirectory(prefix="fieldatlas-check-") as folder:
            store = open_store(Path(folder) / "check.sqlite", create=True)
            try:
                return _run(args, store)
            finally:
                store.close()
    # The new database is built under a temporary name in the same folder and renamed into place
    # only when the import succeeded, so even a killed import (kill -9, power cut) leaves nothing at
    # the path the user named; the next import there removes what a killed one left.
    remove_abandoned_partials(db)
    partial = db.with_name(f".{db.name}.importing-{os.getpid()}")
    remove_database_files(partial)
    store = open_store(partial, create=True)
    try:
        return _run(args, store, created=db, publish=lambda: _publish(store, partial, db))
    finally:
        store.close()
        remove_database_files(partial)


PARTIAL_NAME = re.compile(r"^\.(?P<name>.+)\.importing-(?P<pid>\d+)$")


def remove_abandoned_partials(db: Path) -> list[Path]:
    """Remove the half-built databases that killed imports into `db` left behind (their process is gone)."""
    import psutil

    folder = db.parent if str(db.parent) else Path(".")
    removed = []
    for leftover in folder.glob(f".{glob.escape(db.name)}.importing-*"):
        found = PARTIAL_NAME.match(leftover.name)
        if found and found["name"] == db.name and not psutil.pid_exists(int(found["pid"])):
            remove_database_files(leftover)
            removed.append(leftover)
    return removed


def _publish(store: Store, partial: Path, db: Path) -> None:
    """Move the finished database to its real name: WAL folded in, never over a file made meanwhile."""
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()  # the last connection: SQLite removes the (now empty) -wal and -shm files
    for companion in ("-wal", "-shm"):
        side = partial.with_name(partial.name + companion)
        if side.exists() and side.stat().st_size and companion == "-wal":
            raise CliError(f"could not finish writing {db} (its journal is still in use); nothing was created")
    try:
        os.link(partial, db)  # atomic, and fails instead of replacing a database someone made meanwhile
    except FileExistsError:
        raise CliError(f"{db}: a file appeared at this path during the import; it was left alone and "
                       "nothing was imported (import again into it, or choose another path)") from None
    except OSError:
        # File systems without hard links (FAT, some network shares): a rename, checked just before.
        if db.exists():
            raise CliError(f"{db}: a file appeared at this path during the import; nothing was imported") from None
        os.replace(partial, db)


def _run(args: argparse.Namespace, store: Store, created: Path | None = None, publish=None) -> int:
    try:
        table = open_table(args.file, sheet=args.sheet)
        mapping = resolve_mapping(store, table.headers, args.mapping)
    except (FileProblem, MappingProblem) as exc:
        raise CliError(str(exc)) from exc
    if args.show_mapping:
        lines = [f"{table.describe()}; detected source: {mapping.source}"]
        lines += [f"  {field:22} <- {header}" for field, header in mapping.columns.items()]
        ignored = mapping.unmapped_headers(table.headers)
        if ignored:
            lines.append("  not imported: " + ", ".join(ignored))
        emit(args, "\n".join(lines), {"source": mapping.source, "columns": mapping.columns,
                                      "ignored_columns": ignored, "file": table.describe()})
        return 0
    try:
        with BarProgress(f"Importing {table.path.name}") as bar:
            result = import_accounts(store, table, mapping, skip_bad_rows=args.skip_bad_rows,
                                     rejects_path=args.rejects, dry_run=args.dry_run, progress=bar)
    except ImportAborted as exc:
        if args.json:
            emit(args, "", {"error": str(exc), "bad_rows": exc.bad_rows, "rows_read": exc.rows_read,
                            "problems": [p.as_dict() for p in exc.problems]})
            return 1
        if len(exc.problems) > 1:
            print(problems_text(exc.problems), file=sys.stderr)
        raise CliError(str(exc)) from exc
    except (FileProblem, MappingProblem) as exc:
        raise CliError(str(exc)) from exc
    if args.save_mapping and not args.dry_run:
        save_mapping(store, args.save_mapping, mapping)
    if publish is not None:
        publish()
    text = result.summary()
    if created is not None:
        text = f"Created a new database at {created}.\n" + text
    if result.ignored_columns:
        text += "\nColumns not imported: " + ", ".join(result.ignored_columns)
    if result.owners_not_found:
        names = ", ".join(f"{n} ({c})" for n, c in list(result.owners_not_found.items())[:5])
        text += f"\nOwners with no matching rep (accounts left unassigned): {names}"
    if result.problems and args.skip_bad_rows:
        text += "\nFirst problems:\n" + problems_text(result.problems, 5)
    data = result.as_dict()
    data["saved_mapping"] = args.save_mapping if args.save_mapping and not args.dry_run else None
    data["created_database"] = str(created) if created is not None else None
    emit(args, text, data)
    return 0
