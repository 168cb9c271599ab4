"""Sync: sign in and out, online or offline, pending changes, last sync, Sync now, background sync, and Conflicts with Restore."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QAbstractItemView, QFormLayout, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from core.sync import conflicts, engine
from desktop.background import BackgroundWork
from desktop.context import AppContext
from desktop.sync.sign_in import SignInDialog
from desktop.tasks import open_worker_store

BACKGROUND_SYNC_MS = 5 * 60 * 1000   # sync every five minutes while the server can be reached
HEALTH_CHECK_MS = 60 * 1000          # and look whether it can be every minute
CONFLICT_COLUMNS = ("When", "What", "Row", "Field", "Kept", "Lost", "Why")


def create_view(ctx: AppContext) -> QWidget:
    return SyncView(ctx)


def _shown(value: Any) -> str:
    if value is None:
        return "(empty)"
    return str(value)


class SyncView(QWidget):
    """The Sync section; sync itself runs on a worker with its own connection."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.online: bool | None = None
        self.probing = BackgroundWork(self, ctx.tasks, "Checking the sync server")
        self.syncing = BackgroundWork(self, ctx.tasks, "Syncing with the team server")
        self.conflict_ids: list[int] = []

        title = QLabel("<h2>Sync</h2>")
        self.server_label = QLabel()
        self.server_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.state_label = QLabel()
        self.pending_label = QLabel()
        self.last_label = QLabel()
        self.result_label = QLabel()  # what the last sync did, e.g. accounts that moved to another rep
        self.result_label.setWordWrap(True)
        self.result_label.setObjectName("sync_result")
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setObjectName("sync_error")
        form = QFormLayout()
        form.addRow("Server:", self.server_label)
        form.addRow("Status:", self.state_label)
        form.addRow("Pending changes:", self.pending_label)
        form.addRow("Last sync:", self.last_label)
        form.addRow("Result:", self.result_label)
        form.addRow("", self.error_label)

        self.sync_button = QPushButton("Sync now")
        self.sync_button.setObjectName("sync_now")
        self.sync_button.clicked.connect(self.sync_now)
        self.restore_button = QPushButton("Restore")
        self.restore_button.setObjectName("restore_conflict")
        self.restore_button.setToolTip("Put the lost value back as a new edit; it is sent at the next sync")
        self.restore_button.clicked.connect(self.restore_selected)
        self.sign_in_button = QPushButton("Sign in…")
        self.sign_in_button.setObjectName("sign_in")
        self.sign_in_button.setToolTip("Sign in to your team's sync server")
        self.sign_in_button.clicked.connect(self.open_sign_in)
        self.sign_out_button = QPushButton("Sign out")
        self.sign_out_button.setObjectName("sign_out")
        self.sign_out_button.setToolTip("Stop syncing as this user; edits not sent yet stay here")
        self.sign_out_button.clicked.connect(self.sign_out)
        self.sign_in_dialog: SignInDialog | None = None
        self.signing_out = False
        buttons = QHBoxLayout()
        buttons.addWidget(self.sync_button)
        buttons.addWidget(self.sign_in_button)
        buttons.addWidget(self.sign_out_button)
        buttons.addStretch(1)

        self.conflicts_title = QLabel()
        self.table = QTableWidget(0, len(CONFLICT_COLUMNS))
        self.table.setObjectName("conflicts")
        self.table.setHorizontalHeaderLabels(CONFLICT_COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        conflict_bar = QHBoxLayout()
        conflict_bar.addWidget(self.conflicts_title)
        conflict_bar.addStretch(1)
        conflict_bar.addWidget(self.restore_button)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addSpacing(12)
        layout.addLayout(conflict_bar)
        layout.addWidget(self.table, 1)

        self.sync_timer = QTimer(self)
        self.sync_timer.setInterval(BACKGROUND_SYNC_MS)
        self.sync_timer.timeout.connect(self._background_sync)
        self.health_timer = QTimer(self)
        self.health_timer.setInterval(HEALTH_CHECK_MS)
        self.health_timer.timeout.connect(self.check_online)
        ctx.changed.connect(self._on_changed)
        self.refresh()
        if engine.status(ctx.store).configured:
            self._start_timers()

    def _start_timers(self) -> None:
        self.sync_timer.start()
        self.health_timer.start()
        QTimer.singleShot(0, self.check_online)

    # -- showing ---------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """A sync is under way."""
        return self.syncing.running

    def refresh(self) -> None:
        st = engine.status(self.ctx.store)
        if st.configured:
            self.server_label.setText(f"{st.server} as {st.email} ({st.role})")
        else:
            self.server_label.setText("Not signed in. Sign in to send your edits and get your team's.")
        if self.running:
            state = "Syncing…"
        elif self.signing_out:
            state = "Signing out…"
        elif not st.configured:
            state = "Not syncing (not signed in)"
        elif self.online is None:
            state = "Checking…"
        else:
            state = "Online" if self.online else "Offline; edits wait here and are sent when the server is back"
        self.state_label.setText(state)
        self.pending_label.setText(f"{st.pending:,}" + (f"  ({st.parked} received rows wait for related rows)"
                                                        if st.parked else ""))
        self.last_label.setText(st.last_sync_at.replace("T", " ").replace("Z", " UTC") if st.last_sync_at else "never")
        self.result_label.setText(st.last_result or "")
        self.error_label.setText(f"Last sync failed: {st.last_error}" if st.last_error else "")
        self.error_label.setVisible(bool(st.last_error))
        self.sync_button.setEnabled(st.configured and not self.running)
        self.sign_in_button.setVisible(not st.configured)
        self.sign_out_button.setVisible(st.configured)
        self.sign_out_button.setEnabled(not self.running and not self.signing_out)
        self._fill_conflicts()

    def _fill_conflicts(self) -> None:
        found = conflicts.list_conflicts(self.ctx.store)
        self.conflicts_title.setText(f"<b>Conflicts</b> ({len(found)} open): values that lost a merge or "
                                     "were refused by the server")
        self.conflict_ids = [c.id for c in found]
        self.table.setRowCount(len(found))
        for r, c in enumerate(found):
            cells = (c.created_at.replace("T", " ").replace("Z", ""), c.table.replace("_", " "), c.row_label,
                     c.column.replace("_", " "), _shown(c.kept_value), _shown(c.lost_value), c.reason)
            for col, text in enumerate(cells):
                self.table.setItem(r, col, QTableWidgetItem(text))
        if found and not self.table.selectedItems():
            self.table.selectRow(0)
        self._selection_changed()

    def _selection_changed(self) -> None:
        self.restore_button.setEnabled(self._selected() is not None)

    def _selected(self) -> int | None:
        rows = {i.row() for i in self.table.selectedItems()}
        return self.conflict_ids[min(rows)] if rows and min(rows) < len(self.conflict_ids) else None

    def _on_changed(self, changes) -> None:
        self.refresh()

    # -- acting ------------------------------------------------------------------------------------
    def open_sign_in(self) -> None:
        """Show the Sign in dialog (not blocking the window); signing in runs on a worker."""
        if self.sign_in_dialog is None:
            self.sign_in_dialog = SignInDialog(self.ctx, self)
            self.sign_in_dialog.signed_in.connect(self._signed_in)
        self.sign_in_dialog.open()

    def _signed_in(self, answer: dict) -> None:
        self.online = True
        self.error_label.setText("")
        self.refresh()
        self._start_timers()
        self.sync_now()  # bring the user's rows at once

    def sign_out(self) -> None:
        if self.running or self.signing_out or not engine.status(self.ctx.store).configured:
            return
        self.signing_out = True
        self.sync_timer.stop()
        self.health_timer.stop()
        self.refresh()
        path = self.ctx.store.path

        def work(progress) -> bool:
            with open_worker_store(path) as store:  # the server is told on the worker, never the GUI thread
                return engine.logout(store)

        task = self.ctx.tasks.run("Signing out of the team server", work)
        task.on_done(self._signed_out).on_error(self._sign_out_failed)

    def _signed_out(self, ended_on_server: bool) -> None:
        self.signing_out = False
        self.online = None
        self.refresh()
        pending = engine.status(self.ctx.store).pending
        note = "" if ended_on_server else " The server could not be reached; the login was forgotten here."
        self.error_label.setText(f"Signed out.{note} {pending:,} changes wait here until you sign in again.")
        self.error_label.setVisible(True)

    def _sign_out_failed(self, exc: BaseException) -> None:
        self.signing_out = False
        self.refresh()
        self.error_label.setText(f"Sign out failed: {exc}")
        self.error_label.setVisible(True)

    def restore_selected(self) -> None:
        conflict_id = self._selected()
        if conflict_id is None:
            return
        try:
            changes = conflicts.restore(self.ctx.store, conflict_id)
        except (KeyError, ValueError) as exc:
            self.error_label.setText(f"Cannot restore: {exc.args[0]}")
            self.error_label.setVisible(True)
            return
        self.ctx.apply(changes)
        self.refresh()

    def check_online(self) -> None:
        """Ask the server for /health on a worker; the label follows."""
        st = engine.status(self.ctx.store)
        if not st.configured:
            return
        from core.sync.transport import Server

        def probe(progress) -> bool:
            with Server(st.server) as server:
                return server.health()

        self.probing.start(probe, self._online_is, failed=lambda exc: self._online_is(False))

    def _online_is(self, online: bool) -> None:
        was = self.online
        self.online = bool(online)
        self.refresh()
        if online and was is False:
            self._background_sync()  # back online: send what waited

    def _background_sync(self) -> None:
        if self.online is not False:
            self.sync_now(background=True)

    def sync_now(self, checked: bool = False, background: bool = False) -> None:
        if self.running or not engine.status(self.ctx.store).configured:
            return
        path = self.ctx.store.path

        def work(progress) -> Any:
            with open_worker_store(path) as store:  # the worker's own connection
                return engine.sync(store, progress=lambda message: progress.update(0, 0, message))

        self.syncing.start(work, self._synced, failed=self._sync_failed)
        self.refresh()

    def _synced(self, report) -> None:
        self.online = True
        self.ctx.apply(report.changes())
        self.refresh()

    def _sync_failed(self, exc: BaseException) -> None:
        from core.sync.transport import Offline

        if isinstance(exc, Offline):
            self.online = False
        self.refresh()
        if not self.ctx.store.scalar("SELECT value FROM sync_state WHERE key = 'last_error'"):
            self.error_label.setText(f"Last sync failed: {exc}")
            self.error_label.setVisible(True)
