"""Forms to log a trip or an expense; the service checks the values and the form shows its reason in place."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDateEdit, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget)

from core.expenses import (CATEGORIES, SCHEMES, ExpenseError, add_expense, add_trip, rate_list, set_rate, set_rep_scheme,
                           update_expense)
from core.expenses.common import cents_to_decimal
from desktop.forms import FormDialog

if TYPE_CHECKING:  # the type only; sections do not touch storage
    from core.storage.database import Store


def _date_edit(day: date) -> QDateEdit:
    edit = QDateEdit(QDate(day.year, day.month, day.day))
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    return edit


class _Form(FormDialog):
    """A trip or expense form: write() calls the service; its refusal is shown under the fields."""

    def __init__(self, title: str, parent: QWidget | None) -> None:
        super().__init__(title, parent, message_name="form-error")
        self.error = self.message   # the name the expense views and their tests read the reason from
        self.new_id: int | None = None

    def save(self) -> None:
        try:
            self.new_id, self.changes = self.write()
        except ExpenseError as exc:
            self.refuse(str(exc))
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
        # The hint must fit the field; the either-or goes in the odometer row's hints and the tooltip.
        self.distance.setPlaceholderText("e.g. 40.5")
        self.distance.setToolTip("The distance driven; or leave it empty and give the odometer readings")
        self.unit = QComboBox()
        self.unit.addItems(["mi", "km"])
        self.odo_start, self.odo_end = QLineEdit(), QLineEdit()
        self.odo_start.setPlaceholderText("or: start reading")
        self.odo_end.setPlaceholderText("end reading")
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
        row = self.receipt_row = QHBoxLayout()
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


class EditExpenseDialog(ExpenseDialog):
    """Change a logged expense's fields; the service refuses it once its report is submitted, and says why.

    Only what the user changed is written, so an unchanged form writes nothing and logs nothing. The
    receipt has its own button (Attach receipt…) and a per diem is re-logged rather than edited.
    """

    def __init__(self, store: Store, row: dict, actor_id: int | None, parent=None) -> None:
        super().__init__(store, row["rep_id"], actor_id, date.fromisoformat(row["day"]), row["currency"], parent)
        self.setWindowTitle("Edit expense")
        self.row = row
        self.category.setCurrentText(row["category"])
        self.amount.setText(f"{cents_to_decimal(row['amount_cents']):.2f}")
        self.merchant.setText(row["merchant"] or "")
        self.purpose.setText(row["business_purpose"] or "")
        self.notes.setText(row["notes"] or "")
        for field in (self.receipt_row, self.per_diem, self.partial):
            self.form.setRowVisible(field, False)
        self.original = self._values()

    def _values(self) -> dict[str, str]:
        return {"day": self.day.date().toPython().isoformat(), "category": self.category.currentText(),
                "amount": self.amount.text().strip(), "currency": self.currency.text().strip().upper(),
                "merchant": self.merchant.text().strip(), "business_purpose": self.purpose.text().strip(),
                "notes": self.notes.text().strip()}

    def write(self):
        now = self._values()
        changed = {k: v for k, v in now.items() if v != self.original[k]}
        changes = update_expense(self.store, self.row["id"], changed, actor_id=self.actor_id) if changed else None
        return self.row["id"], changes


class RatesDialog(QDialog):
    """The mileage rates in force (built in and set), a form to set one from a date, and the rep's scheme."""

    def __init__(self, store: Store, rep: dict | None, parent=None) -> None:
        from PySide6.QtWidgets import QHeaderView, QTableView

        from desktop.territories.tables import RowsModel

        super().__init__(parent)
        self.setWindowTitle("Mileage rates")
        self.store, self.rep = store, rep
        self.changes: list = []
        self.model = RowsModel(("Scheme", "From", "To", "Rate", "Source", ""), parent=self)
        table = QTableView()
        table.setObjectName("rates-table")
        table.setModel(self.model)
        table.verticalHeader().hide()
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.scheme = QComboBox()
        self.scheme.addItems(list(SCHEMES))
        self.start = _date_edit(date(date.today().year, 1, 1))
        self.rate = QLineEdit()
        self.rate.setPlaceholderText("per mile or km, e.g. 0.725")
        self.above = QLineEdit()
        self.above.setPlaceholderText("beyond the yearly tier (CRA, HMRC); empty for none")
        self.tier = QLineEdit()
        self.tier.setPlaceholderText("miles or km per tax year at the first rate")
        add = QPushButton("Set rate")
        add.setObjectName("rates-add")
        add.clicked.connect(self.add_rate)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #b00020")
        self.error.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Scheme", self.scheme)
        form.addRow("In force from", self.start)
        form.addRow("Rate", self.rate)
        form.addRow("Above the tier", self.above)
        form.addRow("Tier", self.tier)
        form.addRow("", add)
        layout = QVBoxLayout(self)
        layout.addWidget(table, 1)
        layout.addLayout(form)
        if rep is not None:
            self.rep_scheme = QComboBox()
            self.rep_scheme.setObjectName("rates-rep-scheme")
            self.rep_scheme.addItems(list(SCHEMES))
            self.rep_scheme.setCurrentText(rep.get("mileage_scheme") or "IRS")
            self.rep_scheme.currentTextChanged.connect(self.set_rep_scheme)
            row = QHBoxLayout()
            row.addWidget(QLabel(f"{rep['name']}'s future trips are paid under"))
            row.addWidget(self.rep_scheme)
            row.addStretch(1)
            layout.addLayout(row)
        layout.addWidget(self.error)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.accept)
        layout.addWidget(close)
        self.resize(760, 520)
        self.refresh()

    def refresh(self) -> None:
        rates = rate_list(self.store)
        self.model.set_rows([(r.scheme, r.effective_from, r.effective_to or "", r.describe(), r.source,
                              "built in" if r.id is None else "set") for r in rates])

    def add_rate(self) -> bool:
        try:
            tier = int(self.tier.text()) if self.tier.text().strip() else None
        except ValueError:
            self.error.setText(f"tier: not a whole number: {self.tier.text()!r}")
            return False
        try:
            _, changes = set_rate(self.store, self.scheme.currentText(), self.start.date().toPython(), self.rate.text(),
                                  tier_limit=tier, above=self.above.text().strip() or None)
        except ExpenseError as exc:
            self.error.setText(str(exc))
            return False
        self.error.setText("")
        self.changes.append(changes)
        self.refresh()
        return True

    def set_rep_scheme(self, scheme: str) -> None:
        try:
            self.changes.append(set_rep_scheme(self.store, self.rep["id"], scheme))
        except ExpenseError as exc:
            self.error.setText(str(exc))
