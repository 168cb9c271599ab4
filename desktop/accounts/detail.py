"""The account edit panel: fields, validation shown next to the form, save/revert through undo."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton,
    QScrollArea, QVBoxLayout, QWidget,
)

from core import accounts as svc
from core import opening_hours
from core.money import format_cents, parse_cents
from core.reps import list_reps
from desktop.accounts.actions import edit_accounts
from desktop.accounts.visit_widgets import FrequencyEditor, HoursEditor, WeekdaysEditor
from desktop.context import AppContext

ERROR_STYLE = "border: 1px solid #c62828; background: #fff5f5;"


def _same_hours(a: str | None, b: str | None) -> bool:
    from core.account_value import hours_from_json

    return hours_from_json(a) == hours_from_json(b)


class AccountDetail(QWidget):
    """Edits one account; `saved` fires after a successful save."""

    saved = Signal(int)

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.account_id: int | None = None
        self.original: dict[str, Any] = {}
        self.setMinimumWidth(340)

        self.title = QLabel("<i>Select an account</i>")
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-size: 16px; font-weight: 600; padding: 4px 0;")
        self.subtitle = QLabel()
        self.subtitle.setStyleSheet("color: #555;")
        self.subtitle.setWordWrap(True)

        self.fields: dict[str, QWidget] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)

        def line(key: str, label: str, placeholder: str = "") -> QLineEdit:
            w = QLineEdit()
            w.setPlaceholderText(placeholder)
            w.textEdited.connect(self._mark_dirty)
            self.fields[key] = w
            form.addRow(label, w)
            return w

        def combo(key: str, label: str, items: list[tuple[Any, str]]) -> QComboBox:
            w = QComboBox()
            for value, text in items:
                w.addItem(text, value)
            w.activated.connect(self._mark_dirty)
            self.fields[key] = w
            form.addRow(label, w)
            return w

        line("name", "Name")
        line("external_id", "CRM id")
        line("street", "Street")
        line("city", "City")
        line("state", "State", "TX")
        line("postal_code", "ZIP")
        line("phone", "Phone")
        line("industry", "Industry")
        line("employees", "Employees", "e.g. 120")
        line("annual_revenue_cents", "Annual revenue", "e.g. $1,250,000")
        line("potential_cents", "Potential", "e.g. $40,000")
        combo("tier", "Tier", [(None, "—"), ("A", "A"), ("B", "B"), ("C", "C")])
        self.owner = combo("owner_id", "Owner", [(None, "Nobody")])
        combo("status", "Status", [(s, s.title()) for s in svc.STATUSES])
        locked = QCheckBox("Keep with owner when balancing")
        locked.toggled.connect(self._mark_dirty)
        self.fields["locked"] = locked
        form.addRow("Locked", locked)
        frequency = FrequencyEditor()
        frequency.edited.connect(self._mark_dirty)
        self.fields["visit_frequency"] = frequency
        form.addRow("Visits", frequency)
        line("visit_minutes", "Visit minutes", "e.g. 45")
        weekdays = WeekdaysEditor()
        weekdays.edited.connect(self._mark_dirty)
        self.fields["allowed_weekdays"] = weekdays
        form.addRow("Visit on", weekdays)
        self.hours = QLabel()
        self.hours.setWordWrap(True)
        self.hours.setStyleSheet("color: #555;")
        form.addRow("Open", self.hours)
        hours = HoursEditor()
        hours.edited.connect(self._mark_dirty)
        self.fields["opening_hours"] = hours
        form.addRow("", hours)
        self.location = QLabel()
        self.location.setWordWrap(True)
        form.addRow("Location", self.location)
        notes = QPlainTextEdit()
        notes.setFixedHeight(70)
        notes.textChanged.connect(self._mark_dirty)
        self.fields["notes"] = notes
        form.addRow("Notes", notes)

        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #c62828;")
        self.problems.hide()

        self.save_button = QPushButton("Save")
        self.save_button.setShortcut("Ctrl+S")
        self.save_button.setToolTip("Save changes (Ctrl+S)")
        self.save_button.clicked.connect(self.save)
        self.revert_button = QPushButton("Revert")
        self.revert_button.setToolTip("Discard unsaved changes (Esc)")
        self.revert_button.clicked.connect(self.revert)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)

        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addLayout(form)
        layout.addWidget(self.problems)
        layout.addLayout(buttons)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(inner)
        # The horizontal bar is off, so a panel narrower than its fields clips them (the Sunday toggle,
        # the line edits' right edge): never let the splitter squeeze it below what the fields need
        # beside the vertical scroll bar.
        self.setMinimumWidth(max(340, inner.minimumSizeHint().width()
                                 + scroll.verticalScrollBar().sizeHint().width() + 2))
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.reload_reps()
        self.show_account(None)

    # --- loading ------------------------------------------------------------------------
    def reload_reps(self) -> None:
        current = self.owner.currentData()
        self.owner.clear()
        self.owner.addItem("Nobody", None)
        for rep in list_reps(self.ctx.store):
            self.owner.addItem(rep["name"] + ("" if rep["role"] == "rep" else f" ({rep['role']})"), rep["id"])
        self._set_combo(self.owner, current)

    def show_account(self, account_id: int | None) -> None:
        self.account_id = account_id
        self._clear_problems()
        enabled = account_id is not None
        for w in self.fields.values():
            w.setEnabled(enabled)
        if account_id is None:
            self.original = {}
            self.title.setText("<i>Select an account to see and edit it</i>")
            self.subtitle.clear()
            for w in self.fields.values():
                self._set_widget(w, None)
            self.hours.clear()
            self.location.clear()
            self._set_dirty(False)
            return
        try:
            data = svc.get_account(self.ctx.store, account_id)
        except KeyError:
            self.show_account(None)
            return
        self.original = data
        self.title.setText(data["name"])
        parts = [p for p in (data.get("industry"), data.get("segment"), data.get("owner")) if p]
        self.subtitle.setText(" · ".join(parts) + (" · deleted" if data.get("deleted_at") else ""))
        for key, w in self.fields.items():
            value = data.get(key)
            if key in ("annual_revenue_cents", "potential_cents") and value is not None:
                value = format_cents(value, self.ctx.settings.currency)
            self._set_widget(w, value)
        self.hours.setText(opening_hours.describe(data.get("opening_hours"))
                           or "not known (any time in the rep's day)")
        if data.get("lat") is None:
            self.location.setText("not located yet")
        else:
            self.location.setText(f"{data['lat']:.5f}, {data['lon']:.5f} (by {data.get('geocode_precision') or '?'})")
        self._set_dirty(False)

    # --- editing ------------------------------------------------------------------------
    def _set_widget(self, w: QWidget, value: Any) -> None:
        w.blockSignals(True)
        if isinstance(w, QLineEdit):
            w.setText("" if value is None else (f"{value}" if not isinstance(value, int) else str(value)))
        elif isinstance(w, QComboBox):
            self._set_combo(w, value)
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QPlainTextEdit):
            w.setPlainText(value or "")
        elif isinstance(w, HoursEditor):
            w.set_hours(value)
        elif isinstance(w, FrequencyEditor):
            w.set_frequency(value)
        elif isinstance(w, WeekdaysEditor):
            w.set_weekdays(value)
        w.setStyleSheet("")
        w.blockSignals(False)

    @staticmethod
    def _set_combo(w: QComboBox, value: Any) -> None:
        index = w.findData(value)
        w.setCurrentIndex(index if index >= 0 else 0)

    def form_values(self) -> tuple[dict[str, Any], list[svc.Problem]]:
        """What the form says, converted to stored values, plus conversion problems."""
        values: dict[str, Any] = {}
        problems: list[svc.Problem] = []
        for key, w in self.fields.items():
            if isinstance(w, QLineEdit):
                text = w.text().strip()
                if key in ("employees", "visit_minutes"):
                    if not text:
                        value = None if key == "employees" else 0
                    else:
                        try:
                            value = int(text.replace(",", ""))
                        except ValueError:
                            problems.append(svc.Problem(key, text, "must be a whole number"))
                            continue
                elif key in ("annual_revenue_cents", "potential_cents"):
                    try:
                        value = parse_cents(text)
                    except ValueError:
                        problems.append(svc.Problem(key, text, "must be an amount of money, e.g. $12,500"))
                        continue
                elif key == "state":
                    value = text.upper() or None
                else:
                    value = text or None
                    if key == "name":
                        value = text
            elif isinstance(w, QComboBox):
                value = w.currentData()
            elif isinstance(w, QCheckBox):
                value = 1 if w.isChecked() else 0
            elif isinstance(w, HoursEditor):
                value, bad = w.value()
                if bad:
                    problems += [svc.Problem(key, text, f"{day}: {reason}") for day, text, reason in bad]
                    continue
            elif isinstance(w, FrequencyEditor):
                value = w.value()
            elif isinstance(w, WeekdaysEditor):
                value = w.value()
                if value == "":
                    problems.append(svc.Problem(key, "", "choose at least one day (all days: no restriction)"))
                    continue
            else:
                value = w.toPlainText() or None
            values[key] = value
        return values, problems

    def changed_values(self) -> tuple[dict[str, Any], list[svc.Problem]]:
        values, problems = self.form_values()
        changed = {k: v for k, v in values.items() if self.original.get(k) != v}
        if "opening_hours" in changed and _same_hours(changed["opening_hours"], self.original.get("opening_hours")):
            del changed["opening_hours"]  # the same hours written another way (JSON spacing) are no edit
        return changed, problems

    def save(self) -> bool:
        if self.account_id is None:
            return False
        changed, problems = self.changed_values()
        problems += svc.validate(changed)
        if problems:
            self._show_problems(problems)
            return False
        if not changed:
            self._set_dirty(False)
            return True
        name = self.original.get("name", "account")
        try:
            edit_accounts(self.ctx, {self.account_id: changed}, f"Edit {name}")
        except svc.ValidationError as exc:
            self._show_problems(exc.problems)
            return False
        self.saved.emit(self.account_id)
        self.show_account(self.account_id)
        return True

    def revert(self) -> None:
        self.show_account(self.account_id)

    def is_dirty(self) -> bool:
        return self.save_button.isEnabled()

    def _mark_dirty(self, *_args) -> None:
        self._set_dirty(True)

    def _set_dirty(self, dirty: bool) -> None:
        self.save_button.setEnabled(dirty and self.account_id is not None)
        self.revert_button.setEnabled(dirty and self.account_id is not None)

    def _show_problems(self, problems: list[svc.Problem]) -> None:
        labels = {"annual_revenue_cents": "Annual revenue", "potential_cents": "Potential", "visit_minutes":
                  "Visit minutes", "postal_code": "ZIP", "owner_id": "Owner", "visit_frequency": "Visits",
                  "opening_hours": "Opening hours", "allowed_weekdays": "Visit on"}
        lines = []
        for p in problems:
            lines.append(f"• {labels.get(p.field, p.field.replace('_', ' ').capitalize())}: {p.reason}")
            if p.field in self.fields:
                self.fields[p.field].setStyleSheet(ERROR_STYLE)
        self.problems.setText("\n".join(lines))
        self.problems.show()

    def _clear_problems(self) -> None:
        self.problems.hide()
        self.problems.clear()
        for w in self.fields.values():
            w.setStyleSheet("")
