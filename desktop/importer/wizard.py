"""The Import accounts wizard: choose a file, check the column mapping, see the problems, import in the background."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QHeaderView, QLabel,
    QLineEdit, QMessageBox, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
    QWizard, QWizardPage,
)

from core.importing import FileProblem, MappingProblem
from core.importing.importer import ImportResult, default_rejects_path, import_accounts
from core.importing.mapping import (
    FIELDS, SOURCE_TITLES, SOURCES, ColumnMapping, auto_mapping, check_mapping, saved_mappings, save_mapping,
)
from core.importing.reading import Table, open_table, read_preview
from core.progress import seconds_text
from desktop.background import BackgroundWork
from desktop.context import AppContext
from desktop.tasks import open_worker_store

NOT_IMPORTED = "— not imported —"
PREVIEW_ROWS = 50
FILE_FILTER = "CRM exports (*.csv *.txt *.xlsx *.xlsm);;CSV files (*.csv *.txt);;Excel workbooks (*.xlsx *.xlsm);;All files (*)"


def _read_file(path: str, sheet: str | None):
    """Worker: open the file, read its header and first rows (no database needed)."""
    table = open_table(path, sheet=sheet or None)
    sheets = _sheet_names(table.path) if table.kind == "xlsx" else []
    return table, read_preview(table, PREVIEW_ROWS), sheets


class FilePage(QWizardPage):
    """Step 1: which file (and which sheet of a workbook)."""

    def __init__(self, wizard: "ImportWizard") -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("Choose the file to import")
        self.setSubTitle("A CSV or Excel file exported from Salesforce, HubSpot, Pipedrive, Dynamics or any "
                         "spreadsheet with one account per row and a header row.")
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("Path to a .csv or .xlsx file")
        self.path_edit.editingFinished.connect(self._path_typed)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        self.sheet_combo = QComboBox()
        self.sheet_combo.setVisible(False)
        self.sheet_label = QLabel("Sheet:")
        self.sheet_label.setVisible(False)
        self.sheet_combo.activated.connect(lambda _=0: self.load(self.path_edit.text(), self.sheet_combo.currentText()))
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        sheet_row = QHBoxLayout()
        sheet_row.addWidget(self.sheet_label)
        sheet_row.addWidget(self.sheet_combo, 1)
        layout.addLayout(sheet_row)
        layout.addWidget(self.status)
        hint = QLabel("Nothing is changed until the last step. The whole file goes in as one step, so an "
                      "import never stops halfway.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: palette(mid);")
        layout.addStretch(1)
        layout.addWidget(hint)
        # The user may pick another file while one is read: only the latest is shown.
        self.reading = BackgroundWork(self, wizard.ctx.tasks, "Reading the file", status=self.status)

    @property
    def loading(self):
        """The file being read, None when idle."""
        return self.reading.task

    def _browse(self) -> None:
        start = str(Path(self.path_edit.text()).parent) if self.path_edit.text() else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Import accounts", start, FILE_FILTER)
        if path:
            self.path_edit.setText(path)
            self.load(path)

    def _path_typed(self) -> None:
        text = self.path_edit.text().strip()
        if text and (self.w.table is None or str(self.w.table.path) != text):
            self.load(text)

    def load(self, path: str, sheet: str | None = None) -> None:
        """Read the file's header and first rows on a worker."""
        self.path_edit.setText(path)
        self.w.table = None
        self.w.preview = []
        self.completeChanged.emit()
        self.reading.start(lambda progress: _read_file(path, sheet), self._loaded,
                           message=f"Reading {Path(path).name}…", error=_cannot_import,
                           failed=lambda exc: self.completeChanged.emit())

    def _loaded(self, result) -> None:
        table, preview, sheets = result
        self.w.table, self.w.preview = table, preview
        if table.kind == "xlsx":
            self.sheet_combo.blockSignals(True)
            self.sheet_combo.clear()
            self.sheet_combo.addItems(sheets)
            self.sheet_combo.setCurrentText(table.sheet)
            self.sheet_combo.blockSignals(False)
        self.sheet_combo.setVisible(table.kind == "xlsx")
        self.sheet_label.setVisible(table.kind == "xlsx")
        size = table.size_bytes / 1_048_576
        self.status.setText(f"<b>{table.path.name}</b> — {table.describe()}, {len(table.headers)} columns, "
                            f"{size:.1f} MB.<br>Columns: {', '.join(h for h in table.headers[:12] if h)}"
                            f"{'…' if len(table.headers) > 12 else ''}")
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802 (Qt's name)
        return self.w.table is not None


def _cannot_import(exc: BaseException) -> str:
    message = str(exc) if isinstance(exc, (FileProblem, MappingProblem, OSError)) else f"{type(exc).__name__}: {exc}"
    return f"<span style='color:#b00020'>Cannot import this file: {message}</span>"


def _sheet_names(path: Path) -> list[str]:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


class MappingPage(QWizardPage):
    """Step 2: the detected source and, field by field, the column that fills it."""

    def __init__(self, wizard: "ImportWizard") -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("Match the columns")
        self.setSubTitle("Each account field on the left takes its value from the file column on the right. "
                         "Change any that are wrong; fields set to “not imported” are left as they are.")
        self.detected = QLabel()
        self.source_combo = QComboBox()
        self.source_combo.activated.connect(self._source_chosen)
        top = QFormLayout()
        top.addRow("Looks like:", self.detected)
        top.addRow("Use the column names of:", self.source_combo)
        self.grid = QTableWidget(0, 3)
        self.grid.setHorizontalHeaderLabels(["Account field", "File column", "First row's value"])
        self.grid.verticalHeader().setVisible(False)
        self.grid.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.grid.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.grid.horizontalHeader().setStretchLastSection(True)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #b00020;")
        self.problem.setWordWrap(True)
        self.ignored = QLabel()
        self.ignored.setWordWrap(True)
        self.save_name = QLineEdit()
        self.save_name.setPlaceholderText("optional: a name to reuse this matching next time")
        save_row = QFormLayout()
        save_row.addRow("Save this matching as:", self.save_name)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.ignored)
        layout.addWidget(self.problem)
        layout.addLayout(save_row)
        self.combos: dict[str, QComboBox] = {}

    def initializePage(self) -> None:  # noqa: N802
        table = self.w.table
        mapping = auto_mapping(table.headers)
        self.saved = saved_mappings(self.w.ctx.store)
        self.detected.setText(f"<b>{SOURCE_TITLES.get(mapping.source, mapping.source)}</b>"
                              + ("" if mapping.source != "generic" else " (no CRM recognised; columns matched by name)"))
        self.source_combo.clear()
        for key in [*SOURCES, "generic"]:
            self.source_combo.addItem(SOURCE_TITLES.get(key, key), f"source:{key}")
        for name in self.saved:
            self.source_combo.addItem(f"Saved: {name}", f"saved:{name}")
        index = self.source_combo.findData(f"source:{mapping.source}")
        self.source_combo.setCurrentIndex(max(0, index))
        self._show(mapping)

    def _source_chosen(self, index: int) -> None:
        kind, key = self.source_combo.itemData(index).split(":", 1)
        mapping = self.saved[key] if kind == "saved" else auto_mapping(self.w.table.headers, key)
        if kind == "saved":
            mapping = ColumnMapping({f: h for f, h in mapping.columns.items() if h in self.w.table.headers},
                                    mapping.source, key)
        self._show(mapping)

    def _show(self, mapping: ColumnMapping) -> None:
        table = self.w.table
        first = self.w.preview[0][1] if self.w.preview else []
        self.source = mapping.source
        self.grid.setRowCount(len(FIELDS))
        self.combos = {}
        for row, fld in enumerate(FIELDS):
            title = QTableWidgetItem(fld.title + (" *" if fld.key == "name" else ""))
            title.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.grid.setItem(row, 0, title)
            combo = QComboBox()
            combo.addItem(NOT_IMPORTED, None)
            for h in table.headers:
                if h:
                    combo.addItem(h, h)
            current = mapping.columns.get(fld.key)
            combo.setCurrentIndex(max(0, combo.findData(current)) if current else 0)
            combo.currentIndexChanged.connect(lambda _=0, r=row, c=combo: self._changed(r, c))
            self.grid.setCellWidget(row, 1, combo)
            self.combos[fld.key] = combo
            self._set_sample(row, combo, first)
        self.grid.resizeColumnsToContents()
        self._validate()

    def _set_sample(self, row: int, combo: QComboBox, first: list) -> None:
        header = combo.currentData()
        value = ""
        if header is not None:
            i = self.w.table.headers.index(header)
            value = first[i] if i < len(first) and first[i] is not None else ""
        item = QTableWidgetItem(str(value)[:80])
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        self.grid.setItem(row, 2, item)

    def _changed(self, row: int, combo: QComboBox) -> None:
        self._set_sample(row, combo, self.w.preview[0][1] if self.w.preview else [])
        self._validate()

    def mapping(self) -> ColumnMapping:
        return ColumnMapping({k: c.currentData() for k, c in self.combos.items() if c.currentData()}, self.source)

    def _validate(self) -> None:
        mapping = self.mapping()
        try:
            check_mapping(mapping, self.w.table.headers)
            self.problem.setText("")
            self.error = None
        except MappingProblem as exc:
            self.problem.setText(str(exc))
            self.error = str(exc)
        ignored = mapping.unmapped_headers(self.w.table.headers)
        self.ignored.setText(("Columns not imported: " + ", ".join(ignored)) if ignored else "Every column is used.")
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802
        return bool(self.combos) and getattr(self, "error", None) is None

    def validatePage(self) -> bool:  # noqa: N802
        self.w.mapping = self.mapping()
        self.w.save_as = self.save_name.text().strip()
        return True


