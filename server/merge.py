"""Push and pull on the server: idempotent per-field last-writer-wins merges, and pulls by cursor.

Every row is kept as one object: its column values and, per column, the hybrid-clock reading of the
value kept. An incoming value replaces the kept one only when its reading is later (the reading ends
in the node id, so ties break the same way everywhere). A value that loses, or that a concurrent
edit replaces, is kept as a conflict with both values, so nothing a user typed disappears unseen.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from server.auth import Principal
from server.policy import Refused, Scope, can_read, check_report_rules, check_write, owner_of, scope_of
from server.storage import ServerStore, Tx

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _node(hlc: str) -> str:
    return hlc.split("-", 2)[2] if hlc.count("-") >= 2 else ""


class _Seq:
    """Sequence numbers for one push, taken from the counter only when the first write needs one."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    def next(self) -> int:
        return self.tx.next_seq()


def push(store: ServerStore, who: Principal, ops: list[dict]) -> list[dict]:
    """Apply a batch of operations in one transaction; returns one result per op, in order.

    An op already applied (same op_id) returns its first result and changes nothing: a client that
    lost our answer and sends the batch again gets the same answers.
    """
    return store.write_grouped(lambda tx: _push(tx, who, ops))


def _push(tx: Tx, who: Principal, ops: list[dict]) -> list[dict]:
    results = []
    scope = scope_of(tx, who)
    seq = _Seq(tx)
    for op in ops:
        done = tx.one("SELECT result FROM applied_ops WHERE op_id = ?", (op["op_id"],))
        if done is not None:
            result = json.loads(done["result"])
            result["status"] = "duplicate" if result["status"] == "applied" else result["status"]
            results.append(result)
            continue
        result = _apply(tx, who, scope, seq, op)
        tx.execute("INSERT INTO applied_ops (op_id, user_id, result, applied_at) VALUES (?, ?, ?, ?)",
                   (op["op_id"], who.user_id, _dumps(result), _now()))
        results.append(result)
    return results


def _apply(tx: Tx, who: Principal, scope: Scope, seq: _Seq, op: dict) -> dict[str, Any]:
    table, uid, hlc = op["table"], op["row_uid"], op["hlc"]
    values: dict = op["values"]
    base: dict = op.get("base") or {}
    row = tx.one("SELECT data, versions, owner FROM objects WHERE table_name = ? AND row_uid = ?", (table, uid))
    exists = row is not None
    data = json.loads(row["data"]) if exists else {}
    versions = json.loads(row["versions"]) if exists else {}
    old_owner = row["owner"] if exists else None
    readable = not exists or can_read(who, scope, table, old_owner)
    merged = dict(data)
    kept, lost, conflicts = {}, {}, []
    for column, value in values.items():
        current = versions.get(column)
        if current is None or hlc > current:
            if (current is not None and data.get(column) != value and _node(current) != _node(hlc)
                    and (base.get(column) or "") < current):
                # The client never saw the value it replaces: a concurrent edit, and the older one lost.
                conflicts.append((column, value, hlc, data.get(column), current))
            merged[column] = value
            kept[column] = hlc
        elif hlc < current and data.get(column) != value:
            conflicts.append((column, data.get(column), current, value, hlc))
            lost[column] = [data.get(column), current]
    new_owner = owner_of(tx, table, uid, merged)
    try:
        check_write(who, scope, table, uid, old_owner, new_owner, exists)
        changing = {c: values[c] for c in kept if data.get(c) != values[c] or c not in data}
        if changing or not exists:
            check_report_rules(tx, who, table, data if exists else None, changing if exists else values)
    except Refused as exc:
        result: dict[str, Any] = {"op_id": op["op_id"], "status": "rejected", "reason": str(exc)}
        if exists and readable:
            result["current"] = {c: [data.get(c), versions.get(c)] for c in values if c in versions}
        return result
    if kept:
        versions.update(kept)
        number = seq.next()
        text = (_dumps(merged), _dumps(versions), new_owner, number)
        if exists:
            tx.execute("UPDATE objects SET data = ?, versions = ?, owner = ?, seq = ? WHERE table_name = ? AND "
                       "row_uid = ?", (*text, table, uid))
        else:
            tx.execute("INSERT INTO objects (data, versions, owner, seq, table_name, row_uid) VALUES (?, ?, ?, ?, ?, ?)",
                       (*text, table, uid))
    for column, kept_value, kept_hlc, lost_value, lost_hlc in conflicts:
        tx.execute("INSERT INTO conflicts (seq, table_name, row_uid, column_name, kept_value, kept_hlc, lost_value, "
                   "lost_hlc, owner, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (seq.next(), table, uid, column, _dumps(kept_value), kept_hlc, _dumps(lost_value), lost_hlc,
                    new_owner, "edited on two devices; the later edit was kept", _now()))
    result = {"op_id": op["op_id"], "status": "applied"}
    if lost:
        result["lost"] = lost
    return result


