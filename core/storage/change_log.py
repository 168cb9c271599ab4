"""Reading the change log back as edits: one per insert, update or tombstone, with the columns it set."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator

from core.storage.database import Store


@dataclass(frozen=True)
class Edit:
    """One logged edit: the row it touched, what it did, the columns it set and when (hybrid clock)."""

    seq: int
    table: str
    row_id: int
    row_uid: str
    op: str  # insert | update | delete
    values: dict[str, Any]
    hlc: str
    node_id: str
    pushed_at: str | None = None


def edits(store: Store, *, table: str | None = None, row_id: int | None = None, since_seq: int = 0,
          unpushed: bool = False) -> Iterator[Edit]:
    """The logged edits in the order they were made (by seq), optionally for one table or row."""
    clauses, params = ["seq > ?"], [since_seq]
    if table is not None:
        clauses.append("table_name = ?")
        params.append(table)
    if row_id is not None:
        clauses.append("row_id = ?")
        params.append(row_id)
    if unpushed:
        clauses.append("pushed_at IS NULL")
    sql = ("SELECT seq, table_name, row_id, row_uid, op, column_name, value, hlc, node_id, pushed_at "
           f"FROM change_log WHERE {' AND '.join(clauses)} ORDER BY seq")
    for row in store.conn.execute(sql, params):
        yield Edit(row[0], row[1], row[2], row[3], row[4], _values(row[5], row[6]), row[7], row[8], row[9])


def _values(column: str | None, value: str | None) -> dict[str, Any]:
    # Logs written before one-row-per-edit named the column and held only its value; read both alike.
    decoded = json.loads(value) if value is not None else None
    if column is not None:
        return {column: decoded}
    return decoded if isinstance(decoded, dict) else {}


def changed_columns(store: Store, table: str, row_id: int, op: str | None = None) -> list[str]:
    """Every column the log says was set on one row, edit by edit (repeats kept), oldest first."""
    out: list[str] = []
    for edit in edits(store, table=table, row_id=row_id):
        if op is None or edit.op == op:
            out.extend(edit.values)
    return out
