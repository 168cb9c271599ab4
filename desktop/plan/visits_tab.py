"""The Visits tab: a rep's visits on one day, with check-in and check-out (outcome and notes), offline."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDateEdit, QHBoxLayout, QLabel, QLineEdit, QMessageBox,
                               QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from core.planning import OUTCOMES, check_in, check_out, visits_on
from core.reps import list_reps
from desktop.context import AppContext


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
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Planned", "Account", "Status", "Checked in", "Outcome"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(1, 300)
        self.outcome = QComboBox()
        self.outcome.addItems(OUTCOMES)
        self.outcome.setEditable(True)
        self.notes = QLineEdit()
        self.notes.setPlaceholderText("Notes")
        self.checkin_button = QPushButton("Check in")
        self.checkout_button = QPushButton("Check out")
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
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.table, 1)
        lay.addLayout(bottom)
        self.rep.currentIndexChanged.connect(self.refresh)
        self.day.dateChanged.connect(self.refresh)
        self.checkin_button.clicked.connect(self._check_in)
        self.checkout_button.clicked.connect(self._check_out)
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
        for i, r in enumerate(self.rows):
            for col, text in enumerate((r["planned_start"] or "", r["account_name"], r["status"],
                                        r["check_in_at"] or "", r["outcome"] or "")):
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
