"""The main window: composes the sections, menus, status bar and task indicator; holds no feature logic."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMainWindow, QMessageBox, QProgressBar,
    QPushButton, QSplitter, QStackedWidget, QWidget,
)

import importlib

from core import accounts as accounts_service
from core.words import counted
from desktop.context import AppContext
from desktop.navigation import SECTIONS, SECTION_BY_KEY, module_exists, view_factory
from desktop.tasks import Task


FILE_ACTIONS = (
    ("&Import accounts…", "desktop.importer.wizard:open_import_wizard", "Ctrl+I"),
    ("&Geocode accounts…", "desktop.importer.geocode:start_geocode", "Ctrl+G"),
    ("&Export accounts…", "desktop.importer.export:export_accounts_dialog", "Ctrl+E"),
)


class TaskIndicator(QWidget):
    """Status-bar progress for the newest running task, with its Cancel button."""

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(160)
        self.bar.setTextVisible(False)
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(self._cancel)
        for w in (self.label, self.bar, self.cancel):
            layout.addWidget(w)
        self.current: Task | None = None
        ctx.tasks.started.connect(self._started)
        ctx.tasks.finished.connect(self._finished)
        self.hide()

    def _started(self, task: Task) -> None:
        self.current = task
        self.label.setText(task.title)
        self.bar.setRange(0, 0)
        task.with_progress(self._progress)
        self.show()

    def _progress(self, done: int, total: int, message: str) -> None:
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(done)
        if message and self.current is not None:
            self.label.setText(f"{self.current.title}: {message}")

    def _finished(self, task: Task) -> None:
        if self.ctx.tasks.active:
            self._started(self.ctx.tasks.active[-1])
        else:
            self.current = None
            self.hide()

    def _cancel(self) -> None:
        if self.current is not None:
            self.current.cancel()
            self.label.setText(f"{self.current.title}: cancelling…")


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setWindowTitle(f"FieldAtlas — {ctx.store.path.name}")
        self.resize(1360, 840)
        self.views: dict[str, QWidget] = {}

        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setMaximumWidth(200)
        self.nav.setStyleSheet("QListWidget { font-size: 14px; } QListWidget::item { padding: 8px 10px; }")
        self.stack = QStackedWidget()
        for section in SECTIONS:
            QListWidgetItem(section.title, self.nav).setData(Qt.ItemDataRole.UserRole, section.key)
            placeholder = QWidget()
            self.stack.addWidget(placeholder)
        self.nav.currentRowChanged.connect(self._show_row)
        self.splitter = QSplitter()
        self.splitter.addWidget(self.nav)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(1, 1)
        # The sidebar is as wide as its longest title ("Mileage & Expenses"), so no title is ever
        # cut off when a narrow window or a wide section squeezes it.
        nav_width = self.nav.sizeHintForColumn(0) + 2 * self.nav.frameWidth() + 8
        self.nav.setMinimumWidth(nav_width)
        self.nav.setMaximumWidth(max(200, nav_width))
        self.splitter.setCollapsible(0, False)
        self.splitter.setSizes([nav_width, 1180])
        self.setCentralWidget(self.splitter)

        self._build_menus()
        self.db_label = QLabel()
        self.counts_label = QLabel()
        self.statusBar().addWidget(self.db_label)
        self.statusBar().addWidget(self.counts_label)
        self.statusBar().addPermanentWidget(TaskIndicator(ctx))
        ctx.changed.connect(lambda _c: self._schedule_counts())
        ctx.navigate.connect(self.show_section)
        ctx.show_on_map.connect(lambda request: self.deliver("map", "show_on_map", request))
        ctx.plan_accounts.connect(lambda rep_id, ids: self.deliver("plan", "plan_accounts", rep_id, list(ids)))
        ctx.tasks.error.connect(self._task_failed)
        self._counts_timer = QTimer(self, singleShot=True, interval=200, timeout=self.refresh_counts)
        self.refresh_counts()
        self._restore_layout()
        if self.nav.currentRow() < 0:
            self.nav.setCurrentRow(0)

    # --- sections -----------------------------------------------------------------------
    def view(self, key: str) -> QWidget:
        """The section's view, created on first use."""
        if key not in self.views:
            index = [s.key for s in SECTIONS].index(key)
            widget = view_factory(SECTION_BY_KEY[key])(self.ctx)
            old = self.stack.widget(index)
            self.stack.insertWidget(index, widget)
            self.stack.removeWidget(old)
            old.deleteLater()
            self.views[key] = widget
        return self.views[key]

    def prepare_in_background(self, keys: tuple[str, ...] = ("map",), delay_ms: int = 800) -> None:
        """Create these sections' views soon after the window shows, while the user looks elsewhere.

        The Map starts QtWebEngine and builds and loads its page (on a worker and in Chromium's own
        process); done ahead, opening the Map later only shows a page that is already drawn.
        """
        def prepare() -> None:
            for key in keys:
                if key in SECTION_BY_KEY and key not in self.views:
                    self.view(key)

        # The window is the timer's context: a window closed (or a test torn down) within the delay
        # drops the call instead of reaching for deleted widgets.
        QTimer.singleShot(delay_ms, self, prepare)

    def _show_row(self, row: int) -> None:
        if row < 0:
            return
        key = SECTIONS[row].key
        self.view(key)
        self.stack.setCurrentIndex(row)

    def deliver(self, key: str, method: str, *args) -> None:
        """Hand a request from another view to a section, creating its view first if needed.

        Sections are built lazily, so requests addressed to one (ctx.show_on_map, ctx.plan_accounts)
        are routed here rather than subscribed to by the views, which may not exist yet.
        """
        view = self.view(key)
        self.show_section(key)
        getattr(view, method)(*args)

    def show_section(self, key: str) -> None:
        self.nav.setCurrentRow([s.key for s in SECTIONS].index(key))

    def current_section(self) -> str:
        return SECTIONS[max(0, self.nav.currentRow())].key

    # --- menus --------------------------------------------------------------------------
    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        # Feature actions live in their packages; one whose package has not landed is left out,
        # like a section (a greyed "not built" entry would be a promise).
        for title, target, shortcut in FILE_ACTIONS:
            module_name, func_name = target.split(":")
            if not module_exists(module_name):
                continue
            action = QAction(title, self)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(
                lambda _=False, m=module_name, f=func_name: getattr(importlib.import_module(m), f)(self.ctx, self))
            file_menu.addAction(action)
        file_menu.addSeparator()
        self.settings_action = QAction("&Settings…", self, shortcut=QKeySequence.StandardKey.Preferences,
                                       triggered=self.open_settings)
        self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        file_menu.addAction(QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit, triggered=self.close))

        edit_menu = bar.addMenu("&Edit")
        undo = self.ctx.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.ctx.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcuts([QKeySequence.StandardKey.Redo, QKeySequence("Ctrl+Shift+Z")])
        edit_menu.addAction(undo)
        edit_menu.addAction(redo)
        self.undo_action, self.redo_action = undo, redo

        view_menu = bar.addMenu("&View")
        for n, section in enumerate(SECTIONS, start=1):
            action = QAction(section.title.replace("&", "&&"), self, shortcut=QKeySequence(f"Ctrl+{n}"))
            action.triggered.connect(lambda _=False, key=section.key: self.show_section(key))
            view_menu.addAction(action)

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(QAction("&About FieldAtlas", self, triggered=self._about))

    def open_settings(self) -> None:
        from desktop.settings_dialog import SettingsDialog

        SettingsDialog(self.ctx, self).exec()

    def _about(self) -> None:
        QMessageBox.about(self, "About FieldAtlas",
                          "<b>FieldAtlas</b><br>Territories, routes, mileage and expenses for field sales teams."
                          f"<br><br>Database: {self.ctx.store.path}")

    # --- status -------------------------------------------------------------------------
    def _schedule_counts(self) -> None:
        self._counts_timer.start()

    def refresh_counts(self) -> None:
        counts = accounts_service.counts(self.ctx.store)
        self.db_label.setText(f"  {self.ctx.store.path}")
        self.db_label.setToolTip(str(self.ctx.store.path))
        text = " · ".join((counted(counts["accounts"], "account"), counted(counts["reps"], "person"),
                           counted(counts["territories"], "territory")))
        if counts["unlocated"]:
            text += f" · {counts['unlocated']:,} without a location"
        self.counts_label.setText(text)

    def _task_failed(self, title: str, exc: BaseException) -> None:
        self.statusBar().showMessage(f"{title} failed: {exc}", 10000)
        box = QMessageBox(QMessageBox.Icon.Warning, "FieldAtlas", f"{title} failed.", parent=self)
        box.setInformativeText(str(exc))
        box.setDetailedText(getattr(exc, "formatted_traceback", ""))
        box.open()

    # --- layout memory ------------------------------------------------------------------
    def _restore_layout(self) -> None:
        s = self.ctx.settings
        if s.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(s.window_geometry.encode()))
        if s.window_state:
            self.restoreState(QByteArray.fromBase64(s.window_state.encode()))
        section = s.extra.get("section") if isinstance(s.extra, dict) else None
        if section in SECTION_BY_KEY:
            self.show_section(section)

    def save_layout(self) -> None:
        for view in self.views.values():
            if hasattr(view, "save_layout"):
                view.save_layout()
        extra = dict(self.ctx.settings.extra)
        extra["section"] = self.current_section()
        self.ctx.update_settings(
            window_geometry=bytes(self.saveGeometry().toBase64()).decode(),
            window_state=bytes(self.saveState().toBase64()).decode(),
            extra=extra,
        )

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        for task in list(self.ctx.tasks.active):
            task.cancel()
        self._counts_timer.stop()
        self.save_layout()
        super().closeEvent(event)
