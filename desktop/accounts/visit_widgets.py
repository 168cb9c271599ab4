"""Editors for an account's visit parameters: opening hours per weekday and the weekdays a visit may fall on."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QLineEdit, QToolButton, QWidget

from core import opening_hours
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
