"""Editors for an account's visit parameters: how often, opening hours per weekday and the weekdays a visit may fall on."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QSpinBox, QToolButton, QVBoxLayout,
                               QWidget)

from core import defaults, opening_hours, visit_frequency
from core.opening_hours import WEEKDAYS, WeeklyHours

DAY_TITLES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SHORT_TITLES = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
DAY_STYLE = ("QToolButton { padding: 2px 0; border: 1px solid #9e9e9e; border-radius: 3px; background: #fafafa; } "
             "QToolButton:checked { background: #1976d2; color: white; border-color: #0d47a1; } "
             "QToolButton:disabled { background: #eeeeee; color: #9e9e9e; border-color: #bdbdbd; } "
             "QToolButton:checked:disabled { background: #b0bec5; color: #f5f5f5; }")


def _window_text(windows) -> str:
    return ", ".join(f"{a // 60:02d}:{a % 60:02d}–{b // 60:02d}:{b % 60:02d}" for a, b in windows)


class HoursEditor(QWidget):
    """One line per weekday ('08:00–12:00, 13:00–17:00', 'closed' or empty).

    Every day empty means the hours are not known (stored as nothing); once any day has hours, an
    empty day is closed. Each line reads what people type ('8-5', '9am-1pm').
    """

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(2)
        self.days: list[QLineEdit] = []
        for i, title in enumerate(DAY_TITLES):
            edit = QLineEdit()
            edit.setObjectName(f"hours-{WEEKDAYS[i]}")
            edit.setToolTip(f"{title}: opening times, e.g. 08:00–12:00, 13:00–17:00 or 8am-5pm; empty = closed")
            edit.textEdited.connect(lambda _t: self.edited.emit())
            grid.addWidget(QLabel(title), i, 0)
            grid.addWidget(edit, i, 1)
            self.days.append(edit)

    def set_hours(self, stored: str | None) -> None:
        try:
            hours = WeeklyHours.from_json(stored)
        except ValueError:
            hours = None
        for i, edit in enumerate(self.days):
            edit.setText("" if hours is None else _window_text(hours.days[i]))
            # Known hours: an empty day is closed. Not known: show what to type.
            edit.setPlaceholderText("closed" if hours is not None else "e.g. 08:00–17:00")
            edit.setStyleSheet("")

    def value(self) -> tuple[str | None, list[tuple[str, str, str]]]:
        """(stored JSON or None when no day is filled, [(day, text, reason)] for lines it cannot read)."""
        days: list[tuple] = []
        problems = []
        for i, edit in enumerate(self.days):
            text = edit.text().strip()
            if not text or text.lower() in ("closed", "-", "–"):
                days.append(())
                continue
            try:
                parsed = opening_hours.parse_text(f"{WEEKDAYS[i]} {text}")
            except ValueError as exc:
                problems.append((DAY_TITLES[i], text, str(exc)))
                days.append(())
                continue
            days.append(parsed.days[i])
        if problems:
            return None, problems
        if not any(days):
            return None, []
        return WeeklyHours(tuple(days)).to_json(), []


class WeekdaysEditor(QWidget):
    """Seven toggle buttons; all on means no restriction (stored as nothing)."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        self.buttons: list[QToolButton] = []
        for i, title in enumerate(DAY_TITLES):
            button = QToolButton()
            button.setObjectName(f"weekday-{WEEKDAYS[i]}")
            button.setText(SHORT_TITLES[i])
            button.setFixedWidth(30)  # seven fit beside the label in the narrowest panel
            button.setCheckable(True)
            button.setChecked(True)
            # On/off must read at a glance: a day that may be visited is filled. (On the button itself:
            # the panel clears its fields' own style sheets when it shows an account.)
            button.setStyleSheet(DAY_STYLE)
            button.setToolTip(f"Visits may fall on {title}")
            button.clicked.connect(lambda _c: self.edited.emit())
            row.addWidget(button)
            self.buttons.append(button)
        row.addStretch(1)

    def set_weekdays(self, stored: str | None) -> None:
        try:
            days = opening_hours.parse_weekdays(stored)
        except ValueError:
            days = None
        for i, button in enumerate(self.buttons):
            button.setChecked(days is None or WEEKDAYS[i] in days)

    def value(self) -> str | None:
        chosen = [WEEKDAYS[i] for i, b in enumerate(self.buttons) if b.isChecked()]
        return None if len(chosen) == 7 else opening_hours.format_weekdays(chosen)


PER_CYCLE = "per_cycle"  # the box's choice; the stored value is 'N/cycle'
FREQUENCY_CHOICES = [("weekly", "Weekly"), ("biweekly", "Every 2 weeks"), ("monthly", "Monthly (every 4 weeks)"),
                     ("quarterly", "Quarterly"), (PER_CYCLE, "N per cycle"), ("none", "No regular visits")]


class FrequencyEditor(QWidget):
    """How often: weekly … quarterly, or N per cycle (a count beside the box), or no regular visits.

    With `keep` (the bulk dialog) the first choice leaves each account's frequency as it is; value() is then None.
    """

    edited = Signal()

    def __init__(self, keep: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # The count goes under the box, not beside it: side by side they widen the account panel past its width.
        row = QVBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        self.box = QComboBox()
        self.box.setObjectName("visit-frequency")
        if keep:
            self.box.addItem(keep, None)
        for value, text in FREQUENCY_CHOICES:
            self.box.addItem(text, value)
        self.count = QSpinBox()
        self.count.setObjectName("visits-per-cycle")
        self.count.setRange(1, visit_frequency.MAX_PER_CYCLE)
        self.count.setValue(2)
        self.count.setSuffix(" per cycle")
        self.count.setToolTip("Visits in each rotation cycle, spread evenly over it (a cycle counts as "
                              f"{defaults.CYCLE_WEEKS} weeks for due dates outside a rotation)")
        self.count.setVisible(False)
        self.box.activated.connect(self._chosen)
        self.count.valueChanged.connect(lambda _v: self.edited.emit())
        row.addWidget(self.box)
        row.addWidget(self.count)

    def _chosen(self, _index: int) -> None:
        self.count.setVisible(self.box.currentData() == PER_CYCLE)
        self.edited.emit()

    def set_frequency(self, stored: str | None) -> None:
        self.blockSignals(True)
        n = visit_frequency.per_cycle(stored)
        if n is not None:
            self.count.setValue(n)
        index = self.box.findData(PER_CYCLE if n is not None else stored)
        self.box.setCurrentIndex(index if index >= 0 else 0)
        self.count.setVisible(self.box.currentData() == PER_CYCLE)
        self.blockSignals(False)

    def choose(self, value: str) -> None:
        """Pick a stored value as a user would (tests, the bulk dialog's presets)."""
        self.set_frequency(value)
        self.edited.emit()

    def value(self) -> str | None:
        """The stored value ('weekly', '3/cycle', …); None when the box says 'leave as it is'."""
        data = self.box.currentData()
        if data == PER_CYCLE:
            return visit_frequency.stored_per_cycle(self.count.value())
        return data
