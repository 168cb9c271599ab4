"""The Rotation tab of the Plan view: pick a rep and a cycle, check coverage, solve, browse, save, apply as visits."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDateEdit, QCheckBox, QDoubleSpinBox, QHBoxLayout, QHeaderView,
                               QLabel, QListWidget, QProgressBar, QPushButton, QSpinBox, QSplitter, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from core.reps import list_reps
from core.rotation import planner
from desktop.background import BackgroundWork
from desktop.context import AppContext
from desktop.tasks import open_worker_store

WEEKDAY_TITLES = ["Mon", "Tue", "Wed", "Thu", "Fri"]
WORKDAYS = ("mon", "tue", "wed", "thu", "fri")
WORKDAYS_WITH_SATURDAY = (*WORKDAYS, "sat")


def next_monday(today: date) -> date:
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


class RotationTab(QWidget):
    """Rep, weeks and start → coverage check → background solve with progress/cancel → weeks × weekdays grid."""

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.setObjectName("rotation-tab")
        self.ctx = ctx
        self.rotation: planner.Rotation | None = None
        self.coverage: planner.Coverage | None = None
        self.saved_plan_id: int | None = None
        # The plan Apply acts on: the one just saved, else the rep's latest saved plan.
        self.plan_id: int | None = None
        self._plan_note = ""
        self._coverage_stale = True

        self.rep = QComboBox()
        self.rep.setMinimumWidth(150)
        self.weeks = QSpinBox()
        self.weeks.setRange(1, 13)
        self.weeks.setValue(4)
        self.weeks.setSuffix(" weeks")
        self.start = QDateEdit()
        self.start.setCalendarPopup(True)
        self.start.setDisplayFormat("d MMM yyyy")
        first = next_monday(date.today())
        self.start.setDate(QDate(first.year, first.month, first.day))
        self.seconds = QDoubleSpinBox()
        self.seconds.setRange(1, 600)
        self.seconds.setValue(20)
        self.seconds.setSuffix(" s")
        self.seconds.setToolTip("How long the solver may search")
        self.saturdays = QCheckBox("Saturdays")
        self.saturdays.setToolTip("The rep also works Saturdays (for accounts open at weekends)")
        self.solve_button = QPushButton("Plan rotation")
        self.cancel_button = QPushButton("Cancel")
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setVisible(False)

        controls = QHBoxLayout()
        for label, widget in (("Rep", self.rep), ("Cycle", self.weeks), ("From", self.start),
                              ("Search", self.seconds)):
            controls.addWidget(QLabel(label))
            controls.addWidget(widget)
        controls.addWidget(self.saturdays)
        controls.addWidget(self.solve_button)
        controls.addWidget(self.cancel_button)
        controls.addStretch(1)

        self.coverage_label = QLabel("Choose a rep to check coverage.")
        self.coverage_label.setWordWrap(True)
        self.coverage_label.setObjectName("rotation-coverage")

        self.grid = QTableWidget(0, 5)
        self.grid.setHorizontalHeaderLabels(WEEKDAY_TITLES)
        self.grid.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.grid.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.day_title = QLabel("Select a day to see its stops.")
        self.day_title.setWordWrap(True)
        self.stops = QListWidget()
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.day_title)
        side_layout.addWidget(self.stops, 1)
        split = QSplitter()
        split.addWidget(self.grid)
        split.addWidget(side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)

        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.save_button = QPushButton("Save rotation")
        self.map_button = QPushButton("Show on map")
        self.apply_button = QPushButton("Apply")
        self.apply_button.setToolTip("Book the saved rotation's visits on the rep's calendar from today on "
                                     "(applying again only changes what differs)")
        self.replan_button = QPushButton("Re-plan missed")
        self.replan_button.setToolTip("Roll missed visits forward and move visits off days off")
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.map_button)
        bottom.addWidget(self.save_button)
        bottom.addWidget(self.apply_button)
        bottom.addWidget(self.replan_button)
        self.plan_label = QLabel("No saved rotation for this rep yet.")
        self.plan_label.setWordWrap(True)
        self.plan_label.setObjectName("rotation-plan-coverage")
        # Cancel stops a solve; each kind of work keeps only its latest run and says its errors on its line.
        self.solving = BackgroundWork(self, ctx.tasks, "Planning rotation", progress=self.progress,
                                      stop=self.cancel_button, status=self.summary)
        self.applying = BackgroundWork(self, ctx.tasks, "Applying rotation", status=self.plan_label)
        self.checking = BackgroundWork(self, ctx.tasks, "Checking coverage", status=self.coverage_label)
        self.reading = BackgroundWork(self, ctx.tasks, "Reading the saved rotation", status=self.plan_label)
        for work in (self.solving, self.applying):
            work.ended.connect(self._update_buttons)

        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        # On its own row (shown only while solving) so the controls fit beside a wider sidebar.
        layout.addWidget(self.progress)
        layout.addWidget(self.coverage_label)
        layout.addWidget(split, 1)
        layout.addLayout(bottom)
        layout.addWidget(self.plan_label)

        self.solve_button.clicked.connect(self.solve)
        self.save_button.clicked.connect(self.save)
        self.map_button.clicked.connect(self.show_on_map)
        self.apply_button.clicked.connect(lambda: self.apply_plan(False))
        self.replan_button.clicked.connect(lambda: self.apply_plan(True))
        self.rep.currentIndexChanged.connect(self._rep_changed)
        self.grid.currentCellChanged.connect(lambda row, col, *_: self._show_day(row, col))
        self.rep.currentIndexChanged.connect(self.check_coverage)
        self.weeks.valueChanged.connect(self.check_coverage)
        self.start.dateChanged.connect(self.check_coverage)
        self.saturdays.toggled.connect(self.check_coverage)
        ctx.changed.connect(self._on_changed)
        self._load_reps()
        self._update_buttons()

    # --- inputs -----------------------------------------------------------------------------------------
    def _load_reps(self) -> None:
        current = self.rep_id()
        self.rep.blockSignals(True)
        self.rep.clear()
        for r in list_reps(self.ctx.store):
            if r["role"] == "rep":
                self.rep.addItem(r["name"], r["id"])
        if current is not None:
            index = self.rep.findData(current)
            if index >= 0:
                self.rep.setCurrentIndex(index)
        self.rep.blockSignals(False)
        self.check_coverage()

    @property
    def task(self):
        """The solve or apply going on, None when idle."""
        return self.solving.task or self.applying.task

    @property
    def coverage_task(self):
        return self.checking.task

    def rep_id(self) -> int | None:
        return self.rep.currentData()

    def select_rep(self, rep_id: int) -> None:
        index = self.rep.findData(rep_id)
        if index >= 0:
            self.rep.setCurrentIndex(index)

    def workdays(self) -> tuple[str, ...]:
        return WORKDAYS_WITH_SATURDAY if self.saturdays.isChecked() else WORKDAYS

    def start_date(self) -> date:
        q = self.start.date()
        return date(q.year(), q.month(), q.day())

    def _on_changed(self, changes) -> None:
        if changes.touched("reps"):
            self._load_reps()
        elif changes.touched("accounts") or changes.touched("time_off"):
            self.check_coverage()
        if changes.touched("visits") or changes.touched("rotation_plans") or changes.touched("time_off"):
            self.refresh_plan()

    def _rep_changed(self) -> None:
        self.plan_id = None
        self._plan_note = ""
        self.refresh_plan()

    # --- coverage and solve -----------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if self._coverage_stale:
            self.check_coverage()
            self.refresh_plan()

    def check_coverage(self) -> None:
        """Run the coverage check on a worker (it reads every account of the rep); waits until the tab is shown."""
        rep_id = self.rep_id()
        if rep_id is None:
            return
        if not self.isVisible():
            self._coverage_stale = True
            return
        self._coverage_stale = False
        path, start, weeks, workdays = self.ctx.store.path, self.start_date(), self.weeks.value(), self.workdays()

        def work(progress):
            store = open_worker_store(path)
            try:
                return planner.prepare(store, rep_id, start, weeks, workdays=workdays).coverage()
            finally:
                store.close()

        self.checking.start(work, self._on_coverage, message="Checking coverage…",
                            error="Cannot check coverage: {error}")

    def _on_coverage(self, coverage: planner.Coverage) -> None:
        self.coverage = coverage
        color = "#2e7d32" if coverage.fits else "#c62828"
        self.coverage_label.setText(f"<span style='color:{color}'>{coverage.summary()}</span>")

    def solve(self) -> None:
        rep_id = self.rep_id()
        if rep_id is None or self.task is not None:
            return
        path, start, weeks, seconds = self.ctx.store.path, self.start_date(), self.weeks.value(), self.seconds.value()
        workdays = self.workdays()

        def work(progress):
            store = open_worker_store(path)
            try:
                data = planner.prepare(store, rep_id, start, weeks, workdays=workdays)
            finally:
                store.close()
            # In a child process: a native solver crash must not take the window, and Cancel kills it at once.
            return planner.solve_rotation_in_child(data, seconds=seconds, progress=progress)

        self.rotation = None
        self.saved_plan_id = None
        self.solving.start(work, self._on_solved, message="Planning the rotation…",
                           error="Could not plan the rotation: {error}",
                           cancelled=lambda: self.summary.setText("Cancelled."))
        self.progress.setRange(0, 1000)  # a bar at its start rather than a busy one: the first report is quick
        self.progress.setValue(0)
        self.progress.setFormat("Starting…")
        self._update_buttons()

    def cancel(self) -> None:
        self.solving.cancel()

    def when_ready(self, callback) -> None:
        """Call `callback` once the running solve has finished (at once when none is running)."""
        self.solving.when_idle(callback)

    def _on_solved(self, rotation: planner.Rotation) -> None:
        self.rotation = rotation
        self._on_coverage(rotation.coverage)
        self._fill_grid()
        text = (f"{rotation.visit_count} visits over {rotation.weeks} weeks, "
                f"{rotation.total_drive_minutes / 60:.1f} h driving in total.")
        if rotation.unplaced:
            text += f" {len(rotation.unplaced)} accounts could not be placed: " + ", ".join(
                f"{name} ({reason})" for _, name, reason in rotation.unplaced[:3])
            if len(rotation.unplaced) > 3:
                text += ", …"
        if rotation.not_due:
            text += f" {len(rotation.not_due)} quarterly accounts are not due in this cycle."
        self.summary.setText(text)
        self._update_buttons()

    # --- grid ---------------------------------------------------------------------------------------------
    def _fill_grid(self) -> None:
        rotation = self.rotation
        self.grid.clearContents()
        if rotation is None:
            self.grid.setRowCount(0)
            return
        per_week = rotation.per_week
        self.grid.setColumnCount(per_week)
        self.grid.setHorizontalHeaderLabels([d.title() for d in rotation.workdays])
        self.grid.setRowCount(rotation.weeks)
        self.grid.setVerticalHeaderLabels([f"Week {w + 1}" for w in range(rotation.weeks)])
        busiest = max((d.hours for d in rotation.days), default=0) or 1
        for i, day in enumerate(rotation.days):
            if day.off:
                text = f"{day.day:%d %b}\n{day.off}"
            elif day.stops:
                word = "visit" if len(day.stops) == 1 else "visits"
                text = f"{day.day:%d %b}\n{len(day.stops)} {word}\n{day.hours:.1f} h"
            else:
                text = f"{day.day:%d %b}\nfree"
            item = QTableWidgetItem(text)
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            if day.off:
                item.setBackground(QBrush(QColor("#e0e0e0")))
            elif day.stops:
                shade = int(235 - 90 * day.hours / busiest)
                item.setBackground(QBrush(QColor(shade, 225, 255 - (235 - shade) // 2)))
                item.setForeground(QBrush(QColor("#000000")))
            if day.warnings:
                item.setToolTip("\n".join(day.warnings))
            self.grid.setItem(i // per_week, i % per_week, item)

    def _show_day(self, row: int, col: int) -> None:
        self.stops.clear()
        if self.rotation is None or row < 0 or col < 0:
            return
        index = row * self.rotation.per_week + col
        if index >= len(self.rotation.days):
            return
        day = self.rotation.days[index]
        if day.off:
            self.day_title.setText(f"{day.day:%A %d %B}: off ({day.off})")
            return
        self.day_title.setText(f"{day.day:%A %d %B}: {len(day.stops)} stops, {day.hours:.1f} h, "
                               f"{day.drive_minutes:.0f} min driving" +
                               ("".join(f"\n⚠ {w}" for w in day.warnings)))
        for k, s in enumerate(day.stops, 1):
            self.stops.addItem(f"{k}. {s.arrive}  {s.name}  ({s.drive_minutes:.0f} min drive, "
                               f"{s.visit_minutes:.0f} min visit)")

    def selected_day(self) -> planner.RotationDay | None:
        if self.rotation is None or self.grid.currentRow() < 0:
            return None
        index = self.grid.currentRow() * self.rotation.per_week + self.grid.currentColumn()
        return self.rotation.days[index] if 0 <= index < len(self.rotation.days) else None

    # --- actions ------------------------------------------------------------------------------------------
    def save(self) -> None:
        if self.rotation is None or self.saved_plan_id is not None:
            return
        plan_id, changes = planner.save_rotation(self.ctx.store, self.rotation)
        self.saved_plan_id = plan_id
        self.plan_id = plan_id
        self._plan_note = ""
        self.ctx.apply(changes)
        self.summary.setText(self.summary.text() + f" Saved as rotation plan {plan_id}.")
        self._update_buttons()

    def refresh_plan(self) -> None:
        """Read the saved plan (just saved, else the rep's latest) and its visits done / due per tier, on a worker."""
        rep_id = self.rep_id()
        if rep_id is None or not self.isVisible():
            return
        path, plan_id = self.ctx.store.path, self.plan_id

        def work(progress):
            store = open_worker_store(path)
            try:
                plans = [planner.get_plan(store, plan_id)] if plan_id else planner.list_plans(store, rep_id)[:1]
                if not plans:
                    return None
                return plans[0], planner.tier_coverage(store, plans[0].id)
            finally:
                store.close()

        self.reading.start(work, self._on_plan, error="Cannot read the saved rotation: {error}")

    def _on_plan(self, found, note: str = "") -> None:
        note = note or self._plan_note
        if found is None:
            self.plan_id = None
            self.plan_label.setText("No saved rotation for this rep yet.")
        else:
            plan, figures = found
            self.plan_id = plan.id
            state = ("applied: its visits are on the rep's calendar" if plan.status == "applied"
                     else "a draft: Apply books its visits")
            self.plan_label.setText((note + "\n" if note else "") +
                                    f"Rotation plan {plan.id}, {plan.start:%d %b} to {plan.end:%d %b %Y} ({state}). "
                                    + planner.coverage_text(figures))
        self._update_buttons()

    def apply_plan(self, replan: bool = False) -> None:
        """Apply (or re-plan) the saved plan on a worker; the view learns what changed through ctx.apply."""
        if self.plan_id is None or self.task is not None:
            return
        path, plan_id = self.ctx.store.path, self.plan_id

        def work(progress):
            store = open_worker_store(path)
            try:
                result = (planner.replan if replan else planner.apply_rotation)(store, plan_id)
                return result, planner.get_plan(store, plan_id), planner.tier_coverage(store, plan_id)
            finally:
                store.close()

        def done(out) -> None:
            result, plan, figures = out
            self._plan_note = result.summary()
            self._on_plan((plan, figures), result.summary())
            self.ctx.apply(result.changes)

        self.applying.start(work, done, message="Re-planning…" if replan else "Applying the rotation…",
                            error="Could not apply the rotation: {error}")
        self._update_buttons()

    def show_on_map(self) -> None:
        rep_id = self.rep_id()
        if rep_id is None:
            return
        payload = {"rep_id": rep_id}
        day = self.selected_day()
        if day is not None and day.stops:
            payload["account_ids"] = [s.account_id for s in day.stops]
        self.ctx.show_on_map.emit(payload)

    def _update_buttons(self) -> None:
        busy = self.task is not None
        self.solve_button.setEnabled(not busy and self.rep_id() is not None)
        self.save_button.setEnabled(not busy and self.rotation is not None and self.saved_plan_id is None)
        self.map_button.setEnabled(self.rep_id() is not None)
        self.apply_button.setEnabled(not busy and self.plan_id is not None)
        self.replan_button.setEnabled(not busy and self.plan_id is not None)


def for_screenshot(plan_view, seconds: float = 1.5) -> RotationTab:
    """`fieldatlas screenshot --view rotation`: the Plan view on its Rotation tab, a 4-week cycle being solved
    for the first rep (the busiest day is selected once it is done); returns the tab to wait for."""
    tab = plan_view.rotation
    plan_view.setCurrentWidget(tab)
    tab.weeks.setValue(4)
    tab.seconds.setValue(seconds)
    tab.solve()

    def select_busiest() -> None:
        if tab.rotation is not None:
            per_week = tab.rotation.per_week
            i = max(range(len(tab.rotation.days)), key=lambda k: len(tab.rotation.days[k].stops))
            tab.grid.setCurrentCell(i // per_week, i % per_week)

    tab.when_ready(select_busiest)
    return tab
