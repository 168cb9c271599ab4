"""Table model for accounts: holds only ids, fetches rows a page at a time, never raises in data()."""

from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from core import accounts as svc
from core import visit_frequency
from core.changes import Changes
from core.money import format_cents

if TYPE_CHECKING:  # the type only; sections do not touch storage
    from core.storage.database import Store

log = logging.getLogger(__name__)
PAGE = 200
CACHE_ROWS = 5000
ACCOUNT_ID_ROLE = Qt.ItemDataRole.UserRole + 1
TIER_COLORS = {"A": QColor("#1b7f3b"), "B": QColor("#b26b00"), "C": QColor("#5f6b7a")}


class AccountsTableModel(QAbstractTableModel):
    def __init__(self, store: Store, currency: str = "USD", parent=None) -> None:
        super().__init__(parent)
        self.store = store
        self.currency = currency
        self.query = svc.AccountQuery()
        self.ids: list[int] = []
        self._rows: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._row_of: dict[int, int] | None = None
        self.reload()

    # --- queries ------------------------------------------------------------------------
    def set_query(self, query: svc.AccountQuery) -> None:
        self.query = query
        self.reload()

    def reload(self) -> None:
        self.beginResetModel()
        self.ids = svc.account_ids(self.store, self.query)
        self._rows.clear()
        self._row_of = None
        self.endResetModel()

    def row_of(self, account_id: int) -> int | None:
        if self._row_of is None:
            self._row_of = {aid: n for n, aid in enumerate(self.ids)}
        return self._row_of.get(account_id)

    def account_id(self, row: int) -> int | None:
        return self.ids[row] if 0 <= row < len(self.ids) else None

    def row_data(self, row: int) -> dict[str, Any] | None:
        account_id = self.account_id(row)
        if account_id is None:
            return None
        cached = self._rows.get(account_id)
        if cached is None:
            self._fetch_page(row)
            cached = self._rows.get(account_id)
        return cached

    def _fetch_page(self, row: int) -> None:
        start = max(0, row - PAGE // 4)
        wanted = [aid for aid in self.ids[start:start + PAGE] if aid not in self._rows]
        for aid, data in svc.fetch_rows(self.store, wanted).items():
            self._rows[aid] = data
        while len(self._rows) > CACHE_ROWS:
            self._rows.popitem(last=False)

    def apply_changes(self, changes: Changes) -> None:
        """Refresh after a write: cheap dataChanged when order and membership hold, a reload otherwise."""
        if not (changes.touched("accounts") or changes.touched("reps")):
            return
        new_ids = svc.account_ids(self.store, self.query)
        if new_ids != self.ids:
            self._rows.clear()
            self._replace_ids(new_ids)
            return
        if changes.touched("reps"):
            self._rows.clear()
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.ids) - 1, self.columnCount() - 1))
            return
        for aid in changes.ids("accounts"):
            self._rows.pop(aid, None)
            row = self.row_of(aid)
            if row is not None:
                self.dataChanged.emit(self.index(row, 0), self.index(row, self.columnCount() - 1))

    # --- Qt model API -------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.ids)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(svc.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return svc.COLUMNS[section].title
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        try:
            return self._data(index.row(), index.column(), role)
        except Exception:  # a bad row must not crash painting; it is logged and shown empty
            log.exception("accounts model could not show row %s", index.row())
            return None

    def _data(self, row: int, column: int, role: int):
        if role == ACCOUNT_ID_ROLE:
            return self.account_id(row)
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole,
                        Qt.ItemDataRole.TextAlignmentRole, Qt.ItemDataRole.ForegroundRole):
            return None
        col = svc.COLUMNS[column]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if col.kind in ("int", "money"):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if col.key == "tier":
                return int(Qt.AlignmentFlag.AlignCenter)
            return None
        data = self.row_data(row)
        if data is None:
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            if col.key == "tier":
                return TIER_COLORS.get(data.get("tier"))
            if data.get("deleted_at"):
                return QColor("#999999")
            return None
        return format_value(col, data.get(col.key), self.currency)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = svc.COLUMNS[column].key
        descending = order == Qt.SortOrder.DescendingOrder
        if key == self.query.sort_key and descending == self.query.descending:
            return
        self.query = svc.AccountQuery(**{**self.query.__dict__, "sort_key": key, "descending": descending})
        self._replace_ids(svc.account_ids(self.store, self.query))

    def _replace_ids(self, new_ids: list[int]) -> None:
        """Swap in a new order, keeping selection and current index on the same accounts."""
        self.layoutAboutToBeChanged.emit()
        old_persistent = self.persistentIndexList()
        old_ids = [self.account_id(i.row()) for i in old_persistent]
        self.ids = new_ids
        self._row_of = None
        new_persistent = []
        for index, aid in zip(old_persistent, old_ids):
            row = self.row_of(aid) if aid is not None else None
            new_persistent.append(self.index(row, index.column()) if row is not None else QModelIndex())
        self.changePersistentIndexList(old_persistent, new_persistent)
        self.layoutChanged.emit()


def format_value(column: svc.Column, value: Any, currency: str = "USD") -> str:
    """How a stored value reads in the table."""
    if value is None or value == "":
        return ""
    if column.kind == "money":
        return format_cents(int(value), currency, whole=True)
    if column.kind == "int":
        return f"{int(value):,}"
    if column.kind == "date":
        try:
            return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone().strftime("%b %d, %Y")
        except ValueError:
            return str(value)
    if column.key == "visit_frequency":
        if visit_frequency.per_cycle(str(value)) is not None:
            return visit_frequency.label(str(value))
        return {"biweekly": "every 2 weeks", "monthly": "every 4 weeks"}.get(str(value), str(value))
    return str(value)
