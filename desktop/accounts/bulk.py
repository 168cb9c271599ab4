"""Bulk edit of visit parameters: one dialog sets frequency, minutes, weekdays and hours on every selected account."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox, QLabel, QLineEdit, QSpinBox, QVBoxLayout, QWidget,
)

from core import accounts as svc
from core import opening_hours
from core.words import counted
from desktop.accounts.actions import edit_accounts
from desktop.accounts.visit_widgets import FrequencyEditor, WeekdaysEditor
from desktop.context import AppContext
from desktop.forms import FormDialog

KEEP = "keep"


def _stacked(*widgets: QWidget) -> QWidget:
    """A 'Set to' box above the editor it unlocks, as one form row."""
    box = QWidget()
    column = QVBoxLayout(box)
    column.setContentsMargins(0, 0, 0, 0)
    for w in widgets:
        column.addWidget(w)
    return box


class BulkVisitDialog(FormDialog):
    """Each field starts at 'leave as it is'; only the ones the user sets are written (one undoable edit)."""

    def __init__(self, ctx: AppContext, account_ids: list[int], parent: QWidget | None = None) -> None:
        super().__init__("Set visits", parent, save_text="Apply", message_name="bulk-visits-problem")
        self.ctx = ctx
        self.ids = list(account_ids)
        self.setObjectName("bulk-visits")
        intro = QLabel(f"Set visit parameters on {counted(len(self.ids), 'selected account')}. "
                       "Fields left as they are are not changed. Undo (Ctrl+Z) puts every account back.")
        intro.setWordWrap(True)
        self.frequency = FrequencyEditor(keep="Leave as it is")
        self.set_minutes = QCheckBox("Set to")
        self.minutes = QSpinBox()
        self.minutes.setRange(0, 1440)
        self.minutes.setValue(45)
        self.minutes.setSuffix(" min")
        self.minutes.setEnabled(False)
        self.set_minutes.toggled.connect(self.minutes.setEnabled)
        self.set_weekdays = QCheckBox("Set to")
        self.weekdays = WeekdaysEditor()
        self.weekdays.setEnabled(False)
        self.set_weekdays.toggled.connect(self.weekdays.setEnabled)
        self.hours = QLineEdit()
        # Empty leaves them as they are (the intro says so); the hint only has room for an example.
        self.hours.setPlaceholderText("e.g. Mon-Fri 8am-5pm; Sat 9-12")
        self.hours.setToolTip("Leave empty to keep each account's hours as they are")
        self.problem = self.message   # why Apply was refused; hidden until then
        self.problem.hide()

        self.body.insertWidget(0, intro)
        form = self.form
        form.addRow("Visits", self.frequency)
        form.addRow("Visit minutes", _stacked(self.set_minutes, self.minutes))
        form.addRow("Visit on", _stacked(self.set_weekdays, self.weekdays))
        form.addRow("Opening hours", self.hours)
        self.setMinimumWidth(440)

    def values(self) -> dict[str, Any]:
        """The fields to set; raises ValueError with a plain reason for hours or weekdays it cannot use."""
        values: dict[str, Any] = {}
        if self.frequency.value() is not None:
            values["visit_frequency"] = self.frequency.value()
        if self.set_minutes.isChecked():
            values["visit_minutes"] = self.minutes.value()
        if self.set_weekdays.isChecked():
            days = self.weekdays.value()
            if days == "":
                raise ValueError("Visit on: choose at least one day")
            values["allowed_weekdays"] = days
        if self.hours.text().strip():
            try:
                values["opening_hours"] = opening_hours.normalise(self.hours.text())
            except ValueError as exc:
                raise ValueError(f"Opening hours: {exc}") from None
        return values

    def save(self) -> None:
        self.apply()

    def apply(self) -> None:
        try:
            values = self.values()
        except ValueError as exc:
            self.refuse(str(exc))
            return
        if values and self.ids:
            try:
                edit_accounts(self.ctx, {aid: dict(values) for aid in self.ids},
                              f"Set visits on {counted(len(self.ids), 'account')}")
            except svc.ValidationError as exc:
                self.refuse(str(exc))
                return
        self.accept()
