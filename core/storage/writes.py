"""Logged writes: every insert, update and tombstone also lands in change_log in the same transaction.

Views and services never write user data any other way, because sync replays exactly this log.
One edit is one change_log row: its value is a JSON object of the columns it set (the whole row for
an insert), all stamped with the edit's single hybrid-clock reading. `core.storage.change_log` reads
the log back, including rows from before 2026-11 that logged one column each.
"""

from __future__ import annotations

import itertools
import json
import operator
import os
import sqlite3
from collections import defaultdict
from typing import Any, Iterable, Mapping, Sequence

from core.clock import MAX_COUNTER, utc_now  # noqa: F401  (utc_now: callers use writes.utc_now)
from core.storage.database import Store

MAX_COUNTER_SPAN = MAX_COUNTER + 1



def columns(store: Store, table: str) -> tuple[str, ...]:
    """A table's columns, read once per open database (kept on the Store, so never stale)."""
    cache = store.table_columns
    if table not in cache:
        found = tuple(r[1] for r in store.conn.execute(f"PRAGMA table_info({table})"))
        if not found:
            raise ValueError(f"no table {table!r}")
        cache[table] = found
    return cache[table]


def _check_columns(store: Store, table: str, names: Iterable[str]) -> None:
    known = set(columns(store, table))
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"{table} has no column {unknown[0]!r}")


# Columns writes manage themselves; callers never set them.
_AUDIT_COLUMNS = frozenset({"id", "uid", "created_at", "updated_at", "deleted_at"})

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str)


# The C encoder made once: JSONEncoder.encode() builds a new one on every call, which was a third
# of encoding the 100,000 small objects an import or geocoding run logs. Same output.
_C_ENCODER = (json.encoder.c_make_encoder(None, str, json.encoder.encode_basestring, None, ":", ",", False,
                                          False, True) if json.encoder.c_make_encoder else None)


def _encode_object(values: Mapping[str, Any]) -> str:
    """A logged edit's value: its columns as one compact JSON object (keys are column names)."""
    if _C_ENCODER is not None and type(values) is dict:
        return "".join(_C_ENCODER(values, 0))
    return _ENCODER.encode(values)


def new_uid() -> str:
    """A random 128-bit id for sync (uuid4's randomness without its formatting cost)."""
    return os.urandom(16).hex()


def new_uids(n: int) -> list[str]:
    """n random ids as new_uid() makes them, from one read of the system's random source.

    (One os.urandom call per row was 8 % of importing 100,000 rows: a system call each.)
    """
    text = os.urandom(16 * n).hex()
    return [text[i:i + 32] for i in range(0, 32 * n, 32)]


