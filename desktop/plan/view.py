"""The Plan section: pick a rep and days, solve in the background, edit the itinerary with instant checks, accept."""

from __future__ import annotations

import importlib.util
from datetime import date, timedelta
from typing import Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QComboBox, QDateEdit, QDoubleSpinBox, QFileDialog, QHBoxLayout, QLabel, QListView,
                               QListWidget,
                               QListWidgetItem, QMessageBox, QPushButton, QSpinBox, QSplitter,
                               QTabWidget, QVBoxLayout, QWidget)

from core.planning import (WeekPlan, accept, load_accepted, plan_week, rep_accounts, reoptimise, with_order)
from core.reps import list_reps
from desktop.background import BackgroundWork
from desktop.context import AppContext
from desktop.plan.extras import ExtrasPanel
from desktop.plan.itinerary import ItineraryTree
from desktop.plan.route_sketch import RouteSketch
from desktop.plan.visits_tab import VisitsTab
from desktop.tasks import open_worker_store


def create_view(ctx: AppContext) -> QWidget:
    return PlanView(ctx)


class PlanView(QTabWidget):
    """Tabs: the week plan, call rotations (when that part is installed) and visits on the road."""

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.setObjectName("plan-view")
        self.week = WeekTab(ctx)
        self.addTab(self.week, "Week plan")
        if importlib.util.find_spec("desktop.plan.rotation_tab") is not None:
            from desktop.plan.rotation_tab import RotationTab

            self.rotation = RotationTab(ctx)
            self.addTab(self.rotation, "Rotation")
        self.visits = VisitsTab(ctx)
        self.addTab(self.visits, "Visits")

    def when_ready(self, callback) -> None:
        """Call back once the saved plan shown on opening has loaded (for screenshots and tests)."""
        self.week.when_ready(callback)

    def plan_accounts(self, rep_id: int, account_ids: list[int]) -> None:
        """Plan visits to exactly these accounts for this rep (e.g. an area drawn on the map)."""
        self.setCurrentWidget(self.week)
        self.week.plan_accounts(rep_id, account_ids)


def next_monday(today: date) -> date:
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


