"""The Accounts section: filter bar, the lazily-loaded table, and the edit panel."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QItemSelectionModel, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMessageBox, QPushButton,
    QSplitter, QTableView, QVBoxLayout, QWidget,
)

from core import accounts as svc
from core.reps import list_reps
from desktop.accounts.actions import CreateAccountCommand, DeleteAccountsCommand
from desktop.accounts.detail import AccountDetail
from desktop.accounts.model import AccountsTableModel
from desktop.context import AppContext

DEFAULT_WIDTHS = {"name": 260, "city": 130, "state": 50, "postal_code": 60, "tier": 40, "industry": 150,
                  "owner": 140, "employees": 85, "annual_revenue_cents": 110, "potential_cents": 95,
                  "visit_frequency": 110, "last_visit_at": 105, "geocode_precision": 85, "external_id": 150}


def create_view(ctx: AppContext) -> "AccountsView":
    return AccountsView(ctx)


class AccountsView(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setObjectName("accounts-view")
        self.model = AccountsTableModel(ctx.store, ctx.settings.currency, self)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search accounts  (Ctrl+F)")
        self.search.setToolTip("Finds accounts by name, city, ZIP, industry or CRM id (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(150)
        self.owner_filter = QComboBox()
        self.tier_filter = QComboBox()
        self.state_filter = QComboBox()
        self.status_filter = QComboBox()
        self.territory_filter = QComboBox()
        # Owner and territory names can be long; the list opens wide enough, the closed box stays
        # compact, so the bar fits a 1200 px window beside the sidebar.
        for combo, letters in ((self.owner_filter, 9), (self.territory_filter, 10)):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(letters)
        self.territory_filter.setToolTip("Only the accounts of one territory")
        self._fill_filters()
        self.count_label = QLabel()
        self.count_label.setStyleSheet("color: #555;")
        self.new_button = QPushButton("New account")
        self.new_button.setToolTip("Add an account (Ctrl+N)")
        self.visits_button = QPushButton("Set visits…")
        self.visits_button.setToolTip("Set visit frequency, minutes, weekdays or hours on the selected accounts")
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Delete the selected accounts (Del); undo brings them back")

        bar = QHBoxLayout()
        bar.addWidget(self.search, 3)
        bar.addWidget(QLabel("Owner"))
        # The other boxes say what they filter ("Any territory", "Any tier"): the bar has no room for labels.
        for combo in (self.owner_filter, self.territory_filter, self.tier_filter, self.state_filter,
                      self.status_filter):
            bar.addWidget(combo)
        bar.addStretch(1)
        bar.addWidget(self.count_label)

        self.table = QTableView()
        self.table.setObjectName("accounts-table")
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.verticalHeader().setDefaultSectionSize(24)
        # Fixed row heights: the view never asks every row for its size, which keeps 100k rows smooth.
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionsMovable(True)
        header.setHighlightSections(False)
        for n, column in enumerate(svc.COLUMNS):
            self.table.setColumnWidth(n, DEFAULT_WIDTHS.get(column.key, 100))
        header.setSortIndicator(0, Qt.SortOrder.AscendingOrder)

        # Actions on the selection (and New) sit under the table: the filter bar is full at 1200 px.
        self.selection_label = QLabel()
        self.selection_label.setStyleSheet("color: #555;")
        under = QHBoxLayout()
        under.setContentsMargins(0, 2, 0, 2)
        under.addWidget(self.selection_label)
        under.addWidget(self.visits_button)
        under.addWidget(self.delete_button)
        under.addStretch(1)
        under.addWidget(self.new_button)
        table_box = QWidget()
        table_column = QVBoxLayout(table_box)
        table_column.setContentsMargins(0, 0, 0, 0)
        table_column.setSpacing(0)
        table_column.addWidget(self.table)
        table_column.addLayout(under)

        self.detail = AccountDetail(ctx)
        self.splitter = QSplitter()
        self.splitter.addWidget(table_box)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([900, 360])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 0)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)  # the table takes the height, the filter bar stays one line

        self._search_timer = QTimer(self, singleShot=True, interval=250, timeout=self.apply_filters)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        for combo in (self.owner_filter, self.tier_filter, self.state_filter, self.status_filter,
                      self.territory_filter):
            combo.currentIndexChanged.connect(lambda _i: self.apply_filters())
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.new_button.clicked.connect(self.new_account)
        self.delete_button.clicked.connect(self.delete_selected)
        self.visits_button.clicked.connect(self.set_visits)
        QShortcut(QKeySequence.StandardKey.Find, self, activated=self._focus_search)
        QShortcut(QKeySequence("Ctrl+N"), self, activated=self.new_account)
        QShortcut(QKeySequence(Qt.Key.Key_Delete), self.table, activated=self.delete_selected)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self.detail, activated=self.detail.revert)
        ctx.changed.connect(self._on_changes)
        ctx.select_accounts.connect(self.select_ids)
        ctx.settings_changed.connect(self._on_settings)
        self._restore_layout()
        self._update_count()
        self._update_buttons()
        if self.model.ids:
            # Open on the first account so the panel shows what can be edited.
            self.select_ids([self.model.ids[0]], scroll=False)

    # --- filters ------------------------------------------------------------------------
    def _fill_filters(self) -> None:
        self.owner_filter.blockSignals(True)
        current = self.owner_filter.currentData()
        self.owner_filter.clear()
        self.owner_filter.addItem("Anyone", None)
        self.owner_filter.addItem("Nobody", "none")
        for rep in list_reps(self.ctx.store):
            self.owner_filter.addItem(rep["name"], rep["id"])
        index = self.owner_filter.findData(current)
        self.owner_filter.setCurrentIndex(max(0, index))
        self.owner_filter.blockSignals(False)
        if self.tier_filter.count() == 0:
            self.tier_filter.addItem("Any tier", None)
            for tier in svc.TIERS:
                self.tier_filter.addItem(tier, tier)
            self.status_filter.addItem("Any status", None)
            for status in svc.STATUSES:
                self.status_filter.addItem(status.title(), status)
        self.state_filter.blockSignals(True)
        current_state = self.state_filter.currentData()
        self.state_filter.clear()
        self.state_filter.addItem("Any state", None)
        for state in svc.distinct_values(self.ctx.store, "state"):
            self.state_filter.addItem(state, state)
        self.state_filter.setCurrentIndex(max(0, self.state_filter.findData(current_state)))
        self.state_filter.blockSignals(False)
        self.territory_filter.blockSignals(True)
        current_territory = self.territory_filter.currentData()
        self.territory_filter.clear()
        self.territory_filter.addItem("Any territory", None)
        for territory_id, name in svc.territory_choices(self.ctx.store):
            self.territory_filter.addItem(name, territory_id)
        self.territory_filter.setCurrentIndex(max(0, self.territory_filter.findData(current_territory)))
        self.territory_filter.blockSignals(False)

    def current_query(self) -> svc.AccountQuery:
        owner = self.owner_filter.currentData()
        return svc.AccountQuery(
            search=self.search.text(),
            owner_id=owner if isinstance(owner, int) else None,
            unowned=owner == "none",
            tier=self.tier_filter.currentData(),
            state=self.state_filter.currentData(),
            status=self.status_filter.currentData(),
            territory_id=self.territory_filter.currentData(),
            sort_key=self.model.query.sort_key,
            descending=self.model.query.descending,
        )

    def apply_filters(self) -> None:
        selected = self.selected_ids()
        self.model.set_query(self.current_query())
        self._update_count()
        visible = [aid for aid in selected if self.model.row_of(aid) is not None]
        if visible:
            self.select_ids(visible, scroll=True, reveal=False)
        elif self.model.ids:
            self.select_ids([self.model.ids[0]], scroll=True, reveal=False)
        else:
            self.detail.show_account(None)

    def _update_count(self) -> None:
        self.count_label.setText(f"{len(self.model.ids):,} accounts")

    # --- selection ----------------------------------------------------------------------
    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [aid for aid in (self.model.account_id(r) for r in rows) if aid is not None]

    def select_ids(self, ids: list[int], scroll: bool = True, reveal: bool = True) -> None:
        """Select these accounts (e.g. clicked on the map); with reveal, clears filters that hide them."""
        rows = [self.model.row_of(aid) for aid in ids]
        if reveal and ids and any(r is None for r in rows) and self.current_query() != svc.AccountQuery(
                sort_key=self.model.query.sort_key, descending=self.model.query.descending):
            for w in (self.owner_filter, self.tier_filter, self.state_filter, self.status_filter,
                      self.territory_filter):
                w.blockSignals(True)
                w.setCurrentIndex(0)
                w.blockSignals(False)
            self.search.blockSignals(True)
            self.search.clear()
            self.search.blockSignals(False)
            self.model.set_query(self.current_query())
            self._update_count()
            rows = [self.model.row_of(aid) for aid in ids]
        selection = self.table.selectionModel()
        selection.clearSelection()
        found = [r for r in rows if r is not None]
        for r in found:
            selection.select(self.model.index(r, 0),
                             QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
        if found:
            selection.setCurrentIndex(self.model.index(found[0], 0), QItemSelectionModel.SelectionFlag.NoUpdate)
            if scroll:
                self.table.scrollTo(self.model.index(found[0], 0), QAbstractItemView.ScrollHint.PositionAtCenter)
            self.detail.show_account(self.model.account_id(found[0]))

    def _current_changed(self, current, _previous) -> None:
        if self.detail.is_dirty() and self.detail.account_id is not None:
            # Leaving an account with unsaved edits saves them when valid, the way a spreadsheet does.
            if not self.detail.save():
                return
        self.detail.show_account(self.model.account_id(current.row()) if current.isValid() else None)

    def _update_buttons(self) -> None:
        count = len(self.table.selectionModel().selectedRows())
        self.delete_button.setEnabled(bool(count))
        self.visits_button.setEnabled(bool(count))
        self.selection_label.setText(f"{count:,} selected" if count else "Select accounts to edit them together")

    def _focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    # --- actions ------------------------------------------------------------------------
    def new_account(self) -> None:
        command = CreateAccountCommand(self.ctx, {"name": "New account", "status": "prospect",
                                                  "country": "US"})
        self.ctx.undo_stack.push(command)
        if command.account_id is not None:
            self.select_ids([command.account_id])
            name = self.detail.fields["name"]
            name.setFocus()
            name.selectAll()

    def delete_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        if len(ids) > 1:
            answer = QMessageBox.question(self, "Delete accounts",
                                          f"Delete {len(ids):,} accounts? Undo (Ctrl+Z) brings them back.")
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.ctx.undo_stack.push(DeleteAccountsCommand(self.ctx, ids))

    def set_visits(self) -> None:
        """Bulk edit: e.g. filter Tier A, select all (Ctrl+A), set weekly and 45 minutes; one undo step."""
        from desktop.accounts.bulk import BulkVisitDialog

        ids = self.selected_ids()
        if ids:
            if self.detail.is_dirty() and not self.detail.save():
                return
            BulkVisitDialog(self.ctx, ids, self).exec()

    def _on_changes(self, changes) -> None:
        if changes.touched("reps") or changes.touched("territories"):
            self._fill_filters()
            self.detail.reload_reps()
        self.model.apply_changes(changes)
        self._update_count()
        if self.detail.account_id in changes.ids("accounts") and not self.detail.is_dirty():
            self.detail.show_account(self.detail.account_id)

    def _on_settings(self, settings) -> None:
        if settings.currency != self.model.currency:
            self.model.currency = settings.currency
            self.model.reload()
            self._update_count()

    # --- layout memory ------------------------------------------------------------------
    def _restore_layout(self) -> None:
        s = self.ctx.settings
        if s.accounts_header:
            self.table.horizontalHeader().restoreState(QByteArray.fromBase64(s.accounts_header.encode()))
        if s.accounts_splitter:
            self.splitter.restoreState(QByteArray.fromBase64(s.accounts_splitter.encode()))

    def save_layout(self) -> None:
        self.ctx.update_settings(
            accounts_header=bytes(self.table.horizontalHeader().saveState().toBase64()).decode(),
            accounts_splitter=bytes(self.splitter.saveState().toBase64()).decode(),
        )