class CheckPage(QWizardPage):
    """Step 3: a dry run over the whole file (in the background): what would happen, and every problem."""

    def __init__(self, wizard: "ImportWizard") -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("Check the rows")
        self.setSubTitle("The whole file is checked without changing anything. Rows with problems are shown "
                         "with the column, the value and the reason.")
        self.summary = QLabel("Checking…")
        self.summary.setWordWrap(True)
        # Back then Next starts a new check while a cancelled one may still report: only the latest counts.
        self.checking = BackgroundWork(self, wizard.ctx.tasks, "Checking the file", progress=True,
                                       stop="Stop checking", status=self.summary, hide_stop=True)
        self.checking.ended.connect(self.completeChanged.emit)
        self.progress, self.stop = self.checking.progress, self.checking.stop
        bar = QHBoxLayout()
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.stop)
        self.rows = QTableWidget(0, 0)
        self.rows.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.rows.verticalHeader().setVisible(False)
        self.rows.verticalHeader().setDefaultSectionSize(22)
        self.skip = QCheckBox("Skip rows with problems (import the good rows; the bad ones go to a rejects file)")
        self.skip.toggled.connect(self._skip_toggled)
        self.rejects = QLineEdit()
        self.rejects_label = QLabel("Rejects file:")
        rejects_row = QHBoxLayout()
        rejects_row.addWidget(self.rejects_label)
        rejects_row.addWidget(self.rejects, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.summary)
        layout.addWidget(self.rows, 1)
        layout.addWidget(self.skip)
        layout.addLayout(rejects_row)
        self.result: ImportResult | None = None
        self.bad_rows = 0
        self.failed: str | None = None

    @property
    def task(self):
        """The check going on, None when idle."""
        return self.checking.task

    def initializePage(self) -> None:  # noqa: N802
        self.result, self.failed, self.bad_rows = None, None, 0
        self.skip.setChecked(False)
        self.rejects.setText(str(default_rejects_path(self.w.table.path)))
        self._skip_toggled(False)
        self._fill_preview([])
        path, table, mapping = self.w.ctx.store.path, self.w.table, self.w.mapping

        def check(progress):
            store = open_worker_store(path)
            try:
                return import_accounts(store, table, mapping, skip_bad_rows=True, rejects_path=None,
                                       dry_run=True, progress=progress)
            finally:
                store.close()

        self.checking.start(check, self._done, message="Checking every row…",
                            error="<span style='color:#b00020'>Cannot import this file: {error}</span>",
                            failed=self._error, cancelled=self._cancelled)
        self.completeChanged.emit()

    def cleanupPage(self) -> None:  # noqa: N802
        self.checking.cancel()

    def _done(self, result: ImportResult) -> None:
        self.result = result
        self.bad_rows = result.rejected
        text = (f"<b>{result.rows_read:,} rows</b>: {result.inserted:,} new accounts, {result.updated:,} to update, "
                f"{result.unchanged:,} already up to date")
        if result.duplicates:
            text += f", {result.duplicates:,} repeated rows (merged into one account each)"
        if result.rejected:
            text += (f".<br><span style='color:#b00020'><b>{result.rejected:,} rows have problems.</b></span> "
                     "Fix them in the file and start again, or skip them below.")
        else:
            text += ". No problems found."
        if result.owners_not_found:
            names = ", ".join(list(result.owners_not_found)[:4])
            text += f"<br>Owners with no matching rep (left unassigned): {names}"
        self.summary.setText(text)
        self._fill_preview(result.problems)
        self.completeChanged.emit()

    def _error(self, exc: BaseException) -> None:
        self.failed = str(exc)

    def _cancelled(self) -> None:
        self.failed = "checking was stopped"
        self.summary.setText("Checking was stopped. Go back and choose again, or press Back then Next to re-check.")

    def _fill_preview(self, problems) -> None:
        """The first rows as they will be stored, problem rows first and marked."""
        mapping = self.w.mapping
        if mapping is None:
            return
        fields = [f for f in FIELDS if f.key in mapping.columns]
        index = {h: i for i, h in enumerate(self.w.table.headers)}
        by_row: dict[int, list[str]] = {}
        for p in problems:
            if p.value is None or p.value == "":
                by_row.setdefault(p.row, []).append(f"{p.column}: {p.reason} (the cell is empty)")
                continue
            shown_value = p.value if not isinstance(p.value, str) or len(p.value) < 40 else p.value[:37] + "…"
            by_row.setdefault(p.row, []).append(f"{p.column}: {p.reason} (got {shown_value!r})")
        shown: list[tuple[int, dict[str, Any], str]] = []
        for number, cells in self.w.preview:
            shown.append((number, {f.key: (cells[index[mapping.columns[f.key]]]
                                           if index[mapping.columns[f.key]] < len(cells) else None)
                                   for f in fields}, "; ".join(by_row.pop(number, []))))
        # Problem rows beyond the preview still get a line each so none goes unseen.
        cells_of = self.w.check_page.result.problem_cells if self.w.check_page.result else {}
        extra = []
        for row, reasons in sorted(by_row.items()):
            cells = cells_of.get(row, [])
            extra.append((row, {f.key: (cells[index[mapping.columns[f.key]]]
                                        if index[mapping.columns[f.key]] < len(cells) else None) for f in fields},
                          "; ".join(reasons)))
        shown = extra + shown
        shown.sort(key=lambda item: (not item[2], item[0]))
        self.rows.clear()
        self.rows.setColumnCount(2 + len(fields))
        self.rows.setHorizontalHeaderLabels(["Row", "Problem", *[f.title for f in fields]])
        self.rows.setRowCount(len(shown))
        for r, (number, values, problem) in enumerate(shown):
            self.rows.setItem(r, 0, QTableWidgetItem(str(number)))
            item = QTableWidgetItem(problem or "OK")
            if problem:
                item.setForeground(QColor("#b00020"))
                item.setToolTip(problem)
            self.rows.setItem(r, 1, item)
            for c, f in enumerate(fields):
                v = values.get(f.key)
                self.rows.setItem(r, 2 + c, QTableWidgetItem("" if v is None else str(v)[:60]))
        self.rows.resizeColumnsToContents()
        self.rows.setColumnWidth(1, min(self.rows.columnWidth(1), 380))

    def _skip_toggled(self, on: bool) -> None:
        self.rejects.setEnabled(on)
        self.rejects_label.setEnabled(on)
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802
        if self.task is not None or self.result is None or self.failed:
            return False
        return self.bad_rows == 0 or self.skip.isChecked()

    def validatePage(self) -> bool:  # noqa: N802
        self.w.skip_bad_rows = self.skip.isChecked()
        self.w.rejects_path = self.rejects.text().strip() or None
        return True


