"""The Balance tab: run the balancer in the background, compare a scenario with today, and apply it as a manager."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDialog, QDoubleSpinBox, QGroupBox, QLineEdit, QHBoxLayout, QHeaderView, QLabel, QMessageBox,
    QPushButton, QSplitter, QTableView, QVBoxLayout, QWidget,
)

from core.balancing import in_child
from core.balancing.explain import WORKLOAD_MEASURE, describe_travel
from core.balancing.flows import hire_rep
from core.balancing.model import BalanceOptions
from core.balancing.scenarios import ScenarioError, apply_scenario, discard_scenario
from core.changes import Changes
from desktop.background import BackgroundWork
from desktop.context import AppContext
from desktop.forms import FormDialog
from desktop.territories.editor import combo_value, select_value
from desktop.territories.model import ScenarioView, load_scenario
from desktop.territories.tables import RowsModel, money_short
from desktop.tasks import open_worker_store

# Each figure twice: before (today, or before applying) and after; the box title says which.
# Hours are workload (visit time + travel from the rep's home) on both sides; travel is shown on its own too.
COMPARE_COLUMNS = ("Rep", "Accounts", "after", "Workload h", "after", "Travel h", "after", "Target h", "Deviation",
                   "Potential", "after")
DEVIATION_COLUMN = COMPARE_COLUMNS.index("Deviation")
MOVE_COLUMNS = ("Account", "From", "To", "City")
MOVES_SHOWN = 2000


class BalancePanel(QWidget):
    """Options, the run button with progress and cancel, the scenario list, the comparison and the moves."""

    scenario_loaded = Signal()  # the chosen scenario's comparison is shown (or there is none)

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setObjectName("balance-panel")
        self.scenario_id: int | None = None
        self.scenario_view: ScenarioView | None = None
        self.people: list[dict[str, Any]] = []

        self.tolerance = QDoubleSpinBox()
        self.tolerance.setRange(0.1, 50)
        self.tolerance.setValue(2.0)
        self.tolerance.setSuffix(" %")
        self.tolerance.setToolTip("Each rep's workload must be within this much of their share")
        self.max_moves = QDoubleSpinBox()
        self.max_moves.setRange(0, 100)
        self.max_moves.setValue(100)
        self.max_moves.setSuffix(" %")
        self.max_moves.setToolTip("At most this share of accounts may change owner")
        self.seconds = QDoubleSpinBox()
        self.seconds.setRange(1, 600)
        self.seconds.setValue(20)
        self.seconds.setSuffix(" s")
        self.by = QComboBox()
        for label, key in (("Workload", "workload"), ("Potential", "potential"), ("Workload and potential", "both")):
            self.by.addItem(label, key)
        self.flow = QComboBox()
        self.flow.addItem("Balance everyone", "balance:0")
        self.hire_button = QPushButton("Hire a rep…")
        self.hire_button.setToolTip("Add a field rep, then plan a fair share for them")
        self.hire_button.clicked.connect(self.hire_clicked)
        self.run_button = QPushButton("Balance")
        self.run_button.setObjectName("balance-run")
        self.run_button.clicked.connect(self.run_balance)
        self.cancel_button = QPushButton("Cancel")
        self.status = QLabel("Balancing finds a plan and saves it as a scenario; nothing changes until it is applied.")
        self.status.setObjectName("balance-status")
        self.status.setWordWrap(True)
        # The solver's progress messages and its errors go to the status line; Cancel stops it.
        self.balancing = BackgroundWork(self, ctx.tasks, "Balancing territories", stop=self.cancel_button,
                                        status=self.status, stopping="Cancelling…")
        self.balancing.ended.connect(self._update_buttons)
        self.applying = BackgroundWork(self, ctx.tasks, "Applying scenario", status=self.status)

        options = QHBoxLayout()
        for label, w in (("Tolerance", self.tolerance), ("Max moves", self.max_moves), ("Time", self.seconds),
                         ("Balance", self.by), ("Plan", self.flow)):
            options.addWidget(QLabel(label))
            options.addWidget(w)
        options.addStretch(1)
        options.addWidget(self.hire_button)
        options.addWidget(self.run_button)
        options.addWidget(self.cancel_button)

        self.scenarios = QComboBox()
        self.scenarios.setObjectName("scenario-list")
        self.scenarios.setMinimumWidth(320)
        self.scenarios.currentIndexChanged.connect(self._scenario_chosen)
        self.acting = QComboBox()
        self.acting.setObjectName("acting-as")
        self.acting.setToolTip("Who is using FieldAtlas; only a manager can apply a scenario")
        self.acting.currentIndexChanged.connect(self._acting_changed)
        self.apply_button = QPushButton("Apply…")
        self.apply_button.setObjectName("scenario-apply")
        self.apply_button.clicked.connect(self.apply_clicked)
        self.discard_button = QPushButton("Discard")
        self.discard_button.clicked.connect(self.discard_clicked)
        self.map_button = QPushButton("Show moves on map")
        self.map_button.clicked.connect(self.show_moves_on_map)
        scenario_bar = QHBoxLayout()
        scenario_bar.addWidget(QLabel("Scenario"))
        scenario_bar.addWidget(self.scenarios, 1)
        scenario_bar.addWidget(self.map_button)
        scenario_bar.addWidget(QLabel("Acting as"))
        scenario_bar.addWidget(self.acting)
        scenario_bar.addWidget(self.apply_button)
        scenario_bar.addWidget(self.discard_button)

        self.summary = QLabel("")
        self.summary.setObjectName("scenario-summary")
        self.summary.setWordWrap(True)
        self.comparing = BackgroundWork(self, ctx.tasks, "Comparing scenario", status=self.summary)
        self.compare_model = RowsModel(COMPARE_COLUMNS, right_aligned=range(1, len(COMPARE_COLUMNS)), parent=self)
        self.compare = QTableView()
        self.compare.setModel(self.compare_model)
        self.compare.setObjectName("scenario-compare")
        self.compare.verticalHeader().hide()
        self.compare.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.compare.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.moves_model = RowsModel(MOVE_COLUMNS, parent=self)
        self.moves = QTableView()
        self.moves.setModel(self.moves_model)
        self.moves.setObjectName("scenario-moves")
        self.moves.verticalHeader().hide()
        self.moves.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.moves.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.moves.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.moves.doubleClicked.connect(self._select_moved_account)
        self.compare_box = compare_box = QGroupBox("Today, and after the scenario")
        QVBoxLayout(compare_box).addWidget(self.compare)
        moves_box = QGroupBox("What moves (double-click to open the account)")
        QVBoxLayout(moves_box).addWidget(self.moves)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(compare_box)
        split.addWidget(moves_box)
        split.setSizes([720, 480])
        for table in (self.compare, self.moves):
            table.setWordWrap(False)
            table.verticalHeader().setDefaultSectionSize(22)

        layout = QVBoxLayout(self)
        layout.addLayout(options)
        layout.addWidget(self.status)
        layout.addLayout(scenario_bar)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        self._update_buttons()

    # --- data -----------------------------------------------------------------------------
    def set_people(self, people: list[dict[str, Any]]) -> None:
        self.people = people
        wanted = combo_value(self.acting)
        if wanted is None:
            wanted = (self.ctx.settings.extra or {}).get("acting_as")
        self.acting.blockSignals(True)
        self.acting.clear()
        for p in people:
            self.acting.addItem(f"{p['name']} ({p['role']})", p["id"])
        index = self.acting.findData(wanted) if wanted is not None else -1
        if index < 0:
            managers = [i for i, p in enumerate(people) if p["role"] == "manager"]
            index = managers[0] if managers else 0
        self.acting.setCurrentIndex(index)
        self.acting.blockSignals(False)
        current_flow = combo_value(self.flow)
        self.flow.blockSignals(True)
        self.flow.clear()
        self.flow.addItem("Balance everyone", "balance:0")
        for p in people:
            if p["role"] == "rep":
                self.flow.addItem(f"New rep: {p['name']} takes a fair share", f"add_rep:{p['id']}")
        for p in people:
            if p["role"] == "rep":
                self.flow.addItem(f"{p['name']} leaves: spread their accounts", f"remove_rep:{p['id']}")
        select_value(self.flow, getattr(self, "_pending_flow", None) or current_flow or "balance:0")
        self._pending_flow = None
        self.flow.blockSignals(False)
        self._update_buttons()

    def set_scenarios(self, scenarios: list[dict[str, Any]], select: int | None = None) -> None:
        wanted = select if select is not None else combo_value(self.scenarios)
        self.scenarios.blockSignals(True)
        self.scenarios.clear()
        for s in scenarios:
            dev = s.get("max_deviation_pct")
            self.scenarios.addItem(f"{s['id']}: {s['name']} — {s['status']}, {s.get('moved') or 0:,} moves"
                                   + (f", ±{dev:.1f}%" if isinstance(dev, (int, float)) else ""), s["id"])
        index = self.scenarios.findData(wanted) if wanted is not None else -1
        self.scenarios.setCurrentIndex(index if index >= 0 else (0 if scenarios else -1))
        self.scenarios.blockSignals(False)
        self._scenario_chosen()

    def acting_as(self) -> dict[str, Any] | None:
        rep_id = combo_value(self.acting)
        return next((p for p in self.people if p["id"] == rep_id), None)

    # --- running ----------------------------------------------------------------------------
    @property
    def task(self):
        """The balancing run going on, None when idle."""
        return self.balancing.task

    def options(self) -> BalanceOptions:
        return BalanceOptions(tolerance_pct=self.tolerance.value(), max_moves_pct=self.max_moves.value(),
                              seconds=self.seconds.value(), by=combo_value(self.by))

    def run_balance(self) -> None:
        """Start balancing on a worker; the result is saved as a scenario there and shown here."""
        if self.balancing.running:
            return
        options = self.options()
        flow, rep_text = (combo_value(self.flow) or "balance:0").split(":")
        rep_id = int(rep_text)
        path = self.ctx.store.path

        def work(progress):
            # In a child process: a native solver crash must not take the window (and Cancel kills it at once).
            return in_child.balance_and_save(str(path), flow, rep_id, options, progress)

        self.balancing.start(work, self._balanced, error="Balancing failed: {error}",
                             message="Balancing… (it keeps improving until the time limit; Cancel stops it)",
                             cancelled=lambda: self.status.setText("Balancing cancelled; nothing was saved."))
        self._update_buttons()

    def cancel(self) -> None:
        self.balancing.cancel()

    def _balanced(self, result) -> None:
        scenario_id, status, reasons, dev, moved, seconds, gap = result
        head = ("Balanced" if status == "balanced" else "Targets not met") + \
            f": every rep within ±{dev:.2f}% of target, {moved:,} accounts move ({seconds:.0f} s"
        # The gap is on the objective (travel, plus a price per move for a new or leaving rep); the
        # scenario summary below names each part.
        head += f", within {gap:.1f}% of the proven best)." if gap is not None else ")."
        self.status.setText(head + ("<br>" + "<br>".join(reasons) if reasons else ""))
        self.ctx.apply(Changes.of("scenarios", [scenario_id], "scenario saved"))
        self.scenario_id = scenario_id

    # --- scenarios ----------------------------------------------------------------------------
    def _scenario_chosen(self) -> None:
        scenario_id = combo_value(self.scenarios)
        self.scenario_id = scenario_id
        self._update_buttons()
        if scenario_id is None:
            self.compare_model.set_rows([])
            self.moves_model.set_rows([])
            self.summary.setText("No scenario yet: press Balance.")
            self.scenario_loaded.emit()
            return
        path = self.ctx.store.path
        self.comparing.start(lambda progress: load_scenario(path, scenario_id, progress),
                             lambda view, sid=scenario_id: self._show_scenario(sid, view),
                             error="Could not compare: {error}", failed=lambda exc: self.scenario_loaded.emit())

    def _show_scenario(self, scenario_id: int, view: ScenarioView) -> None:
        if scenario_id != combo_value(self.scenarios):
            self.scenario_loaded.emit()
            return
        self.scenario_view = view
        c = view.comparison
        rows, flagged = [], set()
        tolerance = float(c.summary.get("tolerance_pct", 2.0))
        for row, (a, b) in enumerate(zip(c.today, c.scenario)):
            rows.append((a["name"], f"{a['accounts']:,}", f"{b['accounts']:,}", f"{a['workload_hours']:,.0f}",
                         f"{b['workload_hours']:,.0f}", f"{a['travel_hours']:,.0f}", f"{b['travel_hours']:,.0f}",
                         f"{b['target_hours']:,.0f}", f"{b['deviation_pct']:+.1f}%",
                         money_short(a["potential_cents"]), money_short(b["potential_cents"])))
            if abs(b["deviation_pct"]) > tolerance + 1e-9:
                flagged.add((row, DEVIATION_COLUMN))
        self.compare_model.set_rows(rows, flagged=flagged)
        self.compare_box.setTitle("Before applying, and after" if c.status == "applied"
                                  else "Today, and after the scenario")
        shown = view.moves[:MOVES_SHOWN]
        self.moves_model.set_rows([(m["account"], m["from_rep"] or "nobody", m["to_rep"] or "", m["city"] or "")
                                   for m in shown], keys=[m["account_id"] for m in shown])
        s = c.summary
        parts = [f"<b>{c.name}</b> ({c.status}): {c.moved:,} accounts move"]
        if s.get("max_deviation_pct") is not None:
            parts.append(f"max deviation ±{s['max_deviation_pct']:.2f}% (today {s.get('before_max_deviation_pct', 0):.0f}%)")
        if c.stale:
            parts.append(f"<span style='color:#b00020'>{c.stale:,} accounts changed owner since"
                         + ("" if c.status == "applied" else "; balance again") + "</span>")
        text = ", ".join(parts)
        travel = describe_travel(s)
        if travel:
            text += "<br>" + "; ".join(travel)
        text += "<br>" + WORKLOAD_MEASURE[0].upper() + WORKLOAD_MEASURE[1:] + "."
        if s.get("reasons"):
            text += "<br>" + "<br>".join(s["reasons"])
        self.summary.setText(text)
        self._update_buttons()
        self.scenario_loaded.emit()

    def _acting_changed(self) -> None:
        extra = dict(self.ctx.settings.extra or {})
        extra["acting_as"] = combo_value(self.acting)
        self.ctx.update_settings(extra=extra)
        self._update_buttons()

    def _update_buttons(self) -> None:
        running = self.balancing.running
        self.run_button.setEnabled(not running)
        person = self.acting_as()
        is_manager = bool(person and person["role"] in ("manager", "admin"))
        draft = False
        if self.scenario_view is not None and self.scenario_id is not None:
            draft = self.scenario_view.comparison.status == "draft" and \
                self.scenario_view.comparison.scenario_id == self.scenario_id
        self.apply_button.setEnabled(draft and is_manager and not running)
        self.apply_button.setToolTip("" if is_manager else "Only a manager can apply a scenario")
        self.discard_button.setEnabled(draft and not running)
        self.map_button.setEnabled(self.scenario_id is not None)

    def show_moves_on_map(self) -> None:
        if self.scenario_id is not None:
            self.ctx.show_on_map.emit({"scenario_id": self.scenario_id})
            self.ctx.navigate.emit("map")

    def _select_moved_account(self, index) -> None:
        account_id = self.moves_model.key(index.row())
        if account_id is not None:
            self.ctx.select_accounts.emit([account_id])
            self.ctx.navigate.emit("accounts")

    def apply_clicked(self, confirm: bool = True) -> None:
        if self.scenario_id is None:
            return
        person = self.acting_as()
        moved = self.scenario_view.comparison.moved if self.scenario_view else 0
        if confirm:
            answer = QMessageBox.question(
                self, "Apply scenario",
                f"Give {moved:,} accounts to their new reps from today? Ownership history keeps the old owners.")
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.apply_scenario(person["id"] if person else None)

    def apply_scenario(self, acting_rep_id: int | None) -> None:
        """Apply the chosen scenario on a worker as this person (refused unless a manager)."""
        path, scenario_id = self.ctx.store.path, self.scenario_id

        def work(progress):
            store = open_worker_store(path)
            try:
                return apply_scenario(store, scenario_id, acting_rep_id)
            finally:
                store.close()

        self.applying.start(work, self._applied, message="Applying…", error="Not applied: {error}")

    def _applied(self, changes: Changes) -> None:
        self.status.setText(changes.note)
        self.ctx.apply(changes)

    def hire_clicked(self) -> None:
        dialog = HireDialog(self.ctx.store, self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.rep_id is not None:
            self._hired(dialog.name.text(), dialog.rep_id, dialog.changes)

    def hire(self, name: str, home_zip: str, hours: float) -> int | None:
        """Add the rep and choose the new-rep plan for them (the list refreshes with the view)."""
        try:
            rep_id, changes = hire_rep(self.ctx.store, name, home_zip, hours)
        except ValueError as exc:
            self.status.setText(f"<span style='color:#b00020'>Not added: {exc}</span>")
            return None
        self._hired(name, rep_id, changes)
        return rep_id

    def _hired(self, name: str, rep_id: int, changes: Changes) -> None:
        self._pending_flow = f"add_rep:{rep_id}"
        self.status.setText(f"Added {name.strip()}. Press Balance to give them a fair share with few moves.")
        self.ctx.apply(changes)

    def discard_clicked(self) -> None:
        if self.scenario_id is None:
            return
        try:
            changes = discard_scenario(self.ctx.store, self.scenario_id)
        except ScenarioError as exc:
            self.status.setText(str(exc))
            return
        self.ctx.apply(changes)


class HireDialog(FormDialog):
    """Name, home ZIP code and hours of a new field rep; a bad ZIP code is refused in place, the form kept."""

    def __init__(self, store, parent: QWidget | None = None) -> None:
        super().__init__("Hire a rep", parent, save_text="Add rep", message_name="hire-problem")
        self.store = store
        self.rep_id: int | None = None
        self.name = QLineEdit()
        self.home_zip = QLineEdit()
        self.home_zip.setPlaceholderText("e.g. 78701")
        self.hours = QDoubleSpinBox()
        self.hours.setRange(1, 80)
        self.hours.setValue(40)
        self.hours.setSuffix(" h/week")
        self.form.addRow("Name", self.name)
        self.form.addRow("Home ZIP code", self.home_zip)
        self.form.addRow("Hours", self.hours)
        self.setMinimumWidth(380)

    def save(self) -> None:
        try:
            self.rep_id, self.changes = hire_rep(self.store, self.name.text(), self.home_zip.text(), self.hours.value())
        except ValueError as exc:
            self.refuse(f"Not added: {exc}")
            return
        self.accept()
