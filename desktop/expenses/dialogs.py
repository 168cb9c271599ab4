"""Forms to log a trip or an expense; the service checks the values and the form shows its reason in place."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDateEdit, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget)

from core.expenses import CATEGORIES, ExpenseError, add_expense, add_trip

if TYPE_CHECKING:  # the type only; sections do not touch storage
    from core.storage.database import Store


def _date_edit(day: date) -> QDateEdit:
    edit = QDateEdit(QDate(day.year, day.month, day.day))
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    return edit


class _Form(QDialog):
    def __init__(self, title: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.form = QFormLayout()
        self.error = QLabel("")
        self.error.setObjectName("form-error")
        self.error.setStyleSheet("color: #b00020")
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.changes = None
        self.new_id: int | None = None

    def save(self) -> None:
        try:
            self.new_id, self.changes = self.write()
        except ExpenseError as exc:
            self.error.setText(str(exc))
            return
        self.accept()

    def write(self):  # pragma: no cover - each form writes its own
        raise NotImplementedError


class TripDialog(_Form):
    """A trip from a typed distance or odometer readings."""

    def __init__(self, store: Store, rep_id: int, actor_id: int | None, day: date, parent=None) -> None:
        super().__init__("Add trip", parent)
        self.store, self.rep_id, self.actor_id = store, rep_id, actor_id
        self.day = _date_edit(day)
        self.start = QLineEdit("Home")
        self.destination = QLineEdit()
        self.purpose = QLineEdit()
        self.purpose.setPlaceholderText("e.g. Quarterly review with the buyer")
        self.distance = QLineEdit()
        self.distance.setPlaceholderText("typed distance, or leave empty and give odometer readings")
        self.unit = QComboBox()
        self.unit.addItems(["mi", "km"])
        self.odo_start, self.odo_end = QLineEdit(), QLineEdit()
        odo = QHBoxLayout()
        odo.addWidget(self.odo_start)
        odo.addWidget(QLabel("to"))
        odo.addWidget(self.odo_end)
        self.vehicle = QLineEdit()
        self.kind = QComboBox()
        self.kind.addItems(["business", "commute", "personal"])
        dist = QHBoxLayout()
        dist.addWidget(self.distance, 1)
        dist.addWidget(self.unit)
        for label, w in (("Date", self.day), ("Start", self.start), ("Destination", self.destination),
                         ("Business purpose", self.purpose), ("Distance", dist), ("Odometer", odo),
                         ("Vehicle", self.vehicle), ("Kind", self.kind)):
            self.form.addRow(label, w)
        self.resize(520, 0)

    def write(self):
        odo = (self.odo_start.text().strip() or None, self.odo_end.text().strip() or None)
        return add_trip(self.store, self.rep_id, self.day.date().toPython(), start=self.start.text(),
                        destination=self.destination.text(), purpose=self.purpose.text(),
                        distance=self.distance.text().strip() or None, unit=self.unit.currentText(),
                        odometer_start=odo[0], odometer_end=odo[1], vehicle=self.vehicle.text().strip() or None,
                        kind=self.kind.currentText(), actor_id=self.actor_id)


class ExpenseDialog(_Form):
    """An expense with an optional receipt, or a per diem."""

    def __init__(self, store: Store, rep_id: int, actor_id: int | None, day: date, currency: str = "USD",
                 parent=None) -> None:
        super().__init__("Add expense", parent)
        self.store, self.rep_id, self.actor_id = store, rep_id, actor_id
        self.day = _date_edit(day)
        self.category = QComboBox()
        self.category.addItems(list(CATEGORIES))
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("e.g. 42.50")
        self.currency = QLineEdit(currency)
        self.currency.setMaxLength(3)
        self.merchant = QLineEdit()
        self.purpose = QLineEdit()
        self.notes = QLineEdit()
        self.per_diem = QCheckBox("Per diem at the standard rate")
        self.partial = QCheckBox("First or last travel day (75 %)")
        self.receipt = QLineEdit()
        self.receipt.setPlaceholderText("JPEG, PNG or PDF")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose)
        row = QHBoxLayout()
        row.addWidget(self.receipt, 1)
        row.addWidget(browse)
        money = QHBoxLayout()
        money.addWidget(self.amount, 1)
        money.addWidget(self.currency)
        for label, w in (("Date", self.day), ("Category", self.category), ("Amount", money),
                         ("Merchant", self.merchant), ("Business purpose", self.purpose), ("Notes", self.notes),
                         ("Receipt", row), ("", self.per_diem), ("", self.partial)):
            self.form.addRow(label, w)
        self.resize(520, 0)

    def _choose(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Receipt", "", "Receipts (*.jpg *.jpeg *.png *.pdf);;All files (*)")
        if path:
            self.receipt.setText(path)

    def write(self):
        per_diem = self.per_diem.isChecked()
        return add_expense(self.store, self.rep_id, self.day.date().toPython(), category=self.category.currentText(),
                           amount=None if per_diem else (self.amount.text().strip() or None),
                           currency=self.currency.text(), merchant=self.merchant.text(), purpose=self.purpose.text(),
                           notes=self.notes.text(), receipt=self.receipt.text().strip() or None, per_diem=per_diem,
                           partial_day=self.partial.isChecked(), actor_id=self.actor_id)