class ImportPage(QWizardPage):
    """Step 4: the import itself, in the background, with progress and cancel, then the summary."""

    def __init__(self, wizard: "ImportWizard") -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("Import")
        self.setSubTitle("The accounts are written in one step: if you cancel, nothing is changed.")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Cancel rolls the whole import back (it is one transaction).
        self.importing = BackgroundWork(self, wizard.ctx.tasks, "Importing accounts", progress=True,
                                        stop="Cancel import", status=self.summary, stopping="Cancelling…",
                                        hide_stop=True)
        self.progress, self.cancel = self.importing.progress, self.importing.stop
        bar = QHBoxLayout()
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.cancel)
        self.geocode = QPushButton("Place them on the map (Geocode)…")
        self.geocode.hide()
        self.geocode.clicked.connect(self._geocode)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.summary)
        geocode_row = QHBoxLayout()
        geocode_row.addWidget(self.geocode)
        geocode_row.addStretch(1)
        layout.addLayout(geocode_row)
        layout.addStretch(1)
        self.result: ImportResult | None = None

    @property
    def task(self):
        """The import going on, None when idle."""
        return self.importing.task

    def _geocode(self) -> None:
        from desktop.importer.geocode import start_geocode

        start_geocode(self.w.ctx, self.w.parentWidget())
        self.w.accept()

    def initializePage(self) -> None:  # noqa: N802
        self.result = None
        path, table, mapping = self.w.ctx.store.path, self.w.table, self.w.mapping
        skip, rejects, save_as = self.w.skip_bad_rows, self.w.rejects_path, self.w.save_as

        def work(progress):
            store = open_worker_store(path)
            try:
                result = import_accounts(store, table, mapping, skip_bad_rows=skip, rejects_path=rejects,
                                         progress=progress)
                if save_as:
                    save_mapping(store, save_as, mapping)
                return result
            finally:
                store.close()

        self.importing.start(work, self._done, message="Importing…",
                             error="<span style='color:#b00020'>Nothing was imported: {error}</span>",
                             failed=lambda exc: self._back_again(), cancelled=self._cancelled)
        self.w.button(QWizard.WizardButton.BackButton).setEnabled(False)
        self.completeChanged.emit()

    def _done(self, result: ImportResult) -> None:
        self.completeChanged.emit()  # first: the wizard re-enables Back on it, which is disabled below
        self.result = result
        self.w.ctx.apply(result.changes)
        lines = [f"<b>{result.inserted:,} new accounts, {result.updated:,} updated</b>, "
                 f"{result.unchanged:,} already up to date ({result.rows_read:,} rows in {seconds_text(result.seconds)}).",
                 f"Read as {result.read_as}."]
        if result.duplicates:
            lines.append(f"{result.duplicates:,} repeated rows were merged into their account.")
        if result.rejected:
            lines.append(f"{result.rejected:,} rows with problems were skipped; they are in "
                         f"<a href='file://{result.rejects_path}'>{result.rejects_path}</a> with the reason for each.")
        if result.owners_not_found:
            lines.append("Owners with no matching rep (accounts left unassigned): "
                         + ", ".join(f"{n} ({c})" for n, c in list(result.owners_not_found.items())[:5]))
        if result.ignored_columns:
            lines.append("Columns not imported: " + ", ".join(result.ignored_columns))
        lines.append("Next: <b>File → Geocode accounts</b> places the new accounts on the map.")
        self.geocode.setVisible(bool(result.inserted or result.updated))
        self.summary.setText("<br><br>".join(lines))
        self.summary.setOpenExternalLinks(True)
        self.w.setButtonText(QWizard.WizardButton.FinishButton, "Close")
        # Done: going back would only invite importing the same file twice.
        self.w.button(QWizard.WizardButton.BackButton).setEnabled(False)
        self.w.button(QWizard.WizardButton.CancelButton).hide()

    def _back_again(self) -> None:
        self.completeChanged.emit()
        self.w.button(QWizard.WizardButton.BackButton).setEnabled(True)

    def _cancelled(self) -> None:
        self.summary.setText("Import cancelled. Nothing was changed.")
        self._back_again()

    def isComplete(self) -> bool:  # noqa: N802
        return self.task is None


