"""Mileage & Expenses: trips (with "Add from today's route"), expenses with receipt preview, reports with Submit/Approve/Reject, totals."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QSize, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDateEdit, QFileDialog, QHBoxLayout, QHeaderView,
                               QInputDialog, QLabel, QLineEdit, QListWidget, QMessageBox, QPushButton, QSplitter,
                               QTableView,
                               QTabWidget, QVBoxLayout, QWidget)

from core.changes import Changes
from core.expenses import (ExpenseError, approve, attach_receipt, audit_trail, build_period, delete_expense,
                           delete_trip, reject, report_totals, submit, update_trip)
from core.expenses.common import today_utc
from core.expenses.exports import export_expenses, export_mileage, money
from core.expenses.receipts import receipt_path
from core.expenses.reports import PeriodReport, list_reports
from core.money import format_cents
from desktop.background import BackgroundWork
from desktop.context import AppContext
from desktop.expenses.dialogs import EditExpenseDialog, ExpenseDialog, RatesDialog, TripDialog
from desktop.territories.editor import NOBODY, combo_value, select_value
from desktop.territories.tables import RowsModel
from desktop.tasks import open_worker_store

TRIP_COLUMNS = ("Date", "Rep", "Start", "Destination", "Business purpose", "Miles", "Km", "Rate", "Amount", "Kind",
                "Vehicle", "Report")
EXPENSE_COLUMNS = ("Date", "Rep", "Category", "Merchant", "Amount", "Receipt", "Purpose / notes", "Report")
REPORT_COLUMNS = ("Month", "Rep", "State", "Trips", "Expenses", "Total", "Decided by", "Note")
TABLES_WATCHED = frozenset({"trips", "expenses", "expense_reports", "attachments", "rate_tables", "reps"})


def create_view(ctx: AppContext) -> QWidget:
    return ExpensesView(ctx)


def _table(model: RowsModel, name: str) -> QTableView:
    t = QTableView()
    t.setObjectName(name)
    t.setModel(model)
    t.verticalHeader().hide()
    t.setWordWrap(False)
    t.verticalHeader().setDefaultSectionSize(22)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    t.horizontalHeader().setStretchLastSection(True)
    return t


def _months_around(today: date, n: int = 12) -> list[str]:
    out, y, m = [], today.year, today.month
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out


class ExpensesView(QWidget):
    """Whose items, which month, who is acting; three tabs and the month's totals."""

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setObjectName("expenses-view")
        self.period: PeriodReport | None = None
        self.people: list[dict[str, Any]] = []

        self.acting = QComboBox()
        self.acting.setObjectName("expenses-acting-as")
        self.acting.setToolTip("Who is using FieldAtlas: a rep logs and submits, a manager approves or rejects")
        self.rep = QComboBox()
        self.rep.setObjectName("expenses-rep")
        self.month = QComboBox()
        self.month.setObjectName("expenses-month")
        for combo in (self.acting, self.rep, self.month):
            combo.currentIndexChanged.connect(self._filters_changed)
        self.totals = QLabel("")
        self.totals.setObjectName("expenses-totals")
        self.totals.setWordWrap(True)
        self.status = QLabel("")
        self.status.setObjectName("expenses-status")
        self.status.setWordWrap(True)
        bar = QHBoxLayout()
        for label, w in (("Acting as", self.acting), ("Rep", self.rep), ("Month", self.month)):
            bar.addWidget(QLabel(label))
            bar.addWidget(w)
        bar.addStretch(1)

        self.tabs = QTabWidget()
        self.tabs.addTab(self._trips_tab(), "Trips")
        self.tabs.addTab(self._expenses_tab(), "Expenses")
        self.tabs.addTab(self._reports_tab(), "Reports")

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.totals)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)
        ctx.changed.connect(self._on_changed)
        self._load_people()
        self.refresh()

    # --- tabs --------------------------------------------------------------------------------
    def _trips_tab(self) -> QWidget:
        w = QWidget()
        self.route_day = QDateEdit()
        self.route_day.setObjectName("route-day")
        self.route_day.setCalendarPopup(True)
        self.route_day.setDisplayFormat("yyyy-MM-dd")
        t = today_utc()
        self.route_day.setDate(QDate(t.year, t.month, t.day))
        self.from_route_button = QPushButton("Add from today's route")
        self.from_route_button.setObjectName("trips-from-route")
        self.from_route_button.setToolTip("One trip per leg of the day's accepted route (or visits), purpose from the accounts")
        self.from_route_button.clicked.connect(lambda: self.add_from_route())
        self.route_day.dateChanged.connect(self._route_day_changed)
        self.week_button = QPushButton("Add the week so far")
        self.week_button.setObjectName("trips-week")
        self.week_button.setToolTip("Every working day from that week's Monday to the chosen day; days already "
                                    "logged or without visits are skipped")
        self.week_button.clicked.connect(lambda: self.add_from_route(week=True))
        self.logging_trips = BackgroundWork(self, self.ctx.tasks, "Trips from the route",
                                            errors=lambda text: self._say(text, error=True))
        self.logging_trips.ended.connect(lambda: [b.setEnabled(True) for b in (self.from_route_button,
                                                                                self.week_button)])
        self.add_trip_button = QPushButton("Add trip…")
        self.add_trip_button.clicked.connect(self.add_trip_clicked)
        self.rates_button = QPushButton("Mileage rates…")
        self.rates_button.setToolTip("IRS, CRA and HMRC rates by date; set next year's, and choose the rep's scheme")
        self.rates_button.clicked.connect(self.rates_clicked)
        self.kind_combo = QComboBox()
        self.kind_combo.addItems(["business", "commute", "personal"])
        self.mark_button = QPushButton("Mark as")
        self.mark_button.setObjectName("trips-mark")
        self.mark_button.clicked.connect(self.mark_selected_trips)
        self.edit_purpose_button = QPushButton("Edit purpose…")
        self.edit_purpose_button.clicked.connect(self.edit_purpose_clicked)
        self.delete_trip_button = QPushButton("Delete trip")
        self.delete_trip_button.clicked.connect(self.delete_selected_trips)
        top = QHBoxLayout()
        top.addWidget(self.route_day)
        top.addWidget(self.from_route_button)
        top.addWidget(self.week_button)
        top.addWidget(self.add_trip_button)
        top.addWidget(self.rates_button)
        top.addStretch(1)
        # The editing buttons get their own row so the section never widens the window.
        edit_row = QHBoxLayout()
        edit_row.addStretch(1)
        edit_row.addWidget(QLabel("Selected trips:"))
        edit_row.addWidget(self.mark_button)
        edit_row.addWidget(self.kind_combo)
        edit_row.addWidget(self.edit_purpose_button)
        edit_row.addWidget(self.delete_trip_button)
        self.trip_model = RowsModel(TRIP_COLUMNS, right_aligned=(5, 6, 7, 8), parent=self)
        self.trip_table = _table(self.trip_model, "trips-table")
        self.trip_table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.trip_table.doubleClicked.connect(lambda _i: self.edit_purpose_clicked())
        for col, width in enumerate((80, 110, 130, 220, 300, 60, 60, 60, 80, 70, 90)):
            self.trip_table.setColumnWidth(col, width)
        layout = QVBoxLayout(w)
        layout.addLayout(top)
        layout.addLayout(edit_row)
        layout.addWidget(self.trip_table, 1)
        return w

    def _expenses_tab(self) -> QWidget:
        w = QWidget()
        self.add_expense_button = QPushButton("Add expense…")
        self.add_expense_button.clicked.connect(self.add_expense_clicked)
        self.edit_expense_button = QPushButton("Edit expense…")
        self.edit_expense_button.clicked.connect(self.edit_expense_clicked)
        self.attach_button = QPushButton("Attach receipt…")
        self.attach_button.clicked.connect(self.attach_clicked)
        self.delete_expense_button = QPushButton("Delete expense")
        self.delete_expense_button.clicked.connect(self.delete_selected_expense)
        top = QHBoxLayout()
        top.addWidget(self.add_expense_button)
        top.addWidget(self.edit_expense_button)
        top.addWidget(self.attach_button)
        top.addStretch(1)
        top.addWidget(self.delete_expense_button)
        self.expense_model = RowsModel(EXPENSE_COLUMNS, right_aligned=(4,), parent=self)
        self.expense_table = _table(self.expense_model, "expenses-table")
        self.expense_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.expense_table.selectionModel().selectionChanged.connect(lambda *_: self._show_receipt())
        self.expense_table.doubleClicked.connect(lambda *_: self.edit_expense_clicked())
        for col, width in enumerate((80, 110, 80, 150, 80, 240, 220)):
            self.expense_table.setColumnWidth(col, width)
        self.preview = QLabel("Select an expense to see its receipt")
        self.preview.setObjectName("receipt-preview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumWidth(280)
        self.preview.setWordWrap(True)
        self.preview_caption = QLabel("")
        self.preview_caption.setWordWrap(True)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.addWidget(QLabel("<b>Receipt</b>"))
        rl.addWidget(self.preview, 1)
        rl.addWidget(self.preview_caption)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.expense_table)
        split.addWidget(right)
        split.setSizes([900, 320])
        layout = QVBoxLayout(w)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        return w

    def _reports_tab(self) -> QWidget:
        w = QWidget()
        self.submit_button = QPushButton("Submit")
        self.submit_button.setObjectName("report-submit")
        self.submit_button.clicked.connect(self.submit_clicked)
        self.approve_button = QPushButton("Approve")
        self.approve_button.setObjectName("report-approve")
        self.approve_button.clicked.connect(self.approve_clicked)
        self.reason = QLineEdit()
        self.reason.setObjectName("report-reason")
        self.reason.setPlaceholderText("Reason to reject (the rep sees it)")
        self.reject_button = QPushButton("Reject")
        self.reject_button.setObjectName("report-reject")
        self.reject_button.clicked.connect(self.reject_clicked)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("The shown month as XLSX, CSV or PDF (the PDF with receipts)")
        self.export_button.clicked.connect(self.export_clicked)
        top = QHBoxLayout()
        top.addWidget(self.submit_button)
        top.addWidget(self.approve_button)
        top.addWidget(self.reason, 1)
        top.addWidget(self.reject_button)
        top.addWidget(self.export_button)
        self.report_model = RowsModel(REPORT_COLUMNS, right_aligned=(3, 4, 5), parent=self)
        self.report_table = _table(self.report_model, "reports-table")
        self.report_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.report_table.selectionModel().selectionChanged.connect(lambda *_: self._show_audit())
        for col, width in enumerate((70, 130, 80, 50, 70, 100, 130)):
            self.report_table.setColumnWidth(col, width)
        self.audit = QListWidget()
        self.audit.setObjectName("report-audit")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.report_table)
        box = QWidget()
        bl = QVBoxLayout(box)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addWidget(QLabel("<b>Audit trail</b> (who did what, when; it cannot be edited)"))
        bl.addWidget(self.audit)
        split.addWidget(box)
        split.setSizes([420, 220])
        layout = QVBoxLayout(w)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        return w

    # --- data --------------------------------------------------------------------------------
    def _load_people(self) -> None:
        self.people = [dict(r) for r in self.ctx.store.query(
            "SELECT id, name, role FROM reps WHERE deleted_at IS NULL AND active = 1 ORDER BY role = 'rep', name")]
        for combo in (self.acting, self.rep, self.month):
            combo.blockSignals(True)
        acting, rep, month = combo_value(self.acting), combo_value(self.rep), combo_value(self.month)
        self.acting.clear()
        self.rep.clear()
        self.rep.addItem("Everyone", NOBODY)
        for p in self.people:
            self.acting.addItem(f"{p['name']} ({p['role']})", p["id"])
            self.rep.addItem(p["name"], p["id"])
        if acting is None:
            acting = (self.ctx.settings.extra or {}).get("acting_as")
            if acting is None:
                reps = [p for p in self.people if p["role"] == "rep"]
                acting = reps[0]["id"] if reps else (self.people[0]["id"] if self.people else None)
        select_value(self.acting, acting)
        if rep is None and not self.rep.property("chosen"):
            me = self._actor()
            rep = me["id"] if me and me["role"] == "rep" else None
        select_value(self.rep, rep)
        self.month.clear()
        for m in _months_around(today_utc()):
            self.month.addItem(m, m)
        select_value(self.month, month or today_utc().strftime("%Y-%m"))
        for combo in (self.acting, self.rep, self.month):
            combo.blockSignals(False)

    def _actor(self) -> dict[str, Any] | None:
        pid = combo_value(self.acting)
        return next((p for p in self.people if p["id"] == pid), None)

    def _filters_changed(self) -> None:
        if self.sender() is self.rep:
            self.rep.setProperty("chosen", True)
        if self.sender() is self.acting:
            me = self._actor()
            if me and me["role"] == "rep" and not self.rep.property("chosen"):
                select_value(self.rep, me["id"])
        self.refresh()

    def _on_changed(self, changes: Changes) -> None:
        if changes.tables & TABLES_WATCHED:
            if changes.touched("reps"):
                self._load_people()
            self.refresh()

    def set_filters(self, *, acting: int | None = None, rep: int | None = -2, month: str | None = None) -> None:
        """Choose who is acting, whose items and which month (what a user does with the three combos)."""
        if acting is not None:
            select_value(self.acting, acting)
        if rep != -2:
            self.rep.setProperty("chosen", True)
            select_value(self.rep, rep)
        if month is not None:
            if self.month.findData(month) < 0:
                self.month.addItem(month, month)
            select_value(self.month, month)
        self.refresh()

    def refresh(self) -> None:
        period = combo_value(self.month)
        if not period:
            return
        rep_id = combo_value(self.rep)
        try:
            self.period = p = build_period(self.ctx.store, period, rep_id)
        except ExpenseError as exc:
            self.status.setText(str(exc))
            return
        self.trip_model.set_rows([
            (t["day"], t["rep_name"], t["start_place"] or "", t["end_place"] or "", t["purpose"] or "",
             f"{t['miles']:,.1f}", f"{t['km']:,.1f}", t["pay"].rate_text(),
             format_cents(t["amount_cents"], t["currency"]), t["kind"], t["vehicle"] or "",
             t["report_state"] or "not on a report") for t in p.trips], [t["id"] for t in p.trips],
            flagged={(i, 9) for i, t in enumerate(p.trips) if t["kind"] != "business"})
        self.expense_model.set_rows([
            (e["day"], e["rep_name"], e["category"], e["merchant"] or "", format_cents(e["amount_cents"], e["currency"]),
             (e["receipt_filename"] or ("per diem" if e["per_diem"] else "none"))
             + (f" (same as #{e['duplicate_of']})" if e["duplicate_of"] else ""),
             e["business_purpose"] or e["notes"] or "", e["report_state"] or "not on a report") for e in p.expenses],
            [e["id"] for e in p.expenses],
            flagged={(i, 5) for i, e in enumerate(p.expenses) if e["duplicate_of"]})
        # One rep's items need no Rep column; everyone's do.
        self.trip_table.setColumnHidden(1, rep_id is not None)
        self.expense_table.setColumnHidden(1, rep_id is not None)
        reports = list_reports(self.ctx.store, period=period, rep_id=rep_id)
        self.report_model.set_rows([
            (r["period"], r["rep_name"], r["state"], r["trips"], r["expenses"],
             money(report_totals(self.ctx.store, r["id"])), r["decided_by_name"] or "", r["decision_note"] or "")
            for r in reports], [r["id"] for r in reports],
            flagged={(i, 2) for i, r in enumerate(reports) if r["state"] == "rejected"})
        self._reports = {r["id"]: r for r in reports}
        business = [t for t in p.trips if t["kind"] == "business"]
        miles = sum(t["miles"] for t in business)
        who = next((x["name"] for x in self.people if x["id"] == rep_id), "Everyone")
        self.totals.setText(
            f"<b>{period} · {who}</b>: {len(p.trips):,} trip{'' if len(p.trips) == 1 else 's'} ({len(business):,} business, {miles:,.1f} mi) · "
            f"mileage {money(p.mileage_totals)} · {len(p.expenses):,} expenses {money(p.expense_totals)} · "
            f"<b>total {money(p.totals)}</b>")
        self._show_audit()
        self._show_receipt()
        self._update_buttons()

    def _update_buttons(self) -> None:
        me = self._actor()
        manager = bool(me and me["role"] in ("manager", "admin"))
        self.approve_button.setEnabled(manager)
        self.reject_button.setEnabled(manager)
        self.reason.setEnabled(manager)
        tip = "" if manager else "Only a manager or an admin can approve or reject"
        self.approve_button.setToolTip(tip)
        self.reject_button.setToolTip(tip)
        has_rep = combo_value(self.rep) is not None
        for b in (self.add_trip_button, self.add_expense_button, self.from_route_button, self.week_button):
            b.setEnabled(has_rep)
            b.setToolTip("" if has_rep else "Choose whose trips and expenses these are (Rep)")

    def _route_day_changed(self) -> None:
        d = self.route_day.date().toPython()
        self.from_route_button.setText("Add from today's route" if d == today_utc() else f"Add from the route of {d:%b %d}")

    # --- selections --------------------------------------------------------------------------
    def _selected(self, table: QTableView, model: RowsModel) -> list[int]:
        rows = sorted({i.row() for i in table.selectionModel().selectedRows()})
        return [k for k in (model.key(r) for r in rows) if k is not None]

    def selected_report(self) -> int | None:
        ids = self._selected(self.report_table, self.report_model)
        if ids:
            return ids[0]
        return self.report_model.key(0) if self.report_model.rowCount() == 1 else None

    def _show_audit(self) -> None:
        self.audit.clear()
        rid = self.selected_report()
        if rid is None:
            return
        trail = audit_trail(self.ctx.store, rid)
        if not trail:
            self.audit.addItem("No entries: this report was written before its audit trail began (e.g. demo data)")
        for a in trail:
            detail = a["detail"].get("reason") or a["detail"].get("note") or ""
            self.audit.addItem(f"{a['at'].replace('T', ' ')[:16]} UTC  {a['actor_name'] or '?'}: {a['action']}"
                               + (f" — {detail}" if detail else ""))

    def _show_receipt(self) -> None:
        ids = self._selected(self.expense_table, self.expense_model)
        e = next((x for x in (self.period.expenses if self.period else []) if ids and x["id"] == ids[0]), None)
        self.preview.setPixmap(QPixmap())
        if e is None:
            self.preview.setText("Select an expense to see its receipt")
            self.preview_caption.setText("")
            return
        self.preview_caption.setText(f"#{e['id']} {e['day']} {e['merchant'] or e['category']} "
                                     f"{format_cents(e['amount_cents'], e['currency'])}"
                                     + (f"<br><span style='color:#b00020'>Same receipt file as expense "
                                        f"#{e['duplicate_of']}</span>" if e["duplicate_of"] else ""))
        if not e["receipt_sha256"]:
            self.preview.setText("Per diem: no receipt needed" if e["per_diem"] else "No receipt attached")
            return
        path = receipt_path(self.ctx.store, e["receipt_sha256"], e["receipt_mime"])
        image = self._receipt_image(path, e["receipt_mime"])
        if image is None:
            self.preview.setText(f"{e['receipt_filename']}\n(file missing from {path.parent})" if not path.exists()
                                 else f"{e['receipt_filename']} (PDF)")
            return
        box = self.preview.size()
        self.preview.setPixmap(image.scaled(QSize(max(box.width(), 200), max(box.height(), 260)),
                                            Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.SmoothTransformation))

    @staticmethod
    def _receipt_image(path: Path, mime: str) -> QPixmap | None:
        if not path.exists():
            return None
        if mime == "application/pdf":
            try:
                from PySide6.QtPdf import QPdfDocument
            except ImportError:
                return None
            doc = QPdfDocument()
            doc.load(str(path))
            if doc.pageCount() < 1:
                return None
            size = doc.pagePointSize(0)
            img = doc.render(0, QSize(int(size.width() * 1.5), int(size.height() * 1.5)))
            doc.close()
            return QPixmap.fromImage(img) if not img.isNull() else None
        pix = QPixmap(str(path))
        return None if pix.isNull() else pix

    # --- actions -----------------------------------------------------------------------------
    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet("color: #b00020" if error else "")
        self.status.setText(text)

    def _do(self, fn) -> bool:
        try:
            changes = fn()
        except ExpenseError as exc:
            self._say(str(exc), error=True)
            return False
        self.ctx.apply(changes)
        self._say(changes.note if changes and changes.note else "Done")
        return True

    def _actor_id(self) -> int | None:
        me = self._actor()
        return me["id"] if me else None

    def add_from_route(self, week: bool = False, existing: str = "refuse", days: list[date] | None = None) -> None:
        """Log the chosen day's (or its week's) route leg by leg on a worker: the travel matrix may ask a server.

        A day that already has trips typed by hand is not logged at once: the rep is asked whether
        those are the same driving (replace them with the legs, in one step) or other driving (keep both).
        """
        rep_id = combo_value(self.rep)
        if rep_id is None:
            return
        day = self.route_day.date().toPython()
        path, actor, routing_url = self.ctx.store.path, self._actor_id(), self.ctx.settings.routing_url
        buttons = (self.from_route_button, self.week_button)
        for b in buttons:
            b.setEnabled(False)
        self._say(f"Logging the route{'s of the week to' if week else ' of'} {day.isoformat()}…")

        def work(progress):
            from core.expenses import DayAlreadyLogged, add_trips_for_days, add_trips_from_route
            from core.expenses.trips import describe_trips, hand_logged_trips, week_so_far
            from core.routing.matrix import provider_for

            matrix = provider_for(routing_url)
            with open_worker_store(path) as store:
                if not week:
                    try:
                        return add_trips_from_route(store, rep_id, day, matrix=matrix, actor_id=actor,
                                                    existing=existing)[1], [], []
                    except DayAlreadyLogged as exc:
                        return Changes(), [], [(date.fromisoformat(exc.day), describe_trips(exc.trips))]
                wanted = days if days is not None else week_so_far(store, rep_id, day)
                ids, skipped, changes = add_trips_for_days(store, rep_id, wanted, matrix=matrix, actor_id=actor,
                                                           existing=existing)
                # Days refused only because trips were typed by hand: the rep decides about those.
                refused = {d for d in wanted if any(s.startswith(d.isoformat()) for s in skipped)}
                conflicts = [(d, describe_trips(trips)) for d in sorted(refused)
                             if (trips := hand_logged_trips(store, rep_id, d)) and existing == "refuse"]
                conflict_days = {d.isoformat() for d, _ in conflicts}
                skipped = [s for s in skipped if s[:10] not in conflict_days]
                if not ids and not conflicts:
                    raise ExpenseError("Nothing to log: " + "; ".join(skipped))
                return changes, skipped, conflicts

        def done(result) -> None:
            changes, skipped, conflicts = result
            if changes.rows:
                self.ctx.apply(changes)
                self._say(changes.note + (f"; skipped {len(skipped)}: " + "; ".join(skipped) if skipped else "")
                          + " — purposes come from the visited accounts; double-click a trip to edit one")
            if not conflicts:
                return
            choice = self.ask_about_typed_trips(conflicts)
            if choice is None:
                self._say("Not logged: " + "; ".join(f"{d.isoformat()} already has {text}" for d, text in conflicts)
                          + ". Nothing was changed on those days.")
                return
            self.add_from_route(week=week, existing=choice, days=[d for d, _ in conflicts])

        self.logging_trips.start(work, done)

    def ask_about_typed_trips(self, conflicts: list[tuple[date, str]]) -> str | None:
        """Ask whether the trips typed on those days are the route's driving: 'replace', 'keep' or None (cancel)."""
        box, replace, keep = self.typed_trips_box(conflicts)
        box.exec()
        clicked = box.clickedButton()
        return "replace" if clicked is replace else "keep" if clicked is keep else None

    def typed_trips_box(self, conflicts: list[tuple[date, str]]) -> tuple[QMessageBox, QPushButton, QPushButton]:
        """The question, with its Replace and Keep both buttons (Cancel changes nothing)."""
        lines = "\n".join(f"{d:%a %b %d}: {text}" for d, text in conflicts)
        box = QMessageBox(QMessageBox.Icon.Question, "Trips already logged",
                          f"These days already have trips typed by hand:\n{lines}\n\n"
                          "If they are the same driving as the route, logging both pays those miles twice.",
                          parent=self)
        replace = box.addButton("Replace them with the route", QMessageBox.ButtonRole.AcceptRole)
        keep = box.addButton("Keep both (other driving)", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(replace)
        return box, replace, keep

    def add_trip_clicked(self) -> None:
        rep_id = combo_value(self.rep)
        if rep_id is None:
            return
        dialog = TripDialog(self.ctx.store, rep_id, self._actor_id(), today_utc(), self)
        if dialog.exec() and dialog.changes is not None:
            self.ctx.apply(dialog.changes)
            self._say(dialog.changes.note)

    def rates_dialog(self) -> RatesDialog:
        rep_id = combo_value(self.rep)
        rep = (dict(self.ctx.store.conn.execute("SELECT id, name, mileage_scheme FROM reps WHERE id = ?",
                                                (rep_id,)).fetchone()) if rep_id is not None else None)
        return RatesDialog(self.ctx.store, rep, self)

    def rates_clicked(self) -> None:
        dialog = self.rates_dialog()
        dialog.exec()
        for changes in dialog.changes:
            self.ctx.apply(changes)

    def add_expense_clicked(self) -> None:
        rep_id = combo_value(self.rep)
        if rep_id is None:
            return
        dialog = ExpenseDialog(self.ctx.store, rep_id, self._actor_id(), today_utc(), self.ctx.settings.currency, self)
        if dialog.exec() and dialog.changes is not None:
            self.ctx.apply(dialog.changes)
            self._say(dialog.changes.note)

    def edit_expense_dialog(self) -> EditExpenseDialog | None:
        """The edit form for the selected expense (None, with a word why, when nothing is selected)."""
        ids = self._selected(self.expense_table, self.expense_model)
        row = next((e for e in self.period.expenses if ids and e["id"] == ids[0]), None) if self.period else None
        if row is None:
            self._say("Select the expense to edit", error=True)
            return None
        return EditExpenseDialog(self.ctx.store, row, self._actor_id(), self)

    def edit_expense_clicked(self) -> None:
        dialog = self.edit_expense_dialog()
        if dialog is not None and dialog.exec() and dialog.changes is not None:
            self.ctx.apply(dialog.changes)
            self._say(dialog.changes.note)

    def mark_selected_trips(self) -> None:
        kind = self.kind_combo.currentText()
        ids = self._selected(self.trip_table, self.trip_model)

        def run():
            out = Changes()
            with self.ctx.store.atomic():
                for tid in ids:
                    out = out.merge(update_trip(self.ctx.store, tid, {"kind": kind}, actor_id=self._actor_id()))
            return Changes(out.rows, f"{len(ids)} trips marked {kind}")
        if ids:
            self._do(run)

    def edit_purpose_clicked(self) -> None:
        ids = self._selected(self.trip_table, self.trip_model)
        if not ids:
            return
        trip = next(t for t in self.period.trips if t["id"] == ids[0])
        text, ok = QInputDialog.getText(self, "Business purpose", "Business purpose of this trip:",
                                        text=trip["purpose"] or "")
        if ok:
            self.set_trip_purpose(ids[0], text)

    def set_trip_purpose(self, trip_id: int, text: str) -> bool:
        return self._do(lambda: update_trip(self.ctx.store, trip_id, {"purpose": text.strip()},
                                            actor_id=self._actor_id()))

    def delete_selected_trips(self) -> None:
        ids = self._selected(self.trip_table, self.trip_model)

        def run():
            with self.ctx.store.atomic():
                for tid in ids:
                    delete_trip(self.ctx.store, tid, actor_id=self._actor_id())
            return Changes.of("trips", ids, f"{len(ids)} trips deleted")
        if ids:
            self._do(run)

    def attach_clicked(self) -> None:
        ids = self._selected(self.expense_table, self.expense_model)
        if not ids:
            self._say("Select the expense the receipt belongs to", error=True)
            return
        path, _ = QFileDialog.getOpenFileName(self, "Receipt", "", "Receipts (*.jpg *.jpeg *.png *.pdf);;All files (*)")
        if path:
            self.attach_receipt(ids[0], path)

    def attach_receipt(self, expense_id: int, path: str) -> bool:
        return self._do(lambda: attach_receipt(self.ctx.store, expense_id, path, actor_id=self._actor_id()))

    def delete_selected_expense(self) -> None:
        ids = self._selected(self.expense_table, self.expense_model)
        if ids:
            self._do(lambda: delete_expense(self.ctx.store, ids[0], actor_id=self._actor_id()))

    def _report_action(self, fn) -> None:
        rid = self.selected_report()
        if rid is None:
            self._say("Select a report", error=True)
            return
        actor = self._actor_id()
        if actor is None:
            self._say("Choose who is acting", error=True)
            return
        if self._do(lambda: fn(rid, actor)):
            row = next((r for r, k in enumerate(self.report_model.keys) if k == rid), None)
            if row is not None:
                self.report_table.selectRow(row)

    def submit_clicked(self) -> None:
        self._report_action(lambda rid, actor: submit(self.ctx.store, rid, actor))

    def approve_clicked(self) -> None:
        self._report_action(lambda rid, actor: approve(self.ctx.store, rid, actor))

    def reject_clicked(self) -> None:
        reason = self.reason.text()
        self._report_action(lambda rid, actor: reject(self.ctx.store, rid, actor, reason))
        if self.status.styleSheet() == "":
            self.reason.clear()

    def export_clicked(self) -> None:
        period = combo_value(self.month)
        path, chosen = QFileDialog.getSaveFileName(
            self, "Export the month", f"expenses-{period}.xlsx",
            "Expenses XLSX (*.xlsx);;Expenses CSV (*.csv);;Expense report PDF with receipts (*.pdf);;"
            "Mileage log XLSX (*.xlsx);;Mileage log CSV (*.csv);;Mileage log PDF (*.pdf)")
        if path:
            self.export(path, "mileage" if chosen.startswith("Mileage") else "expenses")

    def export(self, out: str, what: str = "expenses") -> None:
        """Write the shown month on a worker with its own connection; the status line says where it went."""
        period, rep_id, db = combo_value(self.month), combo_value(self.rep), self.ctx.store.path

        def work(progress):
            with open_worker_store(db) as store:
                report = build_period(store, period, rep_id)
                write = export_expenses if what == "expenses" else export_mileage
                return write(store, report, out)

        self._say(f"Exporting {what} for {period}…")
        BackgroundWork.once(self, self.ctx.tasks, f"Export {what}", work,
                            lambda n: self._say(f"Wrote {n:,} {'trips' if what == 'mileage' else 'expenses'} to {out}"),
                            errors=lambda text: self._say(text, error=True))
