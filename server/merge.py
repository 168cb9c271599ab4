"""Push and pull on the server: idempotent per-field last-writer-wins merges, and pulls by cursor.

Every row is kept as one object: its column values and, per column, the hybrid-clock reading of the
value kept. An incoming value replaces the kept one only when its reading is later (the reading ends
in the node id, so ties break the same way everywhere). A value that loses, or that a concurrent
edit replaces, is kept as a conflict with both values, so nothing a user typed disappears unseen.
"""

from __future__ import annotations

import json
import time
from typing import Any

from core.clock import MAX_AHEAD_MS, utc_now
from server import moves
from server.auth import Principal
from server.jsontext import dumps, dumps_versions, loads, loads_versions
from server.policy import (Refused, Scope, can_read, check_report_rules, check_write, in_scope, owned, owner_of,
                           scope_of)
from server.storage import ServerStore, Tx

MAX_CLOCK_AHEAD_S = MAX_AHEAD_MS / 1000  # more than any time-zone mistake; a wrong date is refused

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_quote = json.encoder.encode_basestring  # a JSON string literal (C speed)


def _node(hlc: str) -> str:
    return hlc.split("-", 2)[2] if hlc.count("-") >= 2 else ""


class _Seq:
    """Sequence numbers for one push, reserved from the counter in blocks (one UPDATE for the whole
    push, not one per row). Numbers left unused are skipped: a pull cursor only needs them rising."""

    def __init__(self, tx: Tx, block: int) -> None:
        self.tx, self.block = tx, max(1, block)
        self.following, self.last = 1, 0

    def next(self) -> int:
        if self.following > self.last:
            self.last = self.tx.next_seq(self.block)
            self.following = self.last - self.block + 1
        number, self.following = self.following, self.following + 1
        return number


class _Rows:
    """The rows a push touches, read in one query per table up front and kept current as it writes."""

    def __init__(self, tx: Tx, ops: list[dict]) -> None:
        self.rows: dict[tuple[str, str], tuple[dict, dict, str | None] | None] = {}
        wanted: dict[str, set[str]] = {}
        for op in ops:
            wanted.setdefault(op["table"], set()).add(op["row_uid"])
        for table, uids in wanted.items():
            for uid in uids:
                self.rows[(table, uid)] = None
            found = tx.execute(f"SELECT row_uid, data, versions, owner FROM objects WHERE table_name = ? AND row_uid "
                               f"IN ({', '.join('?' * len(uids))})", (table, *uids)).fetchall()
            for row in found:
                self.rows[(table, row["row_uid"])] = (loads(row["data"]), loads_versions(row["versions"]), row["owner"])

    def get(self, table: str, uid: str) -> tuple[dict, dict, str | None] | None:
        return self.rows[(table, uid)]

    def put(self, table: str, uid: str, data: dict, versions: dict, owner: str | None) -> None:
        self.rows[(table, uid)] = (data, versions, owner)


class _Deferred(Tx):
    """The push's transaction with its row and conflict writes held back and sent together (executemany).

    One statement per edit was a third of a push's time. Any other statement through this transaction
    (the policy's look-ups of a parent row or an expense report) first sends what is held, so every read
    sees every earlier edit of the same push, as if each had been written at once."""

    def __init__(self, tx: Tx) -> None:
        super().__init__(tx._conn, tx._postgres)
        self._tx = tx
        self._rows: dict[tuple[str, str], list] = {}  # (table, uid) -> [insert?, data, versions, owner, seq]
        self._conflicts: list[tuple] = []

    def put_row(self, table: str, uid: str, exists: bool, data: dict, versions: dict, owner: str | None,
                number: int) -> None:
        held = self._rows.get((table, uid))
        insert = held[0] if held is not None else not exists  # an insert held back stays an insert
        self._rows[(table, uid)] = [insert, data, versions, owner, number]

    def put_conflict(self, values: tuple) -> None:
        self._conflicts.append(values)

    def flush(self) -> None:
        rows, self._rows = self._rows, {}
        conflicts, self._conflicts = self._conflicts, []
        inserts, updates = [], []
        for (table, uid), (insert, data, versions, owner, number) in rows.items():
            (inserts if insert else updates).append((dumps(data), dumps_versions(versions), owner, number, table, uid))
        if updates:
            self._tx.executemany("UPDATE objects SET data = ?, versions = ?, owner = ?, seq = ? WHERE table_name = ? "
                                 "AND row_uid = ?", updates)
        if inserts:
            self._tx.executemany("INSERT INTO objects (data, versions, owner, seq, table_name, row_uid) "
                                 "VALUES (?, ?, ?, ?, ?, ?)", inserts)
        if conflicts:
            self._tx.executemany("INSERT INTO conflicts (seq, table_name, row_uid, column_name, kept_value, kept_hlc, "
                                 "lost_value, lost_hlc, owner, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
                                 "?, ?)", conflicts)

    def execute(self, sql: str, params: tuple | list = ()) -> Any:
        if self._rows or self._conflicts:
            self.flush()
        return self._tx.execute(sql, params)

    def executemany(self, sql: str, rows: list) -> None:
        if self._rows or self._conflicts:
            self.flush()
        self._tx.executemany(sql, rows)


