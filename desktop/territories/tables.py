"""A small read-only table model for the comparison and moves tables.

A model rather than QTableWidget items: PySide6 6.12 loses a reference to None on each
QTableWidget.setItem / item.flags() call, which aborts the interpreter after a few thousand cells.
"""

from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

ROW_KEY_ROLE = Qt.ItemDataRole.UserRole + 1


def money_short(cents: int) -> str:
    """$1.47B, $26.3M, $45.9K: figures that fit a narrow column."""
    dollars = cents / 100
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(dollars) >= limit:
            value = dollars / limit
            return f"${value:,.2f}{suffix}" if value < 10 else f"${value:,.1f}{suffix}"
    return f"${dollars:,.0f}"
_WARN = QColor("#b00020")


class RowsModel(QAbstractTableModel):
    """Rows of display strings, a key per row, right-aligned columns and cells flagged in red."""

    def __init__(self, headers: Sequence[str], right_aligned: Sequence[int] = (), parent=None) -> None:
        super().__init__(parent)
        self.headers = list(headers)
        self.right = set(right_aligned)
        self.rows: list[tuple[str, ...]] = []
        self.keys: list[int] = []
        self.flagged: set[tuple[int, int]] = set()

    def set_rows(self, rows: Sequence[Sequence[Any]], keys: Sequence[int] = (),
                 flagged: set[tuple[int, int]] = frozenset()) -> None:
        self.beginResetModel()
        self.rows = [tuple(str(v) for v in r) for r in rows]
        self.keys = list(keys)
        self.flagged = set(flagged)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.headers[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in self.right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and (index.row(), index.column()) in self.flagged:
            return _WARN
        if role == ROW_KEY_ROLE and index.row() < len(self.keys):
            return self.keys[index.row()]
        return None

    def key(self, row: int) -> int | None:
        return self.keys[row] if 0 <= row < len(self.keys) else None
