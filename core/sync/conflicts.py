"""The Conflicts list: every value that lost a merge or was refused, and restoring one as a new edit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core import accounts
from core.changes import Changes
from core.storage import writes
from core.storage.database import Store
from core.sync import gone
from core.clock import utc_now
from core.sync.engine import _Ids, queue_restored

# The column that names a row for people, per table (falls back to the uid).
_LABELS = {"accounts": "name", "reps": "name", "territories": "name", "leads": "name", "expense_reports": "title",
           "expenses": "merchant", "trips": "purpose"}


@dataclass(frozen=True)
class Conflict:
    id: int
    table: str
    row_uid: str
    row_id: int | None
    row_label: str
    column: str
    kept_value: Any
    lost_value: Any
    reason: str
    created_at: str
    restored_at: str | None


def list_conflicts(store: Store, *, include_restored: bool = False) -> list[Conflict]:
    """Conflicts, newest first; restored ones only when asked."""
    where = "" if include_restored else "WHERE restored_at IS NULL"
    ids = _Ids(store)
    out = []
    for row in store.query(f"SELECT * FROM conflicts {where} ORDER BY id DESC"):
        table = row["table_name"]
        row_id = ids.id(table, row["row_uid"]) if _has_table(store, table) else None
        label = row["row_uid"]
        if row_id is not None and table in _LABELS:
            label = store.scalar(f"SELECT {_LABELS[table]} FROM {table} WHERE id = ?", (row_id,)) or label
        out.append(Conflict(row["id"], table, row["row_uid"], row_id, str(label), row["column_name"],
                            _loads(row["kept_value"]), _loads(row["lost_value"]), row["reason"], row["created_at"],
                            row["restored_at"]))
    return out


def _loads(text: str | None) -> Any:
    return json.loads(text) if text is not None else None


def _has_table(store: Store, table: str) -> bool:
    return bool(store.scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)))


def restore(store: Store, conflict_id: int) -> Changes:
    """Put the losing value back as a new edit (logged, so the next sync sends it and it wins)."""
    row = store.conn.execute("SELECT * FROM conflicts WHERE id = ?", (conflict_id,)).fetchone()
    if row is None:
        raise KeyError(f"conflict {conflict_id} does not exist")
    if row["restored_at"]:
        raise ValueError(f"conflict {conflict_id} was already restored on {row['restored_at']}")
    table, column = row["table_name"], row["column_name"]
    away, owner = gone.gone_owner(store, table, row["row_uid"])
    if away:  # the server would refuse it again; the owner now has this value in their own Conflicts
        raise ValueError(f"this {gone.noun(table)} moved to {gone.owner_name(store, owner)} and is no longer yours to "
                         "change; they see your value in their Conflicts and can restore it")
    ids = _Ids(store)
    row_id = ids.id(table, row["row_uid"]) if _has_table(store, table) else None
    if row_id is None:
        raise KeyError(f"{table} {row['row_uid']} is not in this database")
    value = _loads(row["lost_value"])
    fks = ids.foreign_keys(table)
    if column in fks and value is not None:
        target = ids.id(fks[column], value)
        if target is None:
            raise KeyError(f"{column}: the {fks[column][:-1]} {value} it pointed to is not in this database")
        value = target
    with store.atomic():
        if column == "deleted_at":
            (writes.restore if value is None else writes.delete)(store, table, row_id)
            changes = Changes.of(table, [row_id])
        elif table == "accounts":
            changes, _ = accounts.update_account(store, row_id, {column: value})
        else:
            writes.update(store, table, row_id, {column: value})
            changes = Changes.of(table, [row_id])
        store.conn.execute("UPDATE conflicts SET restored_at = ? WHERE id = ?", (utc_now(), conflict_id))
        if row["server_id"] is not None:
            queue_restored(store, row["server_id"])  # the other laptops learn it at the next sync
    return Changes(Changes.of(table, [row_id]).merge(changes).rows, f"restored {column}")
