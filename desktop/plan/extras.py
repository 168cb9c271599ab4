"""Hotel nights and fixed appointments for the next plan: the Plan view's side tab (same rules as --hotel/--appointment)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from PySide6.QtCore import QDate, QDateTime, QTime, Qt, Signal
from PySide6.QtWidgets import (QComboBox, QCompleter, QDateEdit, QDateTimeEdit, QFormLayout, QLabel,
                               QLineEdit, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget)


def parse_place(text: str) -> tuple[float, float]:
    """'30.27, -97.74' -> (30.27, -97.74); ValueError with the reason when it is not a place."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    if len(parts) != 2:
        raise ValueError(f"hotel: write the place as latitude, longitude such as 30.27, -97.74 (got {text!r})")
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError(f"hotel: {text!r} is not a latitude, longitude pair") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"hotel: latitude must be -90..90 and longitude -180..180 (got {lat}, {lon})")
    return lat, lon


class ExtrasPanel(QWidget):
    """Lists the hotel nights and appointments the next Plan keeps; `changed` fires on every add/remove."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("plan-extras")
        self._hotels: dict[date, tuple[float, float]] = {}
        self._appointments: dict[int, datetime] = {}
        self._names: dict[int, str] = {}

        self.hotel_night = QDateEdit()
        self.hotel_night.setCalendarPopup(True)
        self.hotel_night.setDisplayFormat("ddd d MMM yyyy")
        self.hotel_place = QLineEdit()
        self.hotel_place.setPlaceholderText("lat, lon e.g. 30.63, -96.33")
        self.hotel_place.setMinimumWidth(120)
        self.add_hotel_button = QPushButton("Add hotel night")
        self.add_hotel_button.setToolTip("That day ends at the hotel and the next day starts there")
        self.account = QComboBox()
        self.account.setEditable(True)
        self.account.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.account.completer().setFilterMode(Qt.MatchFlag.MatchContains)
        self.account.completer().setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        # Long account names must not widen the whole window.
        self.account.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.account.setMinimumContentsLength(18)
        self.when = QDateTimeEdit()
        self.when.setCalendarPopup(True)
        self.when.setDisplayFormat("ddd d MMM yyyy HH:mm")
        self.add_appointment_button = QPushButton("Add appointment")
        self.add_appointment_button.setToolTip("A visit fixed at this local time; it outranks every tier")
        self.items = QListWidget()
        self.items.setObjectName("plan-extras-list")
        self.items.setMinimumHeight(40)
        self.remove_button = QPushButton("Remove")
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")

        form = QFormLayout()
        form.addRow("Night of", self.hotel_night)
        form.addRow("Hotel at", self.hotel_place)
        form.addRow("", self.add_hotel_button)
        form.addRow("Account", self.account)
        form.addRow("At", self.when)
        form.addRow("", self.add_appointment_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(QLabel("Kept by the next Plan:"))
        lay.addWidget(self.items, 1)
        lay.addWidget(self.remove_button)

        self.add_hotel_button.clicked.connect(self._add_hotel_clicked)
        self.add_appointment_button.clicked.connect(self._add_appointment_clicked)
        self.remove_button.clicked.connect(self.remove_selected)

    # --- what the plan uses ---------------------------------------------------------------------------
    def hotels(self) -> dict[date, tuple[float, float]]:
        return dict(self._hotels)

    def appointments(self) -> dict[int, datetime]:
        return dict(self._appointments)

    def set_accounts(self, accounts: list[dict[str, Any]]) -> None:
        """The rep's accounts to pick an appointment from (a new rep clears the appointments)."""
        self.account.clear()
        self._names = {a["id"]: a["name"] for a in accounts}
        for a in accounts:
            self.account.addItem(f"{a['name']} ({a.get('city') or '?'})", a["id"])
        if self._appointments:
            self._appointments.clear()
            self._refresh()

    def set_period(self, start: date) -> None:
        """Default the date pickers to the first planned day."""
        self.hotel_night.setDate(QDate(start.year, start.month, start.day))
        self.when.setDateTime(QDateTime(QDate(start.year, start.month, start.day), QTime(10, 0)))

    # --- editing ------------------------------------------------------------------------------------
    def add_hotel(self, night: date, lat: float, lon: float) -> None:
        self._hotels[night] = (lat, lon)
        self.error.clear()
        self._refresh()

    def add_appointment(self, account_id: int, when: datetime) -> None:
        self._appointments[account_id] = when
        self.error.clear()
        self._refresh()

    def _add_hotel_clicked(self) -> None:
        d = self.hotel_night.date()
        try:
            lat, lon = parse_place(self.hotel_place.text())
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        self.add_hotel(date(d.year(), d.month(), d.day()), lat, lon)

    def _add_appointment_clicked(self) -> None:
        index = self.account.findText(self.account.currentText())
        account_id = self.account.itemData(index) if index >= 0 else None
        if account_id is None:
            self.error.setText(f"appointment: choose one of the rep's accounts (no account "
                               f"{self.account.currentText()!r})")
            return
        q = self.when.dateTime()
        when = datetime(q.date().year(), q.date().month(), q.date().day(), q.time().hour(), q.time().minute())
        self.add_appointment(account_id, when)

    def remove_selected(self) -> None:
        item = self.items.currentItem()
        if item is None:
            return
        kind, key = item.data(Qt.ItemDataRole.UserRole)
        (self._hotels if kind == "hotel" else self._appointments).pop(key, None)
        self._refresh()

    def _refresh(self) -> None:
        self.items.clear()
        for night, (lat, lon) in sorted(self._hotels.items()):
            item = QListWidgetItem(f"🏨 Night of {night:%a %d %b}: hotel at {lat:.4f}, {lon:.4f}")
            item.setData(Qt.ItemDataRole.UserRole, ("hotel", night))
            self.items.addItem(item)
        for account_id, when in sorted(self._appointments.items(), key=lambda kv: kv[1]):
            item = QListWidgetItem(f"📅 {when:%a %d %b %H:%M}: {self._names.get(account_id, account_id)}")
            item.setData(Qt.ItemDataRole.UserRole, ("appointment", account_id))
            self.items.addItem(item)
        self.remove_button.setEnabled(self.items.count() > 0)
        self.changed.emit()
