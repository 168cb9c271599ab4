"""The Leads section: leads with score and routing reason, queues with their fairness, and the books refresh preview."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFileDialog, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QSpinBox, QTableWidget, QTableWidgetItem, QTabWidget, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from core.books.scores import ScoresResult, store_scores
from core.books.refresh import BooksPlan, apply_refresh, book_sizes, plan_refresh
from core.segments import SegmentProblem, delete_segment, known_industries, list_segments
from core.changes import Changes
from core.leads.importing import import_leads
from core.leads.queues import QueueProblem, queue_overview, remove_member, set_member
from core.leads.routing import RoutingResult, lead_counts, list_leads, route_leads
from core.leads.scoring import rule_rows
from desktop.background import BackgroundWork
from desktop.context import AppContext
from desktop.leads.editors import QueueDialog, RulesDialog, SegmentDialog
from desktop.leads.loading import LoadsOnWorker
from desktop.tasks import open_worker_store

LEAD_COLUMNS = (("id", "Lead"), ("company", "Company"), ("contact", "Contact"), ("source", "Source"),
                ("industry", "Industry"), ("score", "Score"), ("grade", "Grade"), ("status", "Status"),
                ("rep", "Rep"), ("queue", "Queue"), ("reason", "Why"))
MOVE_COLUMNS = ("Account", "From", "To", "Score", "Why")
WATCHED = {"leads", "routing_decisions", "lead_queues", "queue_members", "reps", "accounts", "lead_rules", "segments"}


def create_view(ctx: AppContext) -> "LeadsView":
    return LeadsView(ctx)


@dataclass
class Snapshot:
    leads: list[dict[str, Any]]
    counts: dict[str, int]
    queues: list[dict[str, Any]]
    books: list[dict[str, Any]]
    segments: list[dict[str, Any]]
    reps: list[dict[str, Any]]
    rules: list[tuple[str, str, int]]
    industries: list[str]


def _with_store(path: Path, fn: Callable[[Any], Any]) -> Any:
    store = open_worker_store(path)
    try:
        return fn(store)
    finally:
        store.close()


def _snapshot(store) -> Snapshot:
    return Snapshot(list_leads(store), lead_counts(store), queue_overview(store), book_sizes(store),
                    list_segments(store), [{"id": b["rep_id"], "name": b["rep"]} for b in book_sizes(store)],
                    rule_rows(store), known_industries(store))


def _table(columns: tuple[str, ...], name: str, widths: dict[int, int] | None = None) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(columns)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().hide()
    table.setWordWrap(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    # The last column (a reason) takes the width that is left and is elided, instead of pushing
    # the table sideways; the whole text is in its tooltip and below the table.
    header.setSectionResizeMode(len(columns) - 1, QHeaderView.ResizeMode.Stretch)
    for column, width in (widths or {}).items():  # long names get a set width, elided; the user can widen it
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(column, width)
    table.setTextElideMode(Qt.TextElideMode.ElideRight)
    return table


def _fill(table: QTableWidget, rows: list[list[Any]]) -> None:
    table.setSortingEnabled(False)
    table.setRowCount(len(rows))
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            item = QTableWidgetItem()
            if isinstance(value, int):
                item.setData(Qt.ItemDataRole.DisplayRole, value)
            else:
                item.setText("" if value is None else str(value))
                item.setToolTip(item.text() if len(item.text()) > 40 else "")
            table.setItem(r, c, item)


class LeadsView(LoadsOnWorker, QWidget):
    """Reads on a worker; imports, routing and refreshes run on workers through core services."""

    load_title = "Reading leads"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setObjectName("leads-view")
        self.snapshot: Snapshot | None = None
        self.plan: BooksPlan | None = None
        self.last_routing: RoutingResult | None = None
        self._init_loading()
        self.message = QLabel("Loading leads…")
        self.message.setObjectName("leads-message")
        self.message.setWordWrap(True)

        # Leads tab
        self.import_button = QPushButton("Import leads…")
        self.import_button.clicked.connect(lambda: self.import_file())
        self.route_button = QPushButton("Route new leads")
        self.route_button.setObjectName("route-leads")
        self.route_button.clicked.connect(self.route)
        self.status = QComboBox()
        self.status.addItem("All leads", None)
        for s in ("new", "assigned", "converted", "rejected"):
            self.status.addItem(s.capitalize(), s)
        self.status.currentIndexChanged.connect(lambda _i: self._fill_leads())
        self.counts_label = QLabel("")
        self.rules_button = QPushButton("Scoring rules…")
        self.rules_button.setObjectName("edit-rules")
        self.rules_button.clicked.connect(self.edit_rules)
        self.dialog: SegmentDialog | RulesDialog | QueueDialog | None = None  # the editor open, if any
        top = QHBoxLayout()
        for w in (self.import_button, self.route_button, self.rules_button, QLabel("Show:"), self.status):
            top.addWidget(w)
        top.addStretch(1)
        top.addWidget(self.counts_label)
        self.leads_table = _table(tuple(t for _k, t in LEAD_COLUMNS), "leads-table", {1: 210, 2: 130, 9: 150})
        self.leads_table.currentCellChanged.connect(self._show_reason)
        leads_tab = QWidget()
        lay = QVBoxLayout(leads_tab)
        lay.addLayout(top)
        lay.addWidget(self.leads_table, 1)

        # Queues tab
        self.queue_tree = QTreeWidget()
        self.queue_tree.setObjectName("queue-tree")
        self.queue_tree.setHeaderLabels(["Queue / rep", "Mode or weight", "Daily cap", "Leads", "Takes"])
        self.queue_tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.fairness_label = QLabel("")
        self.fairness_label.setWordWrap(True)
        self.member_queue = QComboBox()
        self.member_rep = QComboBox()
        self.member_weight = QSpinBox()
        self.member_weight.setRange(1, 100)
        self.member_cap = QSpinBox()
        self.member_cap.setRange(0, 1000)
        self.member_cap.setSpecialValueText("no cap")
        self.member_button = QPushButton("Add or change")
        self.member_button.clicked.connect(self.save_member)
        form = QHBoxLayout()
        for w in (QLabel("Queue:"), self.member_queue, QLabel("Rep:"), self.member_rep, QLabel("Weight:"),
                  self.member_weight, QLabel("Daily cap:"), self.member_cap, self.member_button):
            form.addWidget(w)
        form.addStretch(1)
        self.new_queue_button = QPushButton("New queue…")
        self.new_queue_button.clicked.connect(lambda: self.edit_queue(new=True))
        self.edit_queue_button = QPushButton("Queue settings…")
        self.edit_queue_button.setObjectName("edit-queue")
        self.edit_queue_button.clicked.connect(lambda: self.edit_queue())
        self.remove_member_button = QPushButton("Remove rep from queue")
        self.remove_member_button.setObjectName("remove-member")
        self.remove_member_button.setEnabled(False)
        self.remove_member_button.clicked.connect(self.remove_selected_member)
        self.queue_tree.currentItemChanged.connect(self._queue_selected)
        queue_bar = QHBoxLayout()
        for w in (self.new_queue_button, self.edit_queue_button, self.remove_member_button):
            queue_bar.addWidget(w)
        queue_bar.addStretch(1)
        queues_tab = QWidget()
        lay = QVBoxLayout(queues_tab)
        lay.addLayout(queue_bar)
        lay.addWidget(self.queue_tree, 1)
        lay.addWidget(self.fairness_label)
        lay.addLayout(form)

        # Books tab
        self.untouched = QSpinBox()
        self.untouched.setRange(1, 3650)
        self.untouched.setValue(60)
        self.untouched.setSuffix(" days untouched")
        self.rest = QSpinBox()
        self.rest.setRange(0, 365)
        self.rest.setValue(14)
        self.rest.setSuffix(" days rest")
        self.preview_button = QPushButton("Preview refresh")
        self.preview_button.setObjectName("preview-books")
        self.preview_button.clicked.connect(self.preview_books)
        self.apply_button = QPushButton("Apply refresh")
        self.apply_button.setObjectName("apply-books")
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply_books)
        self.scores_button = QPushButton("Update scores")
        self.scores_button.setObjectName("update-scores")
        self.scores_button.setToolTip("Work out and store every account's fit and timing score (a refresh and "
                                      "segments with a lowest score read them)")
        self.scores_button.clicked.connect(self.update_scores)
        bar = QHBoxLayout()
        for w in (QLabel("Take back accounts after"), self.untouched, QLabel("and let them rest"), self.rest,
                  self.preview_button, self.apply_button):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.scores_button)
        self.books_table = _table(("Rep", "Accounts", "Capacity", "After refresh"), "books-table")
        self.books_table.setMinimumHeight(290)
        self.books_table.setMaximumHeight(330)
        self.moves_table = _table(MOVE_COLUMNS, "moves-table", {0: 240})
        self.segments_table = _table(("Segment", "Accounts", "Conditions"), "segments-table", {0: 200})
        self.segments_table.setMaximumHeight(150)
        self.segments_table.cellDoubleClicked.connect(lambda row, _c: self.edit_segment(row))
        self.new_segment_button = QPushButton("New segment…")
        self.new_segment_button.setObjectName("new-segment")
        self.new_segment_button.clicked.connect(lambda: self.edit_segment(None))
        self.edit_segment_button = QPushButton("Edit segment…")
        self.edit_segment_button.clicked.connect(lambda: self.edit_segment(self.segments_table.currentRow()))
        self.remove_segment_button = QPushButton("Remove segment")
        self.remove_segment_button.setObjectName("remove-segment")
        self.remove_segment_button.clicked.connect(self.remove_segment)
        segment_bar = QHBoxLayout()
        segment_bar.addWidget(QLabel("<b>Segments</b> (feed a refresh, a queue or a territory rule)"))
        segment_bar.addStretch(1)
        segment_bar.addWidget(self.new_segment_button)
        segment_bar.addWidget(self.edit_segment_button)
        segment_bar.addWidget(self.remove_segment_button)
        books_tab = QWidget()
        lay = QVBoxLayout(books_tab)
        lay.addLayout(bar)
        lay.addWidget(self.books_table)
        lay.addWidget(QLabel("<b>Moves</b> (a preview changes nothing until Apply)"))
        lay.addWidget(self.moves_table, 1)
        lay.addLayout(segment_bar)
        lay.addWidget(self.segments_table)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("leads-tabs")
        self.tabs.addTab(leads_tab, "Leads")
        self.tabs.addTab(queues_tab, "Queues")
        self.tabs.addTab(books_tab, "Books")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        ctx.changed.connect(self._changed)
        self.reload()

    # --- loading ---------------------------------------------------------------------------
    def _load_job(self) -> Callable[[Any], Snapshot]:
        path = self.ctx.store.path
        return lambda progress: _with_store(path, _snapshot)

    def _show_error(self, exc: BaseException) -> None:
        self.message.setText(f"Could not read the leads: {exc}")

    def _show(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self._fill_leads()
        self._fill_queues()
        self._fill_books()
        if self.message.text() == "Loading leads…":
            self.message.setText("")

    def _changed(self, changes: Changes) -> None:
        if changes.tables & WATCHED:
            self.reload()

    # --- filling ---------------------------------------------------------------------------
    def _fill_leads(self) -> None:
        if self.snapshot is None:
            return
        status = self.status.currentData()
        rows = [r for r in self.snapshot.leads if status is None or r["status"] == status]
        _fill(self.leads_table, [[r[k] for k, _t in LEAD_COLUMNS] for r in rows])
        if rows and self.leads_table.currentRow() < 0:
            self.leads_table.setCurrentCell(0, 0)  # so the newest lead's whole reason shows below
        counts = self.snapshot.counts
        self.counts_label.setText(f"{sum(counts.values()):,} leads: " + ", ".join(
            f"{counts.get(s, 0):,} {s}" for s in ("new", "assigned", "converted", "rejected") if counts.get(s)))
        self.route_button.setEnabled(bool(counts.get("new")))

    def _show_reason(self, row: int, *_rest) -> None:
        """The full reason of the selected lead's latest decision (the column shows its start)."""
        lead = self.leads_table.item(row, 0)
        why = self.leads_table.item(row, len(LEAD_COLUMNS) - 1)
        if lead is not None and why is not None and why.text():
            self.message.setText(f"Lead {lead.text()}: {why.text()}")

    def _fill_queues(self) -> None:
        snap = self.snapshot
        assert snap is not None
        self.queue_tree.clear()
        for q in snap.queues:
            top = QTreeWidgetItem([q["name"], q["mode"].replace("_", " ") + f", priority {q['priority']}",
                                   "", str(sum(m["leads"] for m in q["members"])), q["takes"]
                                   + ("; working hours only" if q["hours_only"] else "")])
            top.setData(0, Qt.ItemDataRole.UserRole, (q["id"], 0))
            for m in q["members"]:
                child = QTreeWidgetItem([m["rep"] + ("" if m["active"] else " (paused)"), f"weight {m['weight']}",
                                         "none" if m["daily_cap"] is None else str(m["daily_cap"]),
                                         str(m["leads"]), ""])
                child.setData(0, Qt.ItemDataRole.UserRole, (q["id"], m["rep_id"]))
                top.addChild(child)
            self.queue_tree.addTopLevelItem(top)
            top.setExpanded(True)
        self.member_queue.clear()
        for q in snap.queues:
            self.member_queue.addItem(q["name"], q["id"])
        self.member_rep.clear()
        for r in snap.reps:
            self.member_rep.addItem(r["name"], r["id"])
        if self.last_routing and self.last_routing.fairness:
            self.fairness_label.setText("Last routing: " + "; ".join(
                f"{f['queue']}: {f['leads']} leads, {f['min']}–{f['max']} per rep (spread {f['spread']})"
                for f in self.last_routing.fairness))

    def _fill_books(self) -> None:
        snap = self.snapshot
        assert snap is not None
        after = {b["rep_id"]: b["after"] for b in self.plan.books} if self.plan and not self.plan.applied else {}
        _fill(self.books_table, [[b["rep"], b["accounts"],
                                  f"{b['book_min'] or 0}–{b['book_max']}" if b["book_max"] else "not in books",
                                  after.get(b["rep_id"], "")] for b in snap.books])
        _fill(self.segments_table, [[s["name"], s["accounts"], s["describe"]] for s in snap.segments])
        self.edit_segment_button.setEnabled(bool(snap.segments))
        self.remove_segment_button.setEnabled(bool(snap.segments))

    # --- actions ---------------------------------------------------------------------------
    def import_file(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Import leads", str(Path.home()),
                                                  "Lead files (*.csv *.xlsx);;All files (*)")
            if not path:
                return
        self.message.setText(f"Importing {Path(path).name}…")
        db = self.ctx.store.path
        self._act("Importing leads", lambda progress: _with_store(
            db, lambda store: import_leads(store, path, progress=progress)), self._imported)

    def _imported(self, result) -> None:
        text = result.summary()
        if result.rejects:
            text += " First: " + "; ".join(r.text() for r in result.rejects[:3])
        self.message.setText(text)
        self.ctx.apply(result.changes)

    def route(self) -> None:
        self.route_button.setEnabled(False)
        self.message.setText("Routing new leads…")
        db = self.ctx.store.path
        self._act("Routing leads", lambda progress: _with_store(
            db, lambda store: route_leads(store, progress=progress)), self._routed)

    def _routed(self, result: RoutingResult) -> None:
        self.last_routing = result
        self.message.setText(result.summary().replace("\n  ", " · "))
        self.ctx.apply(result.changes)

    def save_member(self) -> None:
        queue_id, rep_id = self.member_queue.currentData(), self.member_rep.currentData()
        if queue_id is None or rep_id is None:
            return
        cap = self.member_cap.value() or None
        try:
            changes = set_member(self.ctx.store, queue_id, rep_id, weight=self.member_weight.value(), daily_cap=cap)
        except ValueError as exc:
            self.message.setText(str(exc))
            return
        self.message.setText(f"{self.member_rep.currentText()} is in {self.member_queue.currentText()} "
                             f"(weight {self.member_weight.value()}, {'cap ' + str(cap) if cap else 'no cap'}).")
        self.ctx.apply(changes)

    def _selected_in_tree(self) -> tuple[int, int] | None:
        item = self.queue_tree.currentItem()
        return item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None

    def _queue_selected(self, *_args) -> None:
        picked = self._selected_in_tree()
        self.remove_member_button.setEnabled(bool(picked and picked[1]))
        if picked:
            self.member_queue.setCurrentIndex(max(0, self.member_queue.findData(picked[0])))

    def remove_selected_member(self) -> None:
        picked = self._selected_in_tree()
        if not picked or not picked[1]:
            return
        queue = next(q for q in self.snapshot.queues if q["id"] == picked[0])
        rep = next(m["rep"] for m in queue["members"] if m["rep_id"] == picked[1])
        try:
            changes = remove_member(self.ctx.store, *picked)
        except QueueProblem as exc:
            self.message.setText(str(exc))
            return
        self.message.setText(f"{rep} left {queue['name']} (the leads they have stay with them).")
        self.ctx.apply(changes)

    def _open(self, dialog) -> None:
        self.dialog = dialog
        dialog.finished.connect(lambda _result: setattr(self, "dialog", None) if self.dialog is dialog else None)
        dialog.open()

    def edit_queue(self, new: bool = False) -> None:
        if self.snapshot is None:
            return
        queue = None
        if not new:
            picked = self._selected_in_tree()
            queue_id = picked[0] if picked else self.member_queue.currentData()
            queue = next((q for q in self.snapshot.queues if q["id"] == queue_id), None)
            if queue is None:
                self.message.setText("Choose a queue first (or New queue…).")
                return
        self._open(QueueDialog(self.ctx, [s["name"] for s in self.snapshot.segments], queue, self))

    def edit_rules(self) -> None:
        if self.snapshot is not None:
            self._open(RulesDialog(self.ctx, self.snapshot.rules, self))

    def edit_segment(self, row: int | None) -> None:
        if self.snapshot is None:
            return
        segment = self.snapshot.segments[row] if row is not None and 0 <= row < len(self.snapshot.segments) else None
        if row is not None and segment is None:
            return
        self._open(SegmentDialog(self.ctx, self.snapshot.industries, segment, self))

    def update_scores(self) -> None:
        self.scores_button.setEnabled(False)
        self.message.setText("Scoring accounts…")
        db = self.ctx.store.path
        self._act("Scoring accounts", lambda progress: _with_store(
            db, lambda store: store_scores(store, progress=progress)), self._scored)

    def _scored(self, result: ScoresResult) -> None:
        self.scores_button.setEnabled(True)
        self.message.setText(result.summary())
        self.ctx.apply(result.changes)

    def remove_segment(self) -> None:
        row = self.segments_table.currentRow()
        if self.snapshot is None or not 0 <= row < len(self.snapshot.segments):
            self.message.setText("Choose a segment in the list first.")
            return
        name = self.snapshot.segments[row]["name"]
        try:
            changes = delete_segment(self.ctx.store, name)
        except SegmentProblem as exc:
            self.message.setText(str(exc))
            return
        self.message.setText(f"Segment {name} removed.")
        self.ctx.apply(changes)

    def preview_books(self) -> None:
        db = self.ctx.store.path
        untouched, rest = self.untouched.value(), self.rest.value()
        self.message.setText("Working out the refresh…")
        self._act("Previewing the books refresh", lambda progress: _with_store(
            db, lambda store: plan_refresh(store, untouched_days=untouched, rest_days=rest)), self._previewed)

    def _previewed(self, plan: BooksPlan) -> None:
        self.plan = plan
        names = {b["rep_id"]: b["rep"] for b in plan.books}
        moves = [[m.account, names.get(m.from_rep_id, "the pool") if m.from_rep_id else "the pool", m.rep, m.score,
                  m.reason] for m in plan.take_back + plan.refill]
        _fill(self.moves_table, moves)
        self._fill_books()
        self.apply_button.setEnabled(bool(moves))
        self.message.setText(plan.summary().split("\n")[0])

    def apply_books(self) -> None:
        if self.plan is None:
            return
        plan = self.plan
        self.apply_button.setEnabled(False)
        db = self.ctx.store.path
        self._act("Applying the books refresh", lambda progress: _with_store(
            db, lambda store: apply_refresh(store, plan)), self._applied)

    def _applied(self, plan: BooksPlan) -> None:
        self.plan = plan
        self.message.setText(plan.summary().split("\n")[0])
        self.ctx.apply(plan.changes)

    def _act(self, title: str, fn: Callable[[Any], Any], done: Callable[[Any], None]) -> None:
        """One action on a worker (several may run at once); what went wrong goes to the message line."""
        BackgroundWork.once(self, self.ctx.tasks, title, fn, done, errors=self.message,
                            error="That did not work: {error}", failed=self._action_failed)

    def _action_failed(self, exc: BaseException) -> None:
        self.route_button.setEnabled(True)
        self.scores_button.setEnabled(True)
