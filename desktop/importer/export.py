"""File → Export accounts: pick a CSV or XLSX file, write it in the background, say where it went."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from core.importing.export import export_accounts
from desktop.context import AppContext
from desktop.tasks import Task, open_worker_store

FILTERS = {"CSV (*.csv)": "csv", "Excel workbook (*.xlsx)": "xlsx"}


def export_accounts_dialog(ctx: AppContext, parent: QWidget | None = None, path: str | None = None,
                           *, quiet: bool = False) -> Task | None:
    """Ask for a file (unless `path` is given), export on a worker, and report the result."""
    fmt = None
    if path is None:
        start = str(Path.home() / "accounts.csv")
        path, chosen = QFileDialog.getSaveFileName(parent, "Export accounts", start, ";;".join(FILTERS))
        if not path:
            return None
        fmt = FILTERS.get(chosen)
        if fmt and Path(path).suffix.lower() != "." + fmt:
            path += "." + fmt
    fmt = fmt or (Path(path).suffix.lstrip(".").lower() or "csv")
    db_path = ctx.store.path

    def work(progress):
        store = open_worker_store(db_path)
        try:
            return export_accounts(store, path, fmt, progress=progress)
        finally:
            store.close()

    task = ctx.tasks.run("Exporting accounts", work)
    if not quiet:
        task.on_done(lambda rows: QMessageBox.information(parent, "Export accounts",
                                                          f"Wrote {rows:,} accounts to {path}."))
        task.on_error(lambda exc: QMessageBox.warning(parent, "Export accounts", f"Nothing was written: {exc}"))
    return task
