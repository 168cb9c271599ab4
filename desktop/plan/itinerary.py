"""The itinerary tree: one branch per day, one row per visit, in order; drag, move and lock edit the order."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal, QTimer
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QTreeWidget, QTreeWidgetItem

from core.planning import WeekPlan

ROLE = Qt.ItemDataRole.UserRole
COLUMNS = ("Time", "Account", "Tier", "Drive", "Miles", "Check")
WARN = QColor("#b00020")


class ItineraryTree(QTreeWidget):
    """Shows a WeekPlan; emits order_edited(orders) after the user drags a visit somewhere else."""

    order_edited = Signal(dict)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("plan-itinerary")
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(list(COLUMNS))
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setUniformRowHeights(True)
        for col, width in enumerate((150, 340, 40, 70, 60, 200)):
            self.setColumnWidth(col, width)
        self._filling = False
        self.model().rowsInserted.connect(self._maybe_dropped)

    def show_plan(self, plan: WeekPlan | None, selected: Any = None) -> None:
        """Rebuild the rows from the plan; keep `selected` (an account id) selected."""
        self._filling = True
        self.clear()
        if plan is None:
            self._filling = False
            return
        bold = QFont()
        bold.setBold(True)
        for route in plan.result.routes:
            shift = plan.problem.shift(route.shift_id)
            day = QTreeWidgetItem(self)
            day.setData(0, ROLE, ("day", route.shift_id))
            day.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDropEnabled)
            if route.visits:
                text = (f"{shift.day} — {len(route.visits)} visits · leave {plan.at(route.leave):%H:%M}, "
                        f"back {plan.at(route.back):%H:%M}"
                        + (f" · lunch {plan.at(route.break_start):%H:%M}" if route.break_start else "")
                        + f" · {route.drive_minutes:.0f} min, {route.distance / 1609.344:.0f} mi driving")
            else:
                text = f"{shift.day} — no visits"
            if route.warnings:
                text += "  ⚠ " + "; ".join(route.warnings)
            day.setText(0, text)
            day.setToolTip(0, text)
            day.setFont(0, bold)
            if route.warnings:
                day.setForeground(0, QBrush(WARN))
            for v in route.visits:
                acc = plan.accounts.get(v.stop_id, {})
                item = QTreeWidgetItem(day)
                item.setData(0, ROLE, ("visit", v.stop_id))
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
                item.setText(0, ("🔒 " if v.locked else "") + f"{plan.at(v.start):%H:%M}–{plan.at(v.departure):%H:%M}")
                item.setText(1, f"{acc.get('name', v.stop_id)}" + (f", {acc['city']}" if acc.get("city") else ""))
                item.setText(2, acc.get("tier") or "")
                item.setText(3, f"{v.drive_minutes:.0f} min")
                item.setText(4, f"{v.distance / 1609.344:.1f}")
                note = []
                if v.closed:
                    note.append("closed that day")
                elif v.late_minutes > 0.5:
                    note.append(f"{v.late_minutes:.0f} min late")
                elif v.wait_minutes > 0.5:
                    note.append(f"waits {v.wait_minutes:.0f} min")
                item.setText(5, ", ".join(note))
                if v.closed or v.late_minutes > 0.5:
                    for col in range(len(COLUMNS)):
                        item.setForeground(col, QBrush(WARN))
                if v.stop_id == selected:
                    self.setCurrentItem(item)
        for k in range(self.topLevelItemCount()):
            self.topLevelItem(k).setFirstColumnSpanned(True)
        self.expandAll()
        self._filling = False

    def selected_stop(self) -> Any:
        item = self.currentItem()
        data = item.data(0, ROLE) if item else None
        return data[1] if data and data[0] == "visit" else None

    def orders(self) -> dict[str, list[Any]]:
        """The order as shown, repairing drops that landed on the top level or inside another visit."""
        out: dict[str, list[Any]] = {}
        current = None

        def walk(item: QTreeWidgetItem) -> None:
            nonlocal current
            kind, value = item.data(0, ROLE)
            if kind == "day":
                current = value
                out.setdefault(value, [])
            elif current is not None:
                out[current].append(value)
            for k in range(item.childCount()):
                walk(item.child(k))

        for k in range(self.topLevelItemCount()):
            walk(self.topLevelItem(k))
        return out

    def _maybe_dropped(self, *_args) -> None:
        if not self._filling:
            # Let Qt finish the move (it removes the source row after inserting) before reading the order.
            QTimer.singleShot(0, lambda: self.order_edited.emit(self.orders()))
