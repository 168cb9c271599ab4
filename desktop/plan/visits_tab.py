"""The Visits tab: a rep's visits on one day, with check-in, check-out (outcome and notes) and missed, offline."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDateEdit, QHBoxLayout, QLabel, QLineEdit, QMessageBox,
                               QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from core import defaults
from core.planning import OUTCOMES, check_in, check_out, mark_missed, visits_on
from core.reps import list_reps
from desktop.context import AppContext


def _local(utc_text: str | None, tz: ZoneInfo) -> str:
    """'2026-11-30T14:04:00Z' as '08:04' in the rep's zone ('' when missing)."""
    if not utc_text:
        return ""
    return datetime.fromisoformat(utc_text.replace("Z", "+00:00")).astimezone(tz).strftime("%H:%M")


class VisitsTab(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.rep = QComboBox()
        for r in list_reps(ctx.store):
            if r["role"] == "rep":
                self.rep.addItem(r["name"], r)
        self.day = QDateEdit(QDate.currentDate())
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("ddd d MMM yyyy")
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Planned", "Account", "Status", "Checked in", "Outcome"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 130)
        self.table.setColumnWidth(1, 320)
        self.table.setColumnWidth(3, 120)
        self.outcome = QComboBox()
        self.outcome.addItems(OUTCOMES)
        self.outcome.setEditable(True)
        self.notes = QLineEdit()
        self.notes.setPlaceholderText("Notes")
        self.checkin_button = QPushButton("Check in")
        self.checkout_button = QPushButton("Check out")
        self.missed_button = QPushButton("Missed")
        self.missed_button.setToolTip("The visit did not happen (the Notes say why); a rotation's Re-plan "
                                      "rolls it forward")
        top = QHBoxLayout()
        top.addWidget(QLabel("Rep"))
        top.addWidget(self.rep)
        top.addWidget(QLabel("Day"))
        top.addWidget(self.day)
        top.addStretch(1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.checkin_button)
        bottom.addWidget(QLabel("Outcome"))
        bottom.addWidget(self.outcome)
        bottom.addWidget(self.notes, 1)
        bottom.addWidget(self.checkout_button)
        bottom.addWidget(self.missed_button)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.table, 1)
        lay.addLayout(bottom)
        self.rep.currentIndexChanged.connect(self.refresh)
        self.day.dateChanged.connect(self.refresh)
        self.checkin_button.clicked.connect(self._check_in)
        self.checkout_button.clicked.connect(self._check_out)
        self.missed_button.clicked.connect(self._missed)
        ctx.changed.connect(lambda ch: self.refresh() if ch.touched("visits") else None)
        self.rows: list[dict] = []
        self.refresh()

    def refresh(self) -> None:
        rep = self.rep.currentData()
        if rep is None:
            return
        d = self.day.date()
        self.rows = visits_on(self.ctx.store, rep["id"], date(d.year(), d.month(), d.day()), rep["time_zone"])
        self.table.setRowCount(len(self.rows))
        tz = ZoneInfo(rep["time_zone"] or defaults.TIME_ZONE)
        for i, r in enumerate(self.rows):
            planned = _local(r["planned_start"], tz)
            if planned and r["planned_minutes"]:
                planned += f" ({r['planned_minutes']} min)"
            checked = _local(r["check_in_at"], tz) + (f"–{_local(r['check_out_at'], tz)}" if r["check_out_at"] else "")
            for col, text in enumerate((planned, r["account_name"], r["status"], checked,
                                        " — ".join(x for x in (r["outcome"], r["notes"]) if x))):
                self.table.setItem(i, col, QTableWidgetItem(text))

    def _current(self) -> dict | None:
        row = self.table.currentRow()
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def _check_in(self) -> None:
        v = self._current()
        if v is None:
            return
        try:
            self.ctx.apply(check_in(self.ctx.store, v["id"]))
        except (KeyError, ValueError) as exc:
            QMessageBox.warning(self, "Check in", str(exc))

    def _check_out(self) -> None:
        v = self._current()
        if v is None:
            return
        try:
            self.ctx.apply(check_out(self.ctx.store, v["id"], self.outcome.currentText(), self.notes.text()))
            self.notes.clear()
        except (KeyError, ValueError) as exc:
            QMessageBox.warning(self, "Check out", str(exc))

    def _missed(self) -> None:
        v = self._current()
        if v is None:
            return
        try:
            self.ctx.apply(mark_missed(self.ctx.store, v["id"], self.notes.text()))
            self.notes.clear()
        except (KeyError, ValueError) as exc:
            QMessageBox.warning(self, "Missed", str(exc))
