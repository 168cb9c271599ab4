"""Logged bulk updates for imports and geocoding: the same change_log rows as writes.update, without a read per row.

writes.update_many reads each row back before writing it, which is right for a handful of edits
and too slow for 100,000. Callers here already hold the old values, so they pass them in.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, Iterable, Mapping

from core.storage import writes
from core.storage.database import Store


_encode_text = json.encoder.encode_basestring  # what json.dumps(..., ensure_ascii=False) uses for str


def encode(value: Any) -> str:
    """writes._encode with a fast path for the plain values imports and geocoding write (same output)."""
    kind = type(value)
    if value is None:
        return "null"
    if kind is float:
        return float.__repr__(value) if value == value and value not in (float("inf"), float("-inf")) \
            else writes._encode(value)
    if kind is int:
        return int.__repr__(value)
    if kind is str:
        return _encode_text(value)
    return writes._encode(value)


def update_known(store: Store, table: str, edits: Iterable[tuple[int, str, Mapping[str, Any]]]) -> int:
    """Apply (row id, row uid, {column: new value}) edits whose values are known to differ; returns rows changed.

    Every column is logged as an 'update' change exactly as writes.update logs it, in the caller's
    transaction (one is opened when there is none).
    """
    edits = [(row_id, uid, dict(values)) for row_id, uid, values in edits if values]
    if not edits:
        return 0
    forbidden = {"id", "uid", "created_at", "updated_at", "deleted_at"}
    writes._check_columns(store, table, {k for _, _, values in edits for k in values})
    if any(forbidden & set(values) for _, _, values in edits):
        raise ValueError("id, uid and audit columns cannot be edited")
    now = writes.utc_now()
    groups: dict[tuple[str, ...], list[tuple]] = defaultdict(list)
    log: list[tuple] = []
    node = store.node_id
    for row_id, uid, values in edits:
        keys = tuple(sorted(values))
        groups[keys].append((*(values[k] for k in keys), now, row_id))
        # One clock reading per row: its columns change in one edit (as in writes.update).
        hlc = str(store.clock.now())
        for k in keys:
            log.append((table, row_id, uid, "update", k, encode(values[k]), hlc, node))
    with store.atomic():
        for keys, params in groups.items():
            assignments = ", ".join(f"{k} = ?" for k in keys)
            store.conn.executemany(f"UPDATE {table} SET {assignments}, updated_at = ? WHERE id = ?", params)
        writes._log(store, log)
    return len(edits)