def pull(store: ServerStore, who: Principal, since: int, limit: int) -> dict[str, Any]:
    """Rows and conflicts changed after `since` that this user may read, oldest first, one page."""
    with store.transaction(write=False) as tx:
        scope = scope_of(tx, who)
        rows = tx.all("SELECT table_name, row_uid, data, versions, owner, seq FROM objects WHERE seq > ? "
                      "ORDER BY seq LIMIT ?", (since, limit))
        found = tx.all("SELECT * FROM conflicts WHERE seq > ? ORDER BY seq LIMIT ?", (since, limit))
    merged = sorted([("row", r["seq"], r) for r in rows] + [("conflict", c["seq"], c) for c in found],
                    key=lambda item: item[1])[:limit]
    objects, conflicts = [], []
    for kind, _, item in merged:
        if not can_read(who, scope, item["table_name"], item["owner"]):
            continue
        if kind == "row":
            objects.append({"table": item["table_name"], "row_uid": item["row_uid"], "seq": item["seq"],
                            "values": json.loads(item["data"]), "versions": json.loads(item["versions"])})
        else:
            conflicts.append({"id": item["id"], "table": item["table_name"], "row_uid": item["row_uid"],
                              "column": item["column_name"], "kept_value": json.loads(item["kept_value"]),
                              "kept_hlc": item["kept_hlc"], "lost_value": json.loads(item["lost_value"]),
                              "lost_hlc": item["lost_hlc"], "reason": item["reason"],
                              "created_at": item["created_at"]})
    cursor = merged[-1][1] if merged else since
    return {"objects": objects, "conflicts": conflicts, "next_cursor": cursor, "has_more": len(merged) >= limit}


def get_object(store: ServerStore, who: Principal, table: str, row_uid: str) -> dict[str, Any]:
    """One row as the server holds it; LookupError when absent, Refused when not this user's to read."""
    with store.transaction(write=False) as tx:
        row = tx.one("SELECT data, versions, owner FROM objects WHERE table_name = ? AND row_uid = ?", (table, row_uid))
        if row is None:
            raise LookupError(f"{table} {row_uid}: no such row")
        if not can_read(who, scope_of(tx, who), table, row["owner"]):
            raise Refused(f"{table} {row_uid}: not yours to read")
    return {"table": table, "row_uid": row_uid, "values": json.loads(row["data"]),
            "versions": json.loads(row["versions"])}


def list_objects(store: ServerStore, who: Principal, table: str, limit: int = 1000) -> list[dict[str, Any]]:
    """The rows of one table this user may read (for scripts and the roles test)."""
    with store.transaction(write=False) as tx:
        scope = scope_of(tx, who)
        rows = tx.all("SELECT row_uid, data, owner FROM objects WHERE table_name = ? ORDER BY seq LIMIT ?",
                      (table, limit))
    return [{"row_uid": r["row_uid"], "values": json.loads(r["data"])} for r in rows
            if can_read(who, scope, table, r["owner"])]