class ImportWizard(QWizard):
    """File → columns → check → import; each step that reads the file or database runs on a worker."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.table: Table | None = None
        self.preview: list = []
        self.mapping: ColumnMapping | None = None
        self.save_as = ""
        self.skip_bad_rows = False
        self.rejects_path: str | None = None
        self.setWindowTitle("Import accounts")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, False)
        self.file_page = FilePage(self)
        self.mapping_page = MappingPage(self)
        self.check_page = CheckPage(self)
        self.import_page = ImportPage(self)
        for page in (self.file_page, self.mapping_page, self.check_page, self.import_page):
            self.addPage(page)
        self.resize(900, 640)

    def reject(self) -> None:
        """Closing mid-import asks first: the import is cancelled (and rolled back) rather than abandoned."""
        running = self.import_page.task or self.check_page.task
        if self.import_page.task is not None:
            answer = QMessageBox.question(self, "Cancel import?", "Stop the import? Nothing will be changed.")
            if answer != QMessageBox.StandardButton.Yes:
                return
        if running is not None:
            running.cancel()
        super().reject()


def open_import_wizard(ctx: AppContext, parent: QWidget | None = None, path: str | None = None) -> ImportWizard:
    """File → Import accounts…: show the wizard (non-modal); with `path`, start on that file."""
    wizard = ImportWizard(ctx, parent)
    wizard.finished.connect(lambda _=0: _dispose_when_idle(wizard))
    if path:
        wizard.file_page.load(path)
    wizard.show()
    return wizard


def _dispose_when_idle(wizard: ImportWizard) -> None:
    # A cancelled task still reports back to its page: keep the wizard alive until it has.
    running = [t for t in (wizard.file_page.loading, wizard.check_page.task, wizard.import_page.task) if t]
    if running:
        running[0].ended.connect(lambda: _dispose_when_idle(wizard))
    else:
        wizard.deleteLater()