def _affinity(declared: str) -> str:
    """SQLite's column affinity for a declared type (the rules of sqlite.org/datatype3.html 3.1)."""
    declared = declared.upper()
    if "INT" in declared:
        return "INTEGER"
    if any(word in declared for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if not declared or "BLOB" in declared:
        return "BLOB"
    if any(word in declared for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


def _affinities(store: Store, table: str) -> dict[str, str]:
    cache = store.__dict__.setdefault("column_affinities", {})
    if table not in cache:
        cache[table] = {r[1]: _affinity(r[2] or "") for r in store.conn.execute(f"PRAGMA table_info({table})")}
    return cache[table]


def json_exact_floats(values: Iterable[float]) -> bool:
    """json_exact_float for many values, the common case decided on their repr lengths in C."""
    values = [v for v in values if type(v) is float]
    texts = list(map(repr, values))
    joined = ",".join(texts)
    # A repr of at most 16 characters without an exponent (nor nan/inf) has at most 15 digits; zero
    # (and its sign) is left to the careful check.
    if "e" not in joined and "n" not in joined and max(map(len, texts), default=0) <= 16 and 0.0 not in values:
        return True
    return all(json_exact_float(v) for v in values)


def json_exact_float(value: float) -> bool:
    """True when SQLite's json_object() writes this float as Python's json does."""
    # SQLite writes a REAL into JSON with 15 significant digits (%!.15g), Python with the shortest
    # round trip: the same text for finite numbers of at most 15 digits written without an exponent.
    return (value == 0.0 and str(value) == "0.0") or (
        1e-4 <= abs(value) < 1e15 and float(f"{value:.15g}") == value)


# What SQLite's json_object() writes exactly as _encode_object does, per column affinity: a value
# of another type would be stored converted (text "5" in an INTEGER column becomes 5) or rendered
# differently (True is 1 in SQLite, true in JSON), so such rows are encoded in Python instead.
_SQL_JSON_TYPES = {"TEXT": {str}, "INTEGER": {int}, "NUMERIC": {int}, "REAL": {float}, "BLOB": {str, int, float}}
# json_object() takes at most 127 arguments in SQLite's default build (two per column).
_SQL_JSON_MAX_COLUMNS = 63


def _sql_json_matches(store: Store, table: str, names: Sequence[str], records: Sequence[tuple],
                      offset: int) -> bool:
    """True when json_object() over the stored row gives, byte for byte, what _encode_object would."""
    if len(names) > _SQL_JSON_MAX_COLUMNS:
        return False
    affinity = _affinities(store, table)
    return all(_json_exact_column(column, _SQL_JSON_TYPES.get(affinity.get(name, "BLOB"), set()))
               for name, column in zip(names, list(zip(*records))[offset:]))


def _json_exact_column(column: Sequence[Any], allowed: set[type]) -> bool:
    """True when SQLite's json_object() writes each value (None or of an allowed type) as _encode_object would."""
    kinds = set(map(type, column))
    kinds.discard(type(None))
    if not kinds <= allowed:
        return False  # (e.g. True binds as 1, which Python's JSON writes as true)
    if str in kinds and "\x00" in "".join(filter(None, column) if kinds == {str} else
                                        (v for v in column if type(v) is str)):
        return False  # SQLite's JSON text stops at a NUL character
    return float not in kinds or json_exact_floats(column)


def insert(store: Store, table: str, values: Mapping[str, Any]) -> int:
    """Insert one row and log it; returns the new id."""
    return insert_many(store, table, [values])[0]


def insert_many(store: Store, table: str, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert rows (all with the same keys) and log each as one 'insert' change; returns their ids."""
    if not rows:
        return []
    keys = [k for k in rows[0] if k not in _AUDIT_COLUMNS]
    _check_columns(store, table, keys)
    now = utc_now()
    with store.atomic():
        first = (store.scalar(f"SELECT max(id) FROM {table}") or 0) + 1
        ids = list(range(first, first + len(rows)))
        full_keys = ["id", "uid", "created_at", "updated_at", *keys]
        first_keys = rows[0].keys()
        values_of = operator.itemgetter(*keys) if len(keys) > 1 else (lambda row: tuple(row[k] for k in keys))
        given_uids = "uid" in first_keys
        records = []
        for row_id, row, uid in zip(ids, rows, new_uids(len(rows))):
            if row.keys() != first_keys:
                raise ValueError(f"rows for {table} must all have the same columns")
            records.append((row_id, (row["uid"] or uid) if given_uids else uid, now, now, *values_of(row)))
        payload_keys = full_keys[1:]
        if _sql_json_matches(store, table, keys, records, 4):
            # The log rows are made by SQLite from the rows just written: the same JSON text as
            # _encode_object, without building and encoding 100,000 dicts in Python (0.9 s of an import).
            _insert_rows(store.conn, table, full_keys, records)
            _log_inserts_from_table(store, table, payload_keys, first, len(records))
        else:
            log = [(table, record[0], record[1], "insert", None, _encode_object(dict(zip(payload_keys, record[1:]))),
                    hlc, store.node_id) for record, hlc in zip(records, store.clock.stamps(len(records)))]
            _log(store, log)  # log first, as in update_known (no slower here, and much faster there)
            _insert_rows(store.conn, table, full_keys, records)
    return ids


def _log_inserts_from_table(store: Store, table: str, payload_keys: Sequence[str], first: int, count: int) -> None:
    """Log rows first..first+count-1 of table as inserts, one clock reading each, in id order."""
    millis, counter = store.clock.reserve(count)
    obj = ", ".join(f"'{k}', {k}" for k in payload_keys)
    per = MAX_COUNTER_SPAN
    # Reading i is millis + (counter + i) // 100,000, counter (counter + i) % 100,000 (HybridLogicalClock).
    store.conn.execute(
        f"INSERT INTO change_log ({', '.join(_LOG_COLUMNS)}) "
        f"SELECT ?1, id, uid, 'insert', NULL, json_object({obj}), "
        f"printf('%015d-%05d-%s', ?2 + (?3 + id - ?4) / {per}, (?3 + id - ?4) % {per}, ?5), ?5 "
        f"FROM {table} WHERE id BETWEEN ?4 AND ?6 ORDER BY id",
        (table, millis, counter, first, store.node_id, first + count - 1))


def update(store: Store, table: str, row_id: int, values: Mapping[str, Any]) -> dict[str, Any]:
    """Change some columns of one row, logging the edit; returns the old values of what changed."""
    forbidden = _AUDIT_COLUMNS.intersection(values)
    if forbidden:
        raise ValueError(f"{sorted(forbidden)[0]} cannot be edited")
    _check_columns(store, table, values)
    with store.atomic():
        row = store.conn.execute(f"SELECT * FROM {table} WHERE id = ?", (row_id,)).fetchone()
        if row is None:
            raise KeyError(f"{table} {row_id} does not exist")
        changed = {k: v for k, v in values.items() if row[k] != v}
        if not changed:
            return {}
        now = utc_now()
        assignments = ", ".join(f"{k} = ?" for k in changed)
        store.conn.execute(
            f"UPDATE {table} SET {assignments}, updated_at = ? WHERE id = ?",
            (*changed.values(), now, row_id),
        )
        _log(store, [(table, row_id, row["uid"], "update", None, _encode_object(changed),
                      str(store.clock.now()), store.node_id)])
        return {k: row[k] for k in changed}


def update_many(store: Store, table: str, changes: Mapping[int, Mapping[str, Any]]) -> dict[int, dict[str, Any]]:
    """Apply update() to many rows in one transaction; returns old values per changed row."""
    with store.atomic():
        old = {row_id: update(store, table, row_id, vals) for row_id, vals in changes.items()}
    return {k: v for k, v in old.items() if v}


def update_known(store: Store, table: str, edits: Iterable[tuple[int, str, Mapping[str, Any]]]) -> int:
    """Bulk update for callers that already hold the old values (imports, geocoding): no read per row.

    Takes (row id, row uid, {column: new value}) edits known to differ and logs each exactly as
    update() does; returns the rows changed.
    """
    edits = [edit for edit in edits if edit[2]]
    if not edits:
        return 0
    now = utc_now()
    groups: dict[tuple[str, ...], list[tuple]] = defaultdict(list)
    for (row_id, uid, values), hlc in zip(edits, store.clock.stamps(len(edits))):
        groups[tuple(values)].append((*values.values(), now, row_id, uid, hlc))
    _apply_updates(store, table, groups)
    return len(edits)


def update_columns(store: Store, table: str, keys: Sequence[str], rows: Sequence[tuple]) -> int:
    """update_known for edits that all set the same columns, given as (row id, row uid, *values in keys order).

    The same writes and log rows as update_known with {key: value} edits, without a dict per row
    (offline geocoding sets lat, lon, precision and time on 100,000 accounts at once).
    """
    if not rows or not keys:
        return 0
    now = utc_now()
    params = [(*row[2:], now, row[0], row[1], hlc) for row, hlc in zip(rows, store.clock.stamps(len(rows)))]
    _apply_updates(store, table, {tuple(keys): params})
    return len(rows)


def _apply_updates(store: Store, table: str, groups: dict[tuple[str, ...], list[tuple]]) -> None:
    """Write and log edits grouped by the columns they set: rows (*values, updated_at, id, uid, hlc)."""
    # Checked per distinct set of columns (a handful), not per row.
    for keys in groups:
        if _AUDIT_COLUMNS.intersection(keys):
            raise ValueError("id, uid and audit columns cannot be edited")
        _check_columns(store, table, keys)
    node = store.node_id
    count = sum(map(len, groups.values()))
    with store.atomic():
        ids = [row[len(keys) + 1] for keys, params in groups.items() for row in params]
        if count >= 4 and _UPDATE_FROM and len(set(ids)) == count and all(
                _json_plain(keys, params) for keys, params in groups.items()):
            # SQLite writes the log rows' JSON from the same parameters the UPDATE binds (identical
            # text, see _json_plain), sparing 100,000 dicts encoded in Python when geocoding.
            if len(groups) > 1:
                # Logged group by group: fresh readings in that order keep log order = clock order.
                fresh = iter(store.clock.stamps(count))
                for params in groups.values():
                    params[:] = [(*row[:-1], next(fresh)) for row in params]
            for keys, params in groups.items():
                _log_updates_from_values(store.conn, table, node, keys, params)
        else:
            log = [(table, row[n + 1], row[n + 2], "update", None, _encode_object(dict(zip(keys, row))), row[n + 3],
                    node) for keys, params in groups.items() for n in (len(keys),) for row in params]
            log.sort(key=operator.itemgetter(6))  # in the order the edits were made
            _log(store, log)
        # The log first: appending 100,000 log rows after the UPDATE had dirtied the table's pages
        # took four times as long as before it (measured: 2.3 s against 0.5 s; same transaction).
        for keys, params in groups.items():
            _update_rows(store.conn, table, keys, params, extra=2)


def _json_plain(keys: Sequence[str], params: Sequence[tuple]) -> bool:
    """True when SQLite's json_object() writes these bound values exactly as _encode_object would."""
    return all(_json_exact_column(column, {str, int, float}) for column in list(zip(*params))[:len(keys)])


def _log_updates_from_values(conn: sqlite3.Connection, table: str, node: str, keys: Sequence[str],
                             params: Sequence[tuple]) -> None:
    """Log rows (*values of keys, updated_at, id, uid, hlc) as update edits, JSON made by SQLite, in order."""
    width = len(keys) + 4
    one = "(" + ", ".join("?" * width) + ")"
    obj = ", ".join(f"'{k}', v.column{i}" for i, k in enumerate(keys, start=1))
    n = len(keys)
    head = (f"INSERT INTO change_log ({', '.join(_LOG_COLUMNS)}) SELECT ?, v.column{n + 2}, v.column{n + 3}, "
            f"'update', NULL, json_object({obj}), v.column{n + 4}, ? FROM (VALUES ")
    _run_chunked(conn, params, width, lambda count: head + ", ".join([one] * count) + ") AS v",
                 prefix=(table, node))


def delete(store: Store, table: str, row_id: int) -> None:
    """Tombstone a row (deleted_at set) and log the delete; the row stays for sync and undo."""
    with store.atomic():
        row = store.conn.execute(f"SELECT uid, deleted_at FROM {table} WHERE id = ?", (row_id,)).fetchone()
        if row is None:
            raise KeyError(f"{table} {row_id} does not exist")
        if row["deleted_at"]:
            return
        now = utc_now()
        store.conn.execute(f"UPDATE {table} SET deleted_at = ?, updated_at = ? WHERE id = ?", (now, now, row_id))
        _log(store, [(table, row_id, row["uid"], "delete", None, _encode_object({"deleted_at": now}),
                      str(store.clock.now()), store.node_id)])


def restore(store: Store, table: str, row_id: int) -> None:
    """Undo a tombstone; logged as an update of deleted_at back to null."""
    with store.atomic():
        row = store.conn.execute(f"SELECT uid FROM {table} WHERE id = ?", (row_id,)).fetchone()
        if row is None:
            raise KeyError(f"{table} {row_id} does not exist")
        store.conn.execute(f"UPDATE {table} SET deleted_at = NULL, updated_at = ? WHERE id = ?", (utc_now(), row_id))
        _log(store, [(table, row_id, row["uid"], "update", None, _encode_object({"deleted_at": None}),
                      str(store.clock.now()), store.node_id)])


_LOG_COLUMNS = ("table_name", "row_id", "row_uid", "op", "column_name", "value", "hlc", "node_id")


def _log(store: Store, entries: list[tuple]) -> None:
    _insert_rows(store.conn, "change_log", _LOG_COLUMNS, entries)


# Bulk statements carry many rows each: per row, sqlite3's executemany costs a statement step and
# its bookkeeping, which made up half of writing 100,000 rows. 999 is the smallest limit on bound
# parameters any SQLite build has had, so these statements run everywhere.
_MAX_PARAMETERS = 999
# UPDATE ... FROM arrived in SQLite 3.33; older builds update row by row.
_UPDATE_FROM = sqlite3.sqlite_version_info >= (3, 33, 0)


def _run_chunked(conn: sqlite3.Connection, rows: Sequence[tuple], width: int, statement_for,
                 prefix: tuple = ()) -> None:
    """Run statement_for(n) (a statement with n rows of `width` parameters, after `prefix`) over rows, in order."""
    per = max(1, (_MAX_PARAMETERS - len(prefix)) // width)
    statements: dict[int, str] = {}
    for start in range(0, len(rows), per):
        chunk = rows[start:start + per]
        if len(chunk) not in statements:
            statements[len(chunk)] = statement_for(len(chunk))
        conn.execute(statements[len(chunk)], [*prefix, *itertools.chain.from_iterable(chunk)])


def insert_plain(conn: sqlite3.Connection, table: str, names: Sequence[str], rows: Sequence[tuple]) -> None:
    """INSERT rows into a table that is not synced (temporary tables, caches), many per statement; NOT logged."""
    _insert_rows(conn, table, names, rows)


def _insert_rows(conn: sqlite3.Connection, table: str, names: Sequence[str], rows: Sequence[tuple]) -> None:
    """INSERT rows (tuples in `names` order), in order, many per statement."""
    one = "(" + ", ".join("?" * len(names)) + ")"
    head = f"INSERT INTO {table} ({', '.join(names)}) VALUES "
    _run_chunked(conn, rows, len(names), lambda n: head + ", ".join([one] * n))


def _update_rows(conn: sqlite3.Connection, table: str, keys: Sequence[str], rows: Sequence[tuple],
                 extra: int = 0) -> None:
    """UPDATE table SET keys..., updated_at WHERE id, from rows (*values of keys, updated_at, id, *extra).

    `extra` trailing items of each row are not used here (the uid and clock reading the log took).
    """
    n = len(keys)
    ids = [row[n + 1] for row in rows]
    if len(rows) < 4 or not _UPDATE_FROM or len(set(ids)) != len(ids):
        # (The same row twice must end with the later values, which only row by row guarantees.)
        assignments = ", ".join(f"{k} = ?" for k in keys)
        conn.executemany(f"UPDATE {table} SET {assignments}, updated_at = ? WHERE id = ?",
                         [row[:n + 2] for row in rows] if extra else rows)
        return
    width = n + 2 + extra
    one = "(" + ", ".join("?" * width) + ")"
    sets = ", ".join(f"{k} = v.column{i}" for i, k in enumerate([*keys, "updated_at"], start=1))
    _run_chunked(conn, rows, width, lambda count: f"UPDATE {table} SET {sets} FROM (VALUES {', '.join([one] * count)}) "
                                                 f"AS v WHERE {table}.id = v.column{n + 2}")


def new_uid_run(n: int) -> list[str]:
    """n ids for one bulk insert: a random 64-bit prefix for the run, then a counter from a random start.

    As unique as new_uids() for sync (64 random bits per run, and a run never repeats its counter),
    but one after another in the table's unique uid index: 100,000 random ids scattered their index
    entries over every page of it, a fifth of writing 100,000 routing decisions.
    """
    prefix = os.urandom(8).hex()
    start = int.from_bytes(os.urandom(8), "big") & ((1 << 63) - 1)  # room to count on without wrapping
    return [f"{prefix}{start + i:016x}" for i in range(n)]


def update_from_query(store: Store, table: str, keys: Sequence[str], query: str, params: Sequence[Any] = (),
                      checked: Sequence[str] = ()) -> int:
    """Update rows of `table` from a query giving (id, uid, *values in keys order) per row, logged as update() logs.

    The rows never pass through Python: SQLite fills a scratch table from the query, writes the
    log rows (JSON by json_object, one clock reading each, in the query's order) and then the
    UPDATE. For edits derived from rows just written, such as routing 100,000 leads from their
    decisions, or from a table already in the database (offline geocoding joins accounts with
    the ZIP centroids). Each row must appear once; a value that json_object would not write as the
    log's JSON encoder does (a REAL, a BLOB, a NUL in text) sends the rows the Python way
    (update_columns) — except REALs in the `checked` keys, whose every value the caller has
    checked with json_exact_float where they came from. Returns the rows changed.
    """
    if _AUDIT_COLUMNS.intersection(keys):
        raise ValueError("id, uid and audit columns cannot be edited")
    _check_columns(store, table, keys)
    names = [f"c{i}" for i in range(len(keys))]
    conn = store.conn
    with store.atomic():
        conn.execute("DROP TABLE IF EXISTS temp.bulk_edits")
        conn.execute(f"CREATE TEMP TABLE bulk_edits (seq INTEGER PRIMARY KEY, id, uid, {', '.join(names)})")
        try:
            conn.execute(f"INSERT INTO temp.bulk_edits (id, uid, {', '.join(names)}) {query}", params)
            count, distinct = conn.execute("SELECT count(*), count(DISTINCT id) FROM temp.bulk_edits").fetchone()
            if count != distinct:
                raise ValueError(f"update_from_query: the same {table} row twice")
            if not count:
                return 0
            kinds = {False: "'text', 'integer', 'null'", True: "'text', 'integer', 'null', 'real'"}
            odd = " OR ".join(f"typeof({c}) NOT IN ({kinds[k in checked]}) OR instr({c}, char(0)) > 0"
                              for k, c in zip(keys, names))
            if conn.execute(f"SELECT 1 FROM temp.bulk_edits WHERE {odd} LIMIT 1").fetchone():
                rows = conn.execute(f"SELECT id, uid, {', '.join(names)} FROM temp.bulk_edits ORDER BY seq").fetchall()
                return update_columns(store, table, keys, [tuple(r) for r in rows])
            now = utc_now()
            millis, counter = store.clock.reserve(count)
            per = MAX_COUNTER_SPAN
            obj = ", ".join(f"'{k}', {c}" for k, c in zip(keys, names))
            # The log first, as in _apply_updates (faster before the UPDATE dirties the table's pages).
            conn.execute(
                f"INSERT INTO change_log ({', '.join(_LOG_COLUMNS)}) "
                f"SELECT ?1, id, uid, 'update', NULL, json_object({obj}), "
                f"printf('%015d-%05d-%s', ?2 + (?3 + seq - 1) / {per}, (?3 + seq - 1) % {per}, ?4), ?4 "
                f"FROM temp.bulk_edits ORDER BY seq", (table, millis, counter, store.node_id))
            sets = ", ".join(f"{k} = e.{c}" for k, c in zip(keys, names))
            conn.execute(f"UPDATE {table} SET {sets}, updated_at = ? FROM temp.bulk_edits AS e "
                         f"WHERE {table}.id = e.id", (now,))
            return count
        finally:
            conn.execute("DROP TABLE IF EXISTS temp.bulk_edits")