def push(store: ServerStore, who: Principal, ops: list[dict]) -> list[dict]:
    """Apply a batch of operations in one transaction; returns one result per op, in order.

    An op already applied (same op_id) returns its first result and changes nothing: a client that
    lost our answer and sends the batch again gets the same answers.
    """
    return store.write_grouped(lambda tx: push_in(tx, who, ops))


def push_in(tx: Tx, who: Principal, ops: list[dict]) -> list[dict]:
    """push() inside a transaction the caller commits (the writer's group commit)."""
    results = []
    tx = _Deferred(tx)
    scope = scope_of(tx, who)
    seq = _Seq(tx, len(ops))
    now = utc_now()
    applied: dict[str, str] = {}
    ids = list({op["op_id"] for op in ops} | {_reused_key(op) for op in ops})
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for row in tx.execute(f"SELECT op_id, result FROM applied_ops WHERE op_id IN ({', '.join('?' * len(chunk))})",
                              chunk).fetchall():
            applied[row["op_id"]] = row["result"]
    rows = _Rows(tx, ops)
    recorded = []
    for op in ops:
        key = op["op_id"]
        done = applied.get(key)
        if done is not None and loads(done).get("hlc", op["hlc"]) != op["hlc"]:
            # The same id for another edit: a database copied, or restored from a backup, kept its node
            # id and counts its edits again. Answering "duplicate" would drop this edit unseen.
            key = _reused_key(op)
            done = applied.get(key)
        if done is not None:
            result = loads(done)
            result.pop("hlc", None)
            result["status"] = "duplicate" if result["status"] == "applied" else result["status"]
            results.append(result)
            continue
        result = _apply(tx, who, scope, seq, rows, op)
        text = dumps({**result, "hlc": op["hlc"]})
        applied[key] = text
        recorded.append((key, who.user_id, text, now))
        results.append(result)
    if recorded:
        tx.executemany("INSERT INTO applied_ops (op_id, user_id, result, applied_at) VALUES (?, ?, ?, ?)", recorded)
    tx.flush()
    return results


def _check_clock(hlc: str) -> None:
    """Refuse an edit stamped far ahead of the server's clock: it would beat every real edit of that
    field until real time caught up. Minutes of drift (and a time zone set wrong) are let through."""
    ahead = int(hlc[:15]) / 1000 - time.time()
    if ahead > MAX_CLOCK_AHEAD_S:
        raise Refused(f"this device's clock is {ahead / 86400:.1f} days ahead of the server's; set the date and "
                      "time right, then restore the edit from Conflicts")


def _reused_key(op: dict) -> str:
    """Where an op is recorded when its id was already taken by a different edit (told apart by clock)."""
    return f"{op['op_id']}@{op['hlc']}"


def _apply(tx: _Deferred, who: Principal, scope: Scope, seq: _Seq, rows: _Rows, op: dict) -> dict[str, Any]:
    table, uid, hlc = op["table"], op["row_uid"], op["hlc"]
    values: dict = op["values"]
    base: dict = op.get("base") or {}
    row = rows.get(table, uid)
    exists = row is not None
    data, versions, old_owner = row if exists else ({}, {}, None)
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
        _check_clock(hlc)
        check_write(who, scope, table, uid, old_owner, new_owner, exists)
        changing = {c: values[c] for c in kept if data.get(c) != values[c] or c not in data}
        if changing or not exists:
            check_report_rules(tx, who, table, data if exists else None, changing if exists else values)
    except Refused as exc:
        result: dict[str, Any] = {"op_id": op["op_id"], "status": "rejected", "reason": str(exc)}
        if exists and readable:
            result["current"] = {c: [data.get(c), versions.get(c)] for c in values if c in versions}
        elif exists and owned(table) and not in_scope(scope, old_owner):
            away = moves.moved_away(tx, scope, table, uid, old_owner)
            if away:  # the row moved away from this user: say where, and let its owner now see the edit
                result.update(reason=away, moved_to=old_owner)
                moves.hand_over(tx, seq, who, table, uid, data, versions, values, hlc, old_owner)
        return result
    if kept:
        versions = {**versions, **kept}
        rows.put(table, uid, merged, versions, new_owner)
        tx.put_row(table, uid, exists, merged, versions, new_owner, seq.next())
        if exists and new_owner != old_owner and owned(table):
            moves.record(tx, seq.next(), table, uid, old_owner, new_owner, who)  # sends the held writes first
    for column, kept_value, kept_hlc, lost_value, lost_hlc in conflicts:
        tx.put_conflict((seq.next(), table, uid, column, dumps(kept_value), kept_hlc, dumps(lost_value), lost_hlc,
                         new_owner, "edited on two devices; the later edit was kept", utc_now()))
    result = {"op_id": op["op_id"], "status": "applied"}
    if lost:
        result["lost"] = lost
    return result