class WeekTab(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.plan: WeekPlan | None = None
        self.orders: dict[str, list[Any]] = {}
        self.locked: set[Any] = set()
        self.route_ids: list[int] = []

        self.rep = QComboBox()
        self.rep.setMinimumWidth(180)
        for r in list_reps(ctx.store):
            if r["role"] == "rep":
                self.rep.addItem(f"{r['name']} ({r['home_city'] or '?'})", r)
        start = next_monday(date.today())
        self.start = QDateEdit(QDate(start.year, start.month, start.day))
        self.start.setCalendarPopup(True)
        self.start.setDisplayFormat("ddd d MMM yyyy")
        self.days = QSpinBox()
        self.days.setRange(1, 14)
        self.days.setValue(5)
        self.days.setSuffix(" days")
        self.seconds = QDoubleSpinBox()
        self.seconds.setRange(0.5, 300)
        self.seconds.setValue(10)
        self.seconds.setSuffix(" s search")
        self.plan_button = QPushButton("Plan")
        self.plan_button.setToolTip("Pick the accounts that are due and route them day by day")
        self.summary = QLabel("Choose a rep and the days, then press Plan.")
        self.summary.setWordWrap(True)
        self.summary.setObjectName("plan-summary")
        # Stop keeps the best plan found so far: the solver returns it as its answer.
        self.solving = BackgroundWork(self, ctx.tasks, "Planning visits", progress=True, stop="Stop",
                                      status=self.summary)
        self.solving.ended.connect(self._task_ended)
        self.loading = BackgroundWork(self, ctx.tasks, "Loading saved plan", status=self.summary)
        self.stop_button = self.solving.stop
        self.stop_button.setToolTip("Stop searching and keep the best plan found so far")
        self.progress = self.solving.progress
        self.progress.setFixedWidth(160)
        # The status bar already shows the task's message; a bare bar here keeps the row tidy.
        self.progress.setTextVisible(False)
        top = QHBoxLayout()
        for label, w in (("Rep", self.rep), ("From", self.start), ("", self.days), ("", self.seconds)):
            if label:
                top.addWidget(QLabel(label))
            top.addWidget(w)
        top.addWidget(self.plan_button)
        top.addWidget(self.stop_button)
        top.addWidget(self.progress)
        top.addStretch(1)

        self.tree = ItineraryTree()
        self.up_button = QPushButton("▲ Up")
        self.down_button = QPushButton("▼ Down")
        self.move_day = QComboBox()
        # Day labels ("Mon 30 Nov") were clipped at the default width.
        self.move_day.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.move_day.setToolTip("Move the selected visit to another day")
        self.move_button = QPushButton("Move to day")
        self.lock_button = QPushButton("Lock / unlock")
        self.lock_button.setToolTip("A locked visit stays on its day when you re-optimise")
        self.remove_button = QPushButton("Leave out")
        self.reopt_button = QPushButton("Re-optimise")
        self.reopt_button.setToolTip("Search again around the locked visits")
        edit = QHBoxLayout()
        for w in (self.up_button, self.down_button, self.move_day, self.move_button, self.lock_button,
                  self.remove_button, self.reopt_button):
            edit.addWidget(w)
        edit.addStretch(1)

        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet("color: #b00020;")
        self.unserved = QListWidget()
        self.unserved.setObjectName("plan-unserved")
        # Reasons are sentences: wrap them at the panel's edge rather than cut them off behind a scroll bar.
        self.unserved.setWordWrap(True)
        self.unserved.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.unserved.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.unserved.setResizeMode(QListView.ResizeMode.Adjust)
        self.accept_button = QPushButton("Accept plan")
        self.accept_button.setToolTip("Save the routes and create planned visits")
        self.map_button = QPushButton("Show on map")
        self.ics_button = QPushButton("Export calendar (ICS)…")
        self.gpx_button = QPushButton("Export GPX…")
        self.links_button = QPushButton("Copy phone links")
        self.links_button.setToolTip("Google Maps directions links, at most 9 stops between start and end each")
        self.sketch = RouteSketch()
        side = QVBoxLayout()
        side.addWidget(self.sketch, 2)
        side.addWidget(self.summary)
        side.addWidget(self.warnings)
        self.extras = ExtrasPanel()
        self.side_tabs = QTabWidget()
        self.side_tabs.addTab(self.unserved, "Not planned")
        self.side_tabs.addTab(self.extras, "Hotels && appointments")
        side.addWidget(self.side_tabs, 2)
        for w in (self.accept_button, self.map_button, self.ics_button, self.gpx_button, self.links_button):
            side.addWidget(w)
        side_w = QWidget()
        side_w.setLayout(side)
        left = QWidget()
        left_l = QVBoxLayout(left)
        left_l.setContentsMargins(0, 0, 0, 0)
        left_l.addWidget(self.tree, 1)
        left_l.addLayout(edit)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(side_w)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([860, 400])
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(split, 1)

        self.plan_button.clicked.connect(lambda: self.solve())
        self.up_button.clicked.connect(lambda: self._shift_selected(-1))
        self.down_button.clicked.connect(lambda: self._shift_selected(1))
        self.move_button.clicked.connect(self._move_to_day)
        self.lock_button.clicked.connect(self._toggle_lock)
        self.remove_button.clicked.connect(self._leave_out)
        self.reopt_button.clicked.connect(self.reoptimise)
        self.accept_button.clicked.connect(self.accept)
        self.map_button.clicked.connect(self.show_on_map)
        self.ics_button.clicked.connect(lambda: self._export("ics"))
        self.gpx_button.clicked.connect(lambda: self._export("gpx"))
        self.links_button.clicked.connect(self._copy_links)
        self.tree.order_edited.connect(self.set_orders)
        self.rep.currentIndexChanged.connect(self.load_saved)
        self.rep.currentIndexChanged.connect(self._rep_changed)
        self.start.dateChanged.connect(self.load_saved)
        self.start.dateChanged.connect(lambda: self.extras.set_period(self.start_date()))
        self._rep_changed()
        self.extras.set_period(self.start_date())
        self.days.valueChanged.connect(self.load_saved)
        self._update_buttons()
        self.load_saved()
        # Start the route planner's worker server now (it imports the engine, ~1 s) so the first Plan
        # spends its whole search time searching.
        from core.routing import engine

        self._warm = ctx.tasks.run("Starting the route planner", lambda progress: engine.warm_up())

    def _rep_changed(self) -> None:
        rep = self.rep_row()
        self.extras.set_accounts(rep_accounts(self.ctx.store, rep["id"]) if rep else [])

    # --- reading the controls -------------------------------------------------------------------
    def rep_row(self) -> dict | None:
        return self.rep.currentData()

    def start_date(self) -> date:
        d = self.start.date()
        return date(d.year(), d.month(), d.day())

    # --- solving ----------------------------------------------------------------------------------
    @property
    def task(self):
        """The planning run going on, None when idle."""
        return self.solving.task

    def load_saved(self) -> None:
        """Show the rep's accepted routes for these days, if any, so reopening the app shows the plan.

        Re-timing saved routes is quick offline; with a routing server configured it may wait on the
        network, so then it runs on a worker.
        """
        rep = self.rep_row()
        if rep is None or self.solving.running:
            return
        rep_id, start, days = rep["id"], self.start_date(), self.days.value()
        routing_url = self.ctx.settings.routing_url

        def done(plan):
            self.route_ids = list(plan.result.extra.get("route_ids", [])) if plan else []
            self._show(plan, saved=plan is not None)

        if not routing_url:
            self.loading.drop()  # an older load (with a routing server) would show other days
            done(load_accepted(self.ctx.store, rep_id, start, days))
            return
        path = self.ctx.store.path

        def work(progress):
            from core.planning import PlanOptions

            store = open_worker_store(path)
            try:
                return load_accepted(store, rep_id, start, days, PlanOptions(routing_url=routing_url))
            finally:
                store.close()

        # A newer load (the user changed rep or days meanwhile) replaces this one.
        self.loading.start(work, done, error="Could not load the saved plan: {error}")

    def when_ready(self, callback) -> None:
        """Call back once nothing is loading or solving (a screenshot waits for the plan)."""
        busy = next((work for work in (self.loading, self.solving) if work.running), None)
        if busy is None:
            callback()
        else:
            busy.when_idle(lambda: self.when_ready(callback))

    def plan_accounts(self, rep_id: int, account_ids: list[int]) -> None:
        index = next((i for i in range(self.rep.count()) if (self.rep.itemData(i) or {}).get("id") == rep_id), -1)
        if index < 0:
            self.summary.setText("That person has no plan of their own (not a field rep).")
            return
        self.rep.setCurrentIndex(index)
        self.solve(account_ids=account_ids)

    def solve(self, account_ids: list[int] | None = None) -> None:
        rep = self.rep_row()
        if rep is None or self.solving.running:
            return
        path, rep_id, start, days, seconds = self.ctx.store.path, rep["id"], self.start_date(), self.days.value(), \
            self.seconds.value()
        routing_url = self.ctx.settings.routing_url
        hotels, appointments = self.extras.hotels(), self.extras.appointments()

        def work(progress):
            from core.planning import PlanOptions

            store = open_worker_store(path)
            try:
                return plan_week(store, rep_id, start, days, seconds=seconds, progress=progress,
                                 options=PlanOptions(routing_url=routing_url, hotels=hotels, appointments=appointments),
                                 account_ids=account_ids)
            finally:
                store.close()

        self._start_task("Planning visits", work)

    def reoptimise(self) -> None:
        if self.plan is None or self.solving.running:
            return
        plan, orders, locked, seconds = self.plan, dict(self.orders), set(self.locked), self.seconds.value()
        self._start_task("Re-optimising", lambda progress: reoptimise(plan, orders, locked, seconds=seconds,
                                                                      progress=progress))

    def _start_task(self, title: str, fn) -> None:
        self.plan_button.setEnabled(False)
        self.reopt_button.setEnabled(False)
        self.solving.start(fn, self._on_solved, title=title, message=f"{title}…", error="Could not plan: {error}",
                           cancelled=lambda: self.summary.setText("Planning stopped before a plan was ready."))
        self.loading.drop()  # a saved plan still loading must not replace the new one

    def stop(self) -> None:
        self.solving.cancel()

    def _task_ended(self) -> None:
        self.plan_button.setEnabled(True)
        self._update_buttons()

    def _on_solved(self, plan: WeekPlan) -> None:
        self.route_ids = []
        self._show(plan)

    # --- showing and editing ------------------------------------------------------------------------
    def _show(self, plan: WeekPlan | None, saved: bool = False, selected: Any = None) -> None:
        self.plan = plan
        self.orders = plan.orders() if plan else {}
        self.locked = set(plan.locked) if plan else set()
        self.tree.show_plan(plan, selected)
        self.sketch.set_plan(plan)
        self.unserved.clear()
        self.move_day.clear()
        if plan is None:
            self.summary.setText("Choose a rep and the days, then press Plan.")
            self.warnings.clear()
            self._update_buttons()
            return
        for sh in plan.problem.shifts:
            self.move_day.addItem(sh.day, sh.id)
        # Due accounts no planned day will do come first: nothing in the plan can fix them, so they
        # should not hide at the bottom of a long list.
        for aid, why in sorted(plan.not_open.items()):
            acc = plan.accounts.get(aid, {})
            item = QListWidgetItem(f"{acc.get('name', aid)} ({acc.get('tier') or '-'}): due, but {why}")
            item.setToolTip(item.text())
            # Not a stop of this plan (no day will do), so it cannot be moved onto a day.
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsSelectable)
            self.unserved.addItem(item)
        for u in plan.result.unserved:
            acc = plan.accounts.get(u.stop_id, {})
            item = QListWidgetItem(f"{acc.get('name', u.stop_id)} ({acc.get('tier') or '-'}): {u.reason}")
            item.setToolTip(item.text())  # the reason's figures are past the list's width
            item.setData(Qt.ItemDataRole.UserRole, u.stop_id)
            self.unserved.addItem(item)
        r = plan.result
        state = "Saved plan" if saved else ("Edited plan" if r.engine == "check" else "Plan")
        self.summary.setText(f"{state} for {plan.rep['name']}: {len(r.served)} visits over "
                             f"{sum(1 for x in r.routes if x.visits)} days, {r.drive_minutes / 60:.1f} h driving, "
                             f"{r.distance / 1609.344:,.0f} mi; {len(r.unserved)} not planned."
                             + (f" {len(plan.not_open)} due account{'s have' if len(plan.not_open) != 1 else ' has'} "
                                "no day here it may be visited on (closed or not a visit weekday)."
                                if plan.not_open else "")
                             + (" Stopped early: best plan so far." if r.stopped_by == "cancelled" else "")
                             + "".join(f"\n{plan.problem.shift(day).day} is {plan.fill(day):.0%} full: {why}."
                                       for day, why in plan.notes.items())
                             + "".join(f"\n{d:%a %d %b}: {why}." for d, why in sorted(plan.skipped.items())
                                       if why != "weekend"))
        problems = [f"{x.shift_id}: {w}" for x in r.routes for w in x.warnings]
        self.warnings.setText("\n".join(problems[:12]) + (f"\n… and {len(problems) - 12} more" if len(problems) > 12 else ""))
        self._update_buttons()

    def set_orders(self, orders: dict[str, list[Any]], selected: Any = None) -> None:
        """A hand edit: re-time at once (no search) and flag late arrivals, closed accounts and limits."""
        if self.plan is None:
            return
        self.route_ids = []
        self._show(with_order(self.plan, orders, self.locked), selected=selected)

    def _where(self, stop_id: Any) -> tuple[str, int] | None:
        for day, ids in self.orders.items():
            if stop_id in ids:
                return day, ids.index(stop_id)
        return None

    def _shift_selected(self, delta: int) -> None:
        sid = self.tree.selected_stop()
        where = self._where(sid) if sid is not None else None
        if where is None:
            return
        day, pos = where
        ids = list(self.orders[day])
        new = pos + delta
        if not 0 <= new < len(ids):
            return
        ids[pos], ids[new] = ids[new], ids[pos]
        self.set_orders({**self.orders, day: ids}, selected=sid)

    def move_stop(self, stop_id: Any, day: str, position: int | None = None) -> None:
        """Move a visit (or an unplanned account) to `day` at `position` (end by default)."""
        orders = {d: [x for x in ids if x != stop_id] for d, ids in self.orders.items()}
        target = orders.setdefault(day, [])
        target.insert(len(target) if position is None else position, stop_id)
        self.set_orders(orders, selected=stop_id)

    def _move_to_day(self) -> None:
        sid = self.tree.selected_stop()
        if sid is None:
            item = self.unserved.currentItem()
            sid = item.data(Qt.ItemDataRole.UserRole) if item else None
        if sid is not None and self.move_day.currentData():
            self.move_stop(sid, self.move_day.currentData())

    def _toggle_lock(self) -> None:
        sid = self.tree.selected_stop()
        if sid is None:
            return
        self.locked ^= {sid}
        self.set_orders(self.orders, selected=sid)

    def _leave_out(self) -> None:
        sid = self.tree.selected_stop()
        if sid is None:
            return
        self.locked.discard(sid)
        self.set_orders({d: [x for x in ids if x != sid] for d, ids in self.orders.items()})

    def _update_buttons(self) -> None:
        has = self.plan is not None and not self.solving.running
        for w in (self.up_button, self.down_button, self.move_button, self.lock_button, self.remove_button,
                  self.reopt_button, self.accept_button, self.ics_button, self.gpx_button, self.links_button):
            w.setEnabled(has)
        self.map_button.setEnabled(bool(self.route_ids))
        self.map_button.setToolTip("Draw the saved routes on the map" if self.route_ids
                                   else "Accept the plan first: the map draws saved routes")

    # --- accepting and exporting ---------------------------------------------------------------------
    def accept(self) -> None:
        if self.plan is None:
            return
        warned = [w for r in self.plan.result.routes for w in r.warnings]
        if warned and QMessageBox.question(
                self, "Accept plan", f"This plan has {len(warned)} problems (late arrivals, closed accounts or "
                                     f"limits). Accept it anyway?") != QMessageBox.StandardButton.Yes:
            return
        changes = accept(self.ctx.store, self.plan)
        self.ctx.apply(changes)
        saved = load_accepted(self.ctx.store, self.plan.rep["id"], self.start_date(), self.days.value())
        self.route_ids = list(saved.result.extra.get("route_ids", [])) if saved else []
        self.summary.setText(self.summary.text() + f"\nSaved: {changes.note}.")
        self._update_buttons()

    def show_on_map(self) -> None:
        if self.route_ids:
            # Navigate first: the Map view may only be created on first visit and must hear the request.
            self.ctx.navigate.emit("map")
            self.ctx.show_on_map.emit({"route_ids": list(self.route_ids)})

    def _export(self, kind: str) -> None:
        if self.plan is None:
            return
        suggested = f"visits-{self.plan.start.isoformat()}.{kind}"
        path, _ = QFileDialog.getSaveFileName(self, f"Export {kind.upper()}", suggested,
                                              "Calendar (*.ics)" if kind == "ics" else "GPX (*.gpx)")
        if path:
            self.export_to(kind, path)

    def export_to(self, kind: str, path: str):
        """Write the export on a worker (temp file + rename, so a failure leaves nothing half-written)."""
        plan = self.plan

        def work(progress):
            from pathlib import Path

            from core.exports import plan_to_gpx, plan_to_ics
            from core.files import write_atomically

            data = plan_to_ics(plan) if kind == "ics" else plan_to_gpx(plan).encode("utf-8")
            write_atomically(path, lambda tmp: Path(tmp).write_bytes(data))
            return path

        return BackgroundWork.once(self, self.ctx.tasks, f"Exporting {kind.upper()}", work,
                                   lambda p: self.summary.setText(self.summary.text() + f"\nWrote {p}."),
                                   errors=lambda text: QMessageBox.warning(self, "Export", text),
                                   error=lambda exc: f"Could not write {path}: {exc}")

    def _copy_links(self) -> None:
        if self.plan is None:
            return
        from core.exports import MAX_WAYPOINTS, plan_links

        links = plan_links(self.plan)
        text = "\n".join(f"{day}:\n" + "\n".join(urls) for day, urls in links.items())
        QGuiApplication.clipboard().setText(text)
        self.summary.setText(self.summary.text() + f"\nCopied {sum(len(u) for u in links.values())} links "
                                                   f"(≤{MAX_WAYPOINTS} stops between start and end each).")


def for_screenshot(plan_view: PlanView, rep: str, start: date, days: int, seconds: float = 2.0) -> WeekTab:
    """`fieldatlas screenshot --view plan --rep R --start D --days N`: the Week plan tab solving that plan;
    returns the tab to wait for (ready once the plan is shown)."""
    week = plan_view.week
    plan_view.setCurrentWidget(week)
    wanted = rep.casefold()
    index = next((i for i in range(week.rep.count())
                  if wanted in (week.rep.itemData(i) or {}).get("name", "").casefold()
                  or wanted == str((week.rep.itemData(i) or {}).get("id"))), -1)
    if index < 0:
        raise ValueError(f"--rep: no field rep matches {rep!r}")
    week.rep.setCurrentIndex(index)
    week.start.setDate(QDate(start.year, start.month, start.day))
    week.days.setValue(days)
    week.seconds.setValue(seconds)
    week.solve()
    return week
