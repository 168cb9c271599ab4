"""The Territories section: the region > district > territory tree with figures, the editor, the rules report, and balancing."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView, QFrame, QHBoxLayout, QHeaderView, QLabel, QListWidget, QMessageBox, QPushButton,
    QScrollArea, QSplitter, QTabWidget, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from core.changes import Changes
from core.territories.rules import describe_rule
from core.territories.service import TerritoryError, delete_territory, save_territory
from desktop.background import BackgroundWork
from desktop.context import AppContext
from desktop.territories.balance import BalancePanel
from desktop.territories.editor import TerritoryEditor
from desktop.territories.model import Overview, load_overview
from desktop.territories.tables import money_short

TREE_COLUMNS = ("Territory", "Kind", "Owner", "Prec.", "Accounts", "Potential", "Workload h", "Goal")
REPORT_ROWS = 200


def create_view(ctx: AppContext) -> "TerritoriesView":
    return TerritoriesView(ctx)


class TerritoriesView(QWidget):
    """Territories and balancing; everything it reads comes from a worker, every write from a core service."""

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setObjectName("territories-view")
        self.overview: Overview | None = None
        self._ready_callbacks: list[Callable[[], None]] = []
        # A change while a load runs starts one more once it has ended (its older result is dropped).
        self.loading = BackgroundWork(self, ctx.tasks, "Loading territories", one_at_a_time=True)
        self._select_after_reload: int | None = None

        self.tree = QTreeWidget()
        self.tree.setObjectName("territory-tree")
        self.tree.setHeaderLabels(TREE_COLUMNS)
        # The same measure as the Balance tab's "Workload h", today and after a scenario.
        self.tree.headerItem().setToolTip(TREE_COLUMNS.index("Workload h"),
                                          "Hours a year: visit time + travel from the owner's home")
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(False)
        self.tree.currentItemChanged.connect(self._current_changed)
        self.new_button = QPushButton("New territory")
        self.new_button.clicked.connect(self.new_territory)
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(self.delete_current)
        self.map_button = QPushButton("Show on map")
        self.map_button.setObjectName("show-territory-on-map")
        self.map_button.clicked.connect(self.show_on_map)
        buttons = QHBoxLayout()
        for b in (self.new_button, self.delete_button, self.map_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.report_label = QLabel("Checking the rules…")
        self.report_label.setObjectName("rules-report-summary")
        self.report_label.setWordWrap(True)
        self.report_list = QListWidget()
        self.report_list.setObjectName("rules-report")
        self.report_list.setMaximumHeight(150)
        self.report_list.itemDoubleClicked.connect(self._open_report_account)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.tree, 1)
        left_layout.addWidget(QLabel("<b>Rules of engagement</b> (double-click an account to open it)"))
        left_layout.addWidget(self.report_label)
        left_layout.addWidget(self.report_list)

        self.editor = TerritoryEditor()
        self.editor.save_requested.connect(self.save)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        # The editor scrolls on a short screen instead of forcing the window taller than it.
        editor_scroll = QScrollArea()
        editor_scroll.setObjectName("territory-editor-scroll")
        editor_scroll.setWidgetResizable(True)
        editor_scroll.setFrameShape(QFrame.Shape.NoFrame)
        editor_scroll.setWidget(self.editor)
        # Only upright scrolling: the editor keeps the width it needs, as it did without the scroll area.
        editor_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        editor_scroll.setMinimumWidth(self.editor.minimumSizeHint().width()
                                      + editor_scroll.verticalScrollBar().sizeHint().width())
        right_layout.addWidget(editor_scroll, 1)
        right_layout.addWidget(self.message)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([800, 420])

        self.balance = BalancePanel(ctx)
        self.balance.scenario_loaded.connect(self._fire_ready)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("territory-tabs")
        self.tabs.addTab(split, "Territories")
        self.tabs.addTab(self.balance, "Balance && scenarios")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)

        ctx.changed.connect(self._changed)
        self.reload()

    # --- loading ---------------------------------------------------------------------------
    def when_ready(self, callback: Callable[[], None]) -> None:
        """Call back once the first load has landed (for screenshots and tests)."""
        if self.overview is not None and not self.loading.running:
            callback()
        else:
            self._ready_callbacks.append(callback)

    def reload(self) -> None:
        """Read territories, figures, the rules report and the account snapshot on a worker."""
        path = self.ctx.store.path
        self.loading.start(lambda progress: load_overview(path, progress), self._loaded,
                           failed=self._load_failed)

    def _load_failed(self, exc: BaseException) -> None:
        self.report_label.setText(f"Could not load territories: {exc}")
        self._fire_ready()

    def _loaded(self, overview: Overview) -> None:
        self.overview = overview
        selected = self._select_after_reload or self.current_id()
        self._select_after_reload = None
        self.editor.set_choices(overview.territories, overview.people)
        self.editor.set_snapshot(overview.snapshot)
        self._fill_tree(overview, selected)
        self._fill_report(overview)
        self.balance.set_people(overview.people)
        self.balance.set_scenarios(overview.scenarios)  # ready once the scenario comparison lands

    def _fire_ready(self) -> None:
        if self.loading.running:
            return
        callbacks, self._ready_callbacks = self._ready_callbacks, []
        for cb in callbacks:
            cb()

    def _changed(self, changes: Changes) -> None:
        if changes.tables & {"territories", "accounts", "reps", "scenarios", "territory_members"}:
            select = next(iter(changes.ids("scenarios")), None) if changes.touched("scenarios") else None
            if select is not None:
                self.balance.scenario_id = select
                self.balance.scenarios.blockSignals(True)
                self.balance.scenarios.addItem("…", select)
                self.balance.scenarios.setCurrentIndex(self.balance.scenarios.count() - 1)
                self.balance.scenarios.blockSignals(False)
            self.reload()

    # --- the tree ----------------------------------------------------------------------------
    def _fill_tree(self, overview: Overview, selected: int | None) -> None:
        self.tree.blockSignals(True)
        self.tree.clear()
        items: dict[int, QTreeWidgetItem] = {}
        names = {p["id"]: p["name"] for p in overview.people}
        for t in overview.territories:
            f = overview.figures.get(t.id)
            owner = (f.owner if f else None) or names.get(t.owner_id) or "—"
            overlays = [names.get(rep, "?") for rep, role in overview.members.get(t.id, []) if role == "overlay"]
            if overlays:
                owner += " + " + ", ".join(overlays)
            item = QTreeWidgetItem([
                t.name, t.kind.replace("_", " ") + (" · overlay" if t.overlay else ""), owner, str(t.precedence),
                f"{f.accounts:,}" if f else "", money_short(f.potential_cents) if f else "",
                f"{f.workload_hours:,.0f}" if f else "", money_short(f.goal_cents) if f and f.goal_cents else ""])
            if f and f.goal_period:
                item.setToolTip(7, f"Revenue goal for {f.goal_period} (goals table)")
            item.setData(0, Qt.ItemDataRole.UserRole, t.id)
            item.setToolTip(0, describe_rule(t.rule))
            if t.color:
                item.setForeground(0, QBrush(QColor(t.color)))
            for col in range(3, 8):
                item.setTextAlignment(col, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            items[t.id] = item
        for t in overview.territories:
            parent = items.get(t.parent_id) if t.parent_id is not None else None
            if parent is not None and parent is not items[t.id]:
                parent.addChild(items[t.id])
            else:
                self.tree.addTopLevelItem(items[t.id])
        self.tree.expandAll()
        self.tree.blockSignals(False)
        if selected in items:
            self.tree.setCurrentItem(items[selected])
        elif overview.territories and self.editor.territory is None:
            first = self.tree.topLevelItem(0)
            self.tree.setCurrentItem(first)
        elif not overview.territories:
            self.editor.edit(None)

    def _fill_report(self, overview: Overview) -> None:
        r = overview.report
        self.report_label.setText(
            f"{r.accounts:,} accounts: <b>{len(r.conflicts):,}</b> conflicts (equal precedence), "
            f"<b>{len(r.orphans):,}</b> orphans (no territory), <b>{len(r.disagreements):,}</b> owners differ "
            "from the rules")
        self.report_list.clear()
        rows = []
        for c in r.conflicts:
            rows.append((c.account_id, f"Conflict: {c.account} — {' / '.join(c.territories)} at precedence {c.precedence}"))
        for account_id, name in r.orphans:
            rows.append((account_id, f"Orphan: {name} — no territory matches"))
        for d in r.disagreements:
            rows.append((d.account_id, f"Owner differs: {d.account} — owned by {d.owner or 'nobody'}, "
                                       f"{d.territory} says {d.rule_owner}"))
        for account_id, text in rows[:REPORT_ROWS]:
            self.report_list.addItem(text)
            self.report_list.item(self.report_list.count() - 1).setData(Qt.ItemDataRole.UserRole, account_id)
        if len(rows) > REPORT_ROWS:
            self.report_list.addItem(f"… and {len(rows) - REPORT_ROWS:,} more (fieldatlas territories report)")
            self.report_list.item(self.report_list.count() - 1).setData(Qt.ItemDataRole.UserRole, -1)

    def _open_report_account(self, item) -> None:
        account_id = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(account_id, int) and account_id >= 0:
            self.ctx.select_accounts.emit([account_id])
            self.ctx.navigate.emit("accounts")

    def current_id(self) -> int | None:
        item = self.tree.currentItem()
        return item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None

    def _current_changed(self, current, _previous) -> None:
        if self.overview is None:
            return
        tid = current.data(0, Qt.ItemDataRole.UserRole) if current is not None else None
        territory = next((t for t in self.overview.territories if t.id == tid), None)
        self.editor.edit(territory)
        self.editor.set_member_ids({rep for rep, role in self.overview.members.get(tid, []) if role == "overlay"})
        self.message.setText("")

    # --- actions -----------------------------------------------------------------------------
    def new_territory(self) -> None:
        self.tree.setCurrentItem(None)
        self.editor.edit(None)
        self.editor.name.setFocus()
        self.message.setText("A new territory: choose its kind, write its rule, and save.")

    def save(self, values: dict) -> None:
        try:
            tid, changes = save_territory(self.ctx.store, self.editor.territory.id if self.editor.territory else None,
                                          values, self.editor.member_ids())
        except TerritoryError as exc:
            self.message.setText(f"<span style='color:#b00020'>Not saved: {exc}</span>")
            return
        self.message.setText(f"Saved {values['name']}.")
        self._select_after_reload = tid
        self.ctx.apply(changes or Changes.of("territories", [tid]))

    def delete_current(self) -> None:
        tid = self.current_id()
        if tid is None:
            return
        name = self.tree.currentItem().text(0)
        answer = QMessageBox.question(self, "Delete territory", f"Delete {name}? Its accounts stay with their owners.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.ctx.apply(delete_territory(self.ctx.store, tid))

    def show_on_map(self) -> None:
        tid = self.current_id()
        if tid is not None:
            self.ctx.show_on_map.emit({"territory_id": tid})
            self.ctx.navigate.emit("map")