def pull(store: ServerStore, who: Principal, since: int, limit: int) -> dict[str, Any]:
    """Rows and conflicts changed after `since` that this user may read, and rows that went out of their
    sight (moved to someone else), oldest first, one page."""
    with store.transaction(write=False) as tx:
        return json.loads(pull_in(tx, who, since, limit))


def pull_in(tx: Tx, who: Principal, since: int, limit: int) -> str:
    """One pull page as JSON text, read in the caller's transaction.

    Rows are stored as JSON text already, so they are spliced into the answer as they are: decoding
    and re-encoding every row was most of a pull's cost.
    """
    scope = scope_of(tx, who)
    rows = tx.execute("SELECT table_name, row_uid, data, versions, owner, seq FROM objects WHERE seq > ? "
                      "ORDER BY seq LIMIT ?", (since, limit)).fetchall()
    found = tx.all("SELECT * FROM conflicts WHERE seq > ? ORDER BY seq LIMIT ?", (since, limit))
    moved = moves.gone_after(tx, since, limit)
    if found or moved:
        items = sorted([(r["seq"], r, None, None) for r in rows] + [(c["seq"], None, c, None) for c in found]
                       + [(m["seq"], None, None, m) for m in moved], key=lambda item: item[0])[:limit]
    else:
        items = [(r["seq"], r, None, None) for r in rows]
    objects, conflicts, gone = [], [], []
    for number, row, conflict, move in items:
        if row is not None:
            if can_read(who, scope, row["table_name"], row["owner"]):
                objects.append(f'{{"table":{_quote(row["table_name"])},"row_uid":{_quote(row["row_uid"])},'
                               f'"seq":{number},"values":{row["data"]},"versions":{row["versions"]}}}')
        elif move is not None:
            marker = moves.gone_marker(who, scope, move)
            if marker:
                gone.append(marker)
        elif can_read(who, scope, conflict["table_name"], conflict["owner"]):
            conflicts.append(_dumps({"id": conflict["id"], "table": conflict["table_name"],
                                     "row_uid": conflict["row_uid"], "column": conflict["column_name"],
                                     "kept_value": json.loads(conflict["kept_value"]),
                                     "kept_hlc": conflict["kept_hlc"],
                                     "lost_value": json.loads(conflict["lost_value"]),
                                     "lost_hlc": conflict["lost_hlc"], "reason": conflict["reason"],
                                     "created_at": conflict["created_at"],
                                     "restored_at": conflict.get("restored_at")}))
    cursor = items[-1][0] if items else since
    return (f'{{"objects":[{",".join(objects)}],"conflicts":[{",".join(conflicts)}],"gone":[{",".join(gone)}],'
            f'"next_cursor":{int(cursor)},'
            f'"has_more":{"true" if len(items) >= limit else "false"}}}')


def mark_restored(tx: Tx, who: Principal, conflict_ids: list[int]) -> int:
    """A laptop restored these conflicts: mark them so, with a new sequence number, so every laptop
    that can see them pulls them again and shows them as restored. Returns how many changed."""
    scope = scope_of(tx, who)
    seq = _Seq(tx, len(conflict_ids))
    now = utc_now()
    marked = 0
    for conflict_id in conflict_ids:
        row = tx.one("SELECT table_name, owner, restored_at FROM conflicts WHERE id = ?", (conflict_id,))
        if row is None or row["restored_at"] or not can_read(who, scope, row["table_name"], row["owner"]):
            continue  # unknown, already restored, or not this user's to see: nothing to do
        tx.execute("UPDATE conflicts SET restored_at = ?, seq = ? WHERE id = ?", (now, seq.next(), conflict_id))
        marked += 1
    return marked


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
