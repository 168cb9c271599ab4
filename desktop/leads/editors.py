"""The Leads section's editors: a segment (with its live count), the scoring rules, and a queue's settings.

Each dialog writes only through core services (core.segments, core.leads.scoring, core.leads.queues)
and hands the returned Changes to ctx.apply; counting a segment and saving rules (which rescores
every new lead) run on workers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QHeaderView, QLabel,
    QLineEdit, QListWidget, QListWidgetItem, QPushButton, QSpinBox, QTableWidget, QTableWidgetItem,
    QWidget,
)

from core.leads.queues import MODE_WORDS, MODES, QueueProblem, save_queue
from core.leads.scoring import KINDS as RULE_KINDS, RuleProblem, parse_rule, save_rules
from core.segments import SegmentProblem, check_rule, count, describe, save_segment
from desktop.background import BackgroundWork
from desktop.context import AppContext
from desktop.forms import FormDialog
from desktop.tasks import open_worker_store

ANY = -1  # a spin box at its lowest value means "any" (the condition is left out)


def _spin(maximum: int, suffix: str = "", any_text: str = "any") -> QSpinBox:
    box = QSpinBox()
    box.setRange(ANY, maximum)
    box.setSpecialValueText(any_text)
    box.setValue(ANY)
    if suffix:
        box.setSuffix(suffix)
    return box


def _on_worker(path: Path, fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def job(_progress: Any) -> Any:
        store = open_worker_store(path)
        try:
            return fn(store)
        finally:
            store.close()
    return job


def _checked_list(name: str, items: list[str], checked: set[str], rows: int = 5) -> QListWidget:
    widget = QListWidget()
    widget.setObjectName(name)
    for text in items:
        item = QListWidgetItem(text)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if text.lower() in checked else Qt.CheckState.Unchecked)
        widget.addItem(item)
    widget.setFixedHeight(max(2, min(rows, len(items))) * 22 + 6)
    return widget


def _checked(widget: QListWidget) -> list[str]:
    return [widget.item(i).text() for i in range(widget.count())
            if widget.item(i).checkState() == Qt.CheckState.Checked]


class SegmentDialog(FormDialog):
    """A new segment or an existing one: conditions on industry, size, visits, deals, score and owner.

    The count of accounts in it is worked out on a worker a moment after each change; a count that
    comes back after a newer change is dropped.
    """

    COUNT_DELAY_MS = 250

    def __init__(self, ctx: AppContext, industries: list[str], segment: dict[str, Any] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__("Edit segment" if segment else "New segment", parent, message_name="segment-said")
        self.ctx = ctx
        self.setObjectName("segment-dialog")
        self.said = self.message   # what the conditions mean, or why a save was refused
        rule = dict(segment["rule"]) if segment else {}
        self.name = QLineEdit(segment["name"] if segment else "")
        self.name.setObjectName("segment-name")
        self.name.setPlaceholderText("e.g. Big healthcare")
        if segment:
            self.name.setReadOnly(True)  # saving under another name would make a second segment
        wanted = {i.lower() for i in rule.get("industries") or ()}
        # An industry the rule names that no account has (any more) stays offered, so it is not lost.
        offered = industries + [i for i in rule.get("industries") or () if i.lower() not in {x.lower() for x in industries}]
        self.industries = _checked_list("segment-industries", offered, wanted, rows=6)
        self.min_employees = _spin(1_000_000)
        self.max_employees = _spin(1_000_000)
        self.visits = QComboBox()
        self.visits.setObjectName("segment-visits")
        for text, key in (("any time or never", None), ("visited in the last", "visited_within_days"),
                          ("not visited for (or never)", "not_visited_days")):
            self.visits.addItem(text, key)
        self.visit_days = QSpinBox()
        self.visit_days.setRange(1, 3650)
        self.visit_days.setValue(90)
        self.visit_days.setSuffix(" days")
        self.deal = QComboBox()
        for text, key in (("any", None), ("has a won deal", "won"), ("has a lost deal", "lost")):
            self.deal.addItem(text, key)
        self.min_score = _spin(1000)
        self.owned = QComboBox()
        for text, key in (("any", None), ("has an owner", True), ("in the pool (no owner)", False)):
            self.owned.addItem(text, key)
        self.tiers = {t: QCheckBox(t) for t in ("A", "B", "C")}
        # Fill from the rule.
        if "min_employees" in rule:
            self.min_employees.setValue(rule["min_employees"])
        if "max_employees" in rule:
            self.max_employees.setValue(rule["max_employees"])
        for key in ("visited_within_days", "not_visited_days"):
            if key in rule:
                self.visits.setCurrentIndex(self.visits.findData(key))
                self.visit_days.setValue(rule[key])
        if "deal_stage" in rule:
            self.deal.setCurrentIndex(self.deal.findData(rule["deal_stage"]))
        if "min_score" in rule:
            self.min_score.setValue(rule["min_score"])
        if "owned" in rule:
            self.owned.setCurrentIndex(2 if not rule["owned"] else 1)
        for t in rule.get("tiers") or ():
            if t.upper() in self.tiers:
                self.tiers[t.upper()].setChecked(True)

        visits_row = QHBoxLayout()
        visits_row.addWidget(self.visits, 1)
        visits_row.addWidget(self.visit_days)
        size_row = QHBoxLayout()
        size_row.addWidget(self.min_employees, 1)
        size_row.addWidget(QLabel("to"))
        size_row.addWidget(self.max_employees, 1)
        tiers_row = QHBoxLayout()
        for box in self.tiers.values():
            tiers_row.addWidget(box)
        tiers_row.addStretch(1)
        form = self.form
        form.addRow("Name", self.name)
        form.addRow("Industries (none ticked: any)", self.industries)
        form.addRow("Employees", size_row)
        form.addRow("Tier (none ticked: any)", tiers_row)
        form.addRow("Visits", visits_row)
        form.addRow("Closed deal", self.deal)
        form.addRow("Fit + timing score at least", self.min_score)
        form.addRow("Owner", self.owned)
        self.count_label = QLabel("Counting…")
        self.count_label.setObjectName("segment-count")
        self.add_above_message(self.count_label)
        self.setMinimumWidth(520)

        self.counted: int | None = None
        # Only the count for the conditions shown now may land: an edit forgets the one under way.
        self.counter = BackgroundWork(self, ctx.tasks, "Counting the segment", errors=self.count_label)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(self.COUNT_DELAY_MS)
        self._timer.timeout.connect(self._count)
        for signal in (self.industries.itemChanged, self.min_employees.valueChanged, self.max_employees.valueChanged,
                       self.visits.currentIndexChanged, self.visit_days.valueChanged, self.deal.currentIndexChanged,
                       self.min_score.valueChanged, self.owned.currentIndexChanged,
                       *(b.toggled for b in self.tiers.values())):
            signal.connect(self._edited)
        self._edited()

    def rule(self) -> dict[str, Any]:
        """The conditions as a segment rule (only those set; none = every account)."""
        out: dict[str, Any] = {}
        industries = _checked(self.industries)
        if industries:
            out["industries"] = industries
        if self.min_employees.value() != ANY:
            out["min_employees"] = self.min_employees.value()
        if self.max_employees.value() != ANY:
            out["max_employees"] = self.max_employees.value()
        tiers = [t for t, box in self.tiers.items() if box.isChecked()]
        if tiers:
            out["tiers"] = tiers
        if self.visits.currentData():
            out[self.visits.currentData()] = self.visit_days.value()
        if self.deal.currentData():
            out["deal_stage"] = self.deal.currentData()
        if self.min_score.value() != ANY:
            out["min_score"] = self.min_score.value()
        if self.owned.currentIndex() > 0:
            out["owned"] = self.owned.currentIndex() == 1
        return out

    def _edited(self, *_args: Any) -> None:
        self.visit_days.setEnabled(bool(self.visits.currentData()))
        self.say(describe(self.rule()))
        self.counter.drop()
        self.count_label.setText("Counting…")
        self._timer.start()

    def _count(self) -> None:
        rule = self.rule()
        self.counter.start(_on_worker(self.ctx.store.path, lambda s: count(s, rule)), self._counted,
                           error="Could not count: {error}")

    def _counted(self, result: Any) -> None:
        self.counted = result
        self.count_label.setText(f"<b>{result:,} accounts</b> in this segment today")

    def counting(self) -> bool:
        """True until the count for the current conditions is shown (for tests and screenshots)."""
        return self._timer.isActive() or self.count_label.text() == "Counting…"

    def save(self) -> None:
        rule = self.rule()
        try:
            check_rule(rule)
            _sid, self.changes = save_segment(self.ctx.store, self.name.text(), rule)
        except SegmentProblem as exc:
            self.refuse(str(exc))
            return
        self.ctx.apply(self.changes)
        self.accept()


class RulesDialog(FormDialog):
    """The scoring and grading rules as a table: kind, value, points. Saving rescores new leads on a worker."""

    def __init__(self, ctx: AppContext, rows: list[tuple[str, str, int]], parent: QWidget | None = None) -> None:
        super().__init__("Scoring rules", parent, message_name="rules-said")
        self.ctx = ctx
        self.setObjectName("rules-dialog")
        self.said = self.message
        self.original = {(k, m.casefold()) for k, m, _p in rows}
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("rules-table")
        self.table.setHorizontalHeaderLabels(["Kind", "Value", "Points"])
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        for kind, match, points in rows:
            self.add_row(kind, match, points)
        self.add_button = QPushButton("Add rule")
        self.add_button.clicked.connect(lambda: self.add_row("source", "", 10, edit=True))
        self.remove_button = QPushButton("Remove rule")
        self.remove_button.setObjectName("remove-rule")
        self.remove_button.clicked.connect(self.remove_selected)
        help_text = QLabel("<b>industry</b> and <b>source</b>: points for that value (<i>*</i> = any other); "
                           "<b>employees</b>: points from that company size up; <b>grade</b> A, B, C: the lowest "
                           "score for it (below C is D). Saving rescores the leads not routed yet.")
        help_text.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        self.add_above_message(help_text)
        self.add_above_message(self.table, 1)
        self.add_above_message(row)
        self.resize(540, 620)

    def add_row(self, kind: str, match: str, points: int, edit: bool = False) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        kinds = QComboBox()
        for k in RULE_KINDS:
            kinds.addItem(k, k)
        kinds.setCurrentIndex(max(0, kinds.findData(kind)))
        self.table.setCellWidget(r, 0, kinds)
        self.table.setItem(r, 1, QTableWidgetItem(match))
        spin = QSpinBox()
        spin.setRange(-1000, 1000)
        spin.setValue(points)
        self.table.setCellWidget(r, 2, spin)
        if edit:
            self.table.setCurrentCell(r, 1)
            self.table.editItem(self.table.item(r, 1))

    def remove_selected(self) -> None:
        for r in sorted({i.row() for i in self.table.selectedIndexes()} | {self.table.currentRow()}, reverse=True):
            if r >= 0:
                self.table.removeRow(r)

    def rows(self) -> list[tuple[str, str, int]]:
        """The table as checked rules; RuleProblem names the first bad row."""
        out = []
        for r in range(self.table.rowCount()):
            kind = self.table.cellWidget(r, 0).currentData()
            match = (self.table.item(r, 1).text() if self.table.item(r, 1) else "").strip()
            points = self.table.cellWidget(r, 2).value()
            try:
                out.append(parse_rule(f"{kind}:{match}={points}"))
            except RuleProblem as exc:
                raise RuleProblem(f"row {r + 1}: {exc}") from None
        return out

    def save(self) -> None:
        try:
            rows = self.rows()
        except RuleProblem as exc:
            self.refuse(str(exc))
            return
        kept = {(k, m.casefold()) for k, m, _p in rows}
        removed = [key for key in self.original if key not in kept]
        self.buttons.setEnabled(False)
        self.say("Saving and rescoring the new leads…")
        BackgroundWork.once(self, self.ctx.tasks, "Saving scoring rules", _on_worker(
            self.ctx.store.path, lambda store: save_rules(store, rows, removed)), self._saved,
            errors=self.said, error="<span style='color:#b00020'>Not saved: {error}</span>",
            failed=lambda exc: self.buttons.setEnabled(True))

    def _saved(self, changes: Any) -> None:
        self.changes = changes
        self.ctx.apply(changes)
        self.accept()


class QueueDialog(FormDialog):
    """A queue's settings: which leads it takes (sources, states, score, segments), its mode and priority."""

    def __init__(self, ctx: AppContext, segments: list[str], queue: dict[str, Any] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(f"Queue {queue['name']}" if queue else "New queue", parent, message_name="queue-said")
        self.ctx = ctx
        self.setObjectName("queue-dialog")
        self.said = self.message
        self.queue = queue
        q = queue or {}
        self.name = QLineEdit(q.get("name", ""))
        self.name.setObjectName("queue-name")
        if queue:
            self.name.setReadOnly(True)
        self.mode = QComboBox()
        self.mode.setObjectName("queue-mode")
        for m in MODES:
            self.mode.addItem(MODE_WORDS[m], m)
        self.mode.setCurrentIndex(max(0, self.mode.findData(q.get("mode", "round_robin"))))
        self.sources = QLineEdit(", ".join(q.get("sources") or ()))
        self.sources.setObjectName("queue-sources")
        self.sources.setPlaceholderText("any, or e.g. Test Drive, Demo request")
        self.sources.setToolTip("Lead sources, comma-separated; empty takes leads from any source")
        self.states = QLineEdit(", ".join(q.get("states") or ()))
        self.states.setPlaceholderText("any state (e.g. TX, OK)")
        self.min_score = _spin(1000)
        if q.get("min_score") is not None:
            self.min_score.setValue(q["min_score"])
        self.priority = QSpinBox()
        self.priority.setRange(-100, 100)
        self.priority.setValue(q.get("priority", 0))
        self.hours_only = QCheckBox("Only reps inside their working hours")
        self.hours_only.setChecked(bool(q.get("hours_only")))
        self.segments = _checked_list("queue-segments", segments, {s.lower() for s in q.get("segments") or ()})
        form = self.form
        form.addRow("Name", self.name)
        form.addRow("Mode", self.mode)
        form.addRow("Sources", self.sources)
        form.addRow("States", self.states)
        form.addRow("Lead score at least", self.min_score)
        if segments:
            form.addRow("Segments (none ticked: any)", self.segments)
        else:
            form.addRow("Segments", QLabel("none saved yet (Books tab → New segment…)"))
        form.addRow("Priority (higher first)", self.priority)
        form.addRow("", self.hours_only)
        self.setMinimumWidth(520)

    def save(self) -> None:
        split = lambda text: [s.strip() for s in text.split(",") if s.strip()]  # noqa: E731
        try:
            _qid, self.changes = save_queue(
                self.ctx.store, self.name.text(), mode=self.mode.currentData(), sources=split(self.sources.text()),
                states=split(self.states.text()), priority=self.priority.value(), hours_only=self.hours_only.isChecked(),
                segments=_checked(self.segments), clear_min_score=self.min_score.value() == ANY,
                min_score=None if self.min_score.value() == ANY else self.min_score.value())
        except QueueProblem as exc:
            self.refuse(str(exc))
            return
        self.ctx.apply(self.changes)
        self.accept()
