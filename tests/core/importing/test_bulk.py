"""Bulk writes: update_known logs like update(); big loads rebuild plain indexes once, and leave the schema as it was."""

from __future__ import annotations

import json
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.importing import import_accounts, importer
from core.importing.samples import write_sample
from core.progress import Cancelled, NullProgress
from core.storage import change_log, open_database, writes
from core.storage.bulk import indexes_rebuilt_after
from core.storage.writes import update_known


def test_update_known_logs_like_writes_update(empty_store):
    a = writes.insert(empty_store, "accounts", {"name": "A"})
    b = writes.insert(empty_store, "accounts", {"name": "B"})
    uid_b = empty_store.scalar("SELECT uid FROM accounts WHERE id = ?", (b,))
    writes.update(empty_store, "accounts", a, {"lat": 30.5, "city": "Austin"})
    update_known(empty_store, "accounts", [(b, uid_b, {"lat": 30.5, "city": "Austin"})])
    logged = {row["row_id"]: (row["column_name"], row["value"]) for row in
              empty_store.query("SELECT row_id, column_name, value FROM change_log WHERE op = 'update'")}
    assert logged[a] == logged[b] == (None, '{"lat":30.5,"city":"Austin"}')
    assert empty_store.scalar("SELECT city FROM accounts WHERE id = ?", (b,)) == "Austin"


def index_sql(store):
    return sorted(tuple(r) for r in store.query(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'accounts'"))


def test_indexes_are_dropped_for_the_load_and_back_when_it_ends(empty_store):
    before = index_sql(empty_store)
    with empty_store.atomic():
        with indexes_rebuilt_after(empty_store, "accounts"):
            during = {r[0] for r in index_sql(empty_store)}
            writes.insert_many(empty_store, "accounts", [{"name": f"A{i}", "postal_code": "78701"} for i in range(50)])
    assert "accounts_postal_code" not in during and "accounts_external_id" in during, "unique ones stay"
    assert index_sql(empty_store) == before
    plan = " ".join(r[3] for r in empty_store.query("EXPLAIN QUERY PLAN SELECT id FROM accounts WHERE postal_code = '78701'"))
    assert "accounts_postal_code" in plan


def test_a_failed_load_rolls_the_indexes_back_too(empty_store):
    before = index_sql(empty_store)
    with pytest.raises(RuntimeError):
        with empty_store.atomic():
            with indexes_rebuilt_after(empty_store, "accounts"):
                raise RuntimeError("cancelled")
    assert index_sql(empty_store) == before
    with pytest.raises(RuntimeError, match="inside store.atomic"):
        with indexes_rebuilt_after(empty_store, "accounts"):
            pass


class CancelAfter(NullProgress):
    """Cancels once the import has reported this many times (i.e. part-way through the file)."""

    def __init__(self, updates: int) -> None:
        super().__init__()
        self.left = updates

    def update(self, done, total, message=""):
        self.left -= 1
        if self.left <= 0:
            self.cancel()


def test_a_big_import_takes_the_bulk_route_and_leaves_the_schema_as_it_was(empty_store, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "BULK_MIN_NEW_ROWS", 100)
    monkeypatch.setattr(importer, "BATCH_ROWS", 200)
    path = tmp_path / "sf.csv"
    write_sample(path, "salesforce", 1500)
    before = index_sql(empty_store)
    statements = []
    empty_store.conn.set_trace_callback(statements.append)
    try:
        result = import_accounts(empty_store, path)
    finally:
        empty_store.conn.set_trace_callback(None)
    assert any(s.startswith("DROP INDEX") for s in statements), "a file this big should load without its indexes"
    assert result.inserted == empty_store.scalar("SELECT count(*) FROM accounts") == 1500
    assert index_sql(empty_store) == before
    assert empty_store.scalar("PRAGMA integrity_check") == "ok"


def test_a_bulk_import_cancelled_part_way_leaves_nothing_and_every_index(empty_store, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "BULK_MIN_NEW_ROWS", 100)
    monkeypatch.setattr(importer, "BATCH_ROWS", 200)
    monkeypatch.setattr(importer.time, "monotonic", iter(range(0, 10**6)).__next__)  # report every row
    path = tmp_path / "sf.csv"
    write_sample(path, "salesforce", 1500)
    before = index_sql(empty_store)
    statements = []
    empty_store.conn.set_trace_callback(statements.append)
    with pytest.raises(Cancelled):
        import_accounts(empty_store, path, progress=CancelAfter(800))
    empty_store.conn.set_trace_callback(None)
    assert any(s.startswith("DROP INDEX") for s in statements)
    assert sum(s.startswith("INSERT INTO accounts") for s in statements) >= 3, "cancelled after some batches"
    assert empty_store.scalar("SELECT count(*) FROM accounts") == 0
    assert empty_store.scalar("SELECT count(*) FROM change_log") == 0
    assert index_sql(empty_store) == before


def test_many_rows_per_statement_keep_order_ids_and_log(empty_store):
    """insert_many writes many rows per statement; ids, values and log order must be as row by row."""
    rows = [{"name": f"A{i:04d}", "employees": i, "lat": 30 + i / 7000, "city": None if i % 3 else "Waco"}
            for i in range(1000)]  # several statement-sized chunks and a remainder
    ids = writes.insert_many(empty_store, "accounts", rows)
    stored = empty_store.query("SELECT id, name, employees, lat, city FROM accounts ORDER BY id")
    assert [r["id"] for r in stored] == ids == list(range(1, 1001))
    assert [(r["name"], r["employees"], r["lat"], r["city"]) for r in stored] == \
        [(r["name"], r["employees"], r["lat"], r["city"]) for r in rows]
    logged = empty_store.query("SELECT row_id, value FROM change_log ORDER BY seq")
    assert [r["row_id"] for r in logged] == ids
    assert all(json.loads(r["value"])["name"] == f"A{i:04d}" for i, r in enumerate(logged))


def test_bulk_update_matches_row_by_row_even_with_repeated_rows(tmp_path):
    a = open_database(tmp_path / "a.sqlite", create=True)
    b = open_database(tmp_path / "b.sqlite", create=True)
    rows = [{"name": f"A{i}"} for i in range(300)]
    for store in (a, b):
        writes.insert_many(store, "accounts", rows)
    edits = [(i, f"uid{i}", {"lat": 30 + i / 1000, "city": f"C{i}"}) for i in range(1, 301)]
    edits += [(7, "uid7", {"lat": 1.5, "city": "Later"})]  # the same row again: the later edit wins
    update_known(a, "accounts", edits[:300])
    update_known(a, "accounts", edits)
    for row_id, _, values in edits[:300] + edits:
        writes.update(b, "accounts", row_id, values)
    state = "SELECT id, lat, city FROM accounts ORDER BY id"
    assert [tuple(r) for r in a.query(state)] == [tuple(r) for r in b.query(state)]
    assert a.scalar("SELECT city FROM accounts WHERE id = 7") == "Later"
    a.close()
    b.close()


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["name", "lat", "city", "employees", "notes"]),
                       st.one_of(st.none(), st.integers(), st.floats(), st.text(), st.booleans()), max_size=5))
def test_logged_values_are_exactly_what_the_json_encoder_writes(values):
    assert writes._encode_object(values) == writes._ENCODER.encode(values)


_CELL = st.one_of(st.none(), st.text(max_size=12), st.integers(min_value=-2**63, max_value=2**63 - 1),
                  st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                  st.sampled_from([30.267153, -97.743057, 0.0, -0.0, 1e-5, 12.5, 1e15, 0.1 + 0.2, "\x00", "a\x1fb",
                                   "\u2028", "\x7f", 'q"uo\\te', "Zoë"]))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.fixed_dictionaries({"name": st.text(min_size=1, max_size=8), "notes": _CELL, "city": _CELL,
                                       "employees": _CELL, "lat": _CELL, "segment": _CELL}),
                min_size=1, max_size=6))
def test_bulk_insert_log_is_what_python_would_have_written(empty_store, rows):
    """insert_many logs through SQLite's json_object when that gives the same text; otherwise in Python.

    Either way each logged value must be exactly _encode_object of the row as inserted.
    """
    rows = [{**r, "lat": r["lat"] if r["lat"] is None or (type(r["lat"]) in (int, float) and -90 <= r["lat"] <= 90)
             else None, "employees": r["employees"] if type(r["employees"]) is int and r["employees"] >= 0 else None}
            for r in rows]
    try:
        with empty_store.atomic():
            seq = empty_store.scalar("SELECT coalesce(max(seq), 0) FROM change_log")
            ids = writes.insert_many(empty_store, "accounts", rows)
            logged = empty_store.query("SELECT row_id, row_uid, value, hlc FROM change_log WHERE seq > ? ORDER BY seq",
                                       (seq,))
            assert [r["row_id"] for r in logged] == ids
            hlcs = [r["hlc"] for r in logged]
            assert hlcs == sorted(hlcs) and len(set(hlcs)) == len(hlcs)
            for entry, row in zip(logged, rows):
                stored = empty_store.conn.execute("SELECT uid, created_at, updated_at FROM accounts WHERE id = ?",
                                                  (entry["row_id"],)).fetchone()
                expected = {"uid": stored[0], "created_at": stored[1], "updated_at": stored[2],
                            **{k: row[k] for k in rows[0]}}  # (columns in the first row's order)
                assert entry["row_uid"] == stored[0]
                assert entry["value"] == writes._encode_object(expected)
            raise _Rollback
    except _Rollback:
        pass
    except sqlite3.Error:
        pass  # a value the table refuses (NUL in text is fine, but e.g. NaN in a CHECK) rolls back


class _Rollback(Exception):
    pass


def test_bulk_insert_takes_the_sql_log_route_for_import_like_rows(empty_store, monkeypatch):
    calls = []
    monkeypatch.setattr(writes, "_encode_object", lambda values: calls.append(values) or "{}")
    writes.insert_many(empty_store, "accounts", [{"name": f"A{i}", "employees": i, "lat": 30.5, "city": "Waco"}
                                                 for i in range(50)])
    assert calls == [], "plain text, whole numbers and short decimals are encoded by SQLite"
    values = [json.loads(v) for (v,) in empty_store.conn.execute("SELECT value FROM change_log ORDER BY seq")]
    assert [v["name"] for v in values] == [f"A{i}" for i in range(50)] and values[3]["lat"] == 30.5
    writes.insert_many(empty_store, "accounts", [{"name": "B", "locked": True}])
    assert len(calls) == 1, "True would be logged as 1 by SQLite: that row goes the Python way"


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.fixed_dictionaries({}, optional={"notes": _CELL, "city": _CELL, "segment": _CELL,
                                                    "street": _CELL}).filter(bool),
                min_size=1, max_size=9))
def test_bulk_update_log_is_what_python_would_have_written(empty_store, changes):
    """update_known has SQLite write the log JSON when that gives the same text; each value must equal
    _encode_object of the edit either way, one row per edit, clock readings in log order."""
    try:
        with empty_store.atomic():
            ids = writes.insert_many(empty_store, "accounts", [{"name": f"N{i}"} for i in range(len(changes))])
            uids = dict(empty_store.conn.execute("SELECT id, uid FROM accounts"))
            seq = empty_store.scalar("SELECT max(seq) FROM change_log")
            assert update_known(empty_store, "accounts", [(i, uids[i], c) for i, c in zip(ids, changes)]) == len(ids)
            logged = empty_store.query("SELECT row_id, row_uid, value, hlc, op FROM change_log WHERE seq > ? "
                                       "ORDER BY seq", (seq,))
            by_row = {r["row_id"]: r for r in logged}
            assert len(logged) == len(changes) and set(by_row) == set(ids)
            for row_id, change in zip(ids, changes):
                assert by_row[row_id]["value"] == writes._encode_object(change)
                assert by_row[row_id]["row_uid"] == uids[row_id] and by_row[row_id]["op"] == "update"
            hlcs = [r["hlc"] for r in logged]
            assert hlcs == sorted(hlcs) and len(set(hlcs)) == len(hlcs)
            raise _Rollback
    except _Rollback:
        pass


def test_geocoding_sized_updates_take_the_sql_log_route(empty_store, monkeypatch):
    ids = writes.insert_many(empty_store, "accounts", [{"name": f"A{i}"} for i in range(40)])
    uids = dict(empty_store.conn.execute("SELECT id, uid FROM accounts"))
    calls = []
    monkeypatch.setattr(writes, "_encode_object", lambda values: calls.append(values) or "{}")
    update_known(empty_store, "accounts", [(i, uids[i], {"lat": round(30.267153 + i / 1e6, 6), "lon": -97.743057,
                                                         "geocode_precision": "zip", "geocoded_at": "2026-12-02T12:00:00Z"})
                                           for i in ids])
    assert calls == []
    edits = list(change_log.edits(empty_store, table="accounts"))[-40:]
    assert [e.row_id for e in edits] == ids and all(e.op == "update" for e in edits)
    assert edits[5].values == {"lat": 30.267159, "lon": -97.743057, "geocode_precision": "zip",
                               "geocoded_at": "2026-12-02T12:00:00Z"}
    assert empty_store.scalar("SELECT lat FROM accounts WHERE id = ?", (ids[5],)) == 30.267159


@pytest.mark.parametrize("count", [2, 50])  # the row-by-row and the many-rows-per-statement paths
def test_update_columns_writes_and_logs_like_update_known(tmp_path, count):
    stores = [open_database(tmp_path / f"{name}.sqlite", create=True) for name in ("known", "columns")]
    keys = ("lat", "lon", "geocode_precision", "geocoded_at")
    for store in stores:
        writes.insert_many(store, "accounts", [{"name": f"A{i}", "uid": f"u{i}"} for i in range(count)])
    values = [(round(30 + i / 1000, 6), -97.5, "zip", "2026-12-02T12:00:00Z") for i in range(count)]
    update_known(stores[0], "accounts", [(i + 1, f"u{i}", dict(zip(keys, v))) for i, v in enumerate(values)])
    writes.update_columns(stores[1], "accounts", keys, [(i + 1, f"u{i}", *v) for i, v in enumerate(values)])
    state = "SELECT id, uid, lat, lon, geocode_precision, geocoded_at FROM accounts ORDER BY id"
    log = "SELECT row_id, row_uid, op, column_name, value FROM change_log WHERE op = 'update' ORDER BY seq"
    assert [tuple(r) for r in stores[0].query(state)] == [tuple(r) for r in stores[1].query(state)]
    assert [tuple(r) for r in stores[0].query(log)] == [tuple(r) for r in stores[1].query(log)]
    assert len(stores[1].query(log)) == count
    for store in stores:
        store.close()


def _edits_query(edits):
    # The edits as a VALUES query (id, uid, city, employees), in the order given.
    values = ", ".join("(?, ?, ?, ?)" for _ in edits)
    return (f"SELECT column1, column2, column3, column4 FROM (VALUES {values})",
            [x for row_id, uid, v in edits for x in (row_id, uid, v["city"], v["employees"])])


@pytest.mark.parametrize("city", ["Austin \u00e9\u201c", 30.25], ids=["text", "a REAL goes the Python way"])
def test_update_from_query_writes_and_logs_as_update_known(tmp_path, city):
    a = open_database(tmp_path / "a.sqlite", create=True)
    b = open_database(tmp_path / "b.sqlite", create=True)
    for store in (a, b):
        writes.insert_many(store, "accounts", [{"name": f"A{i}"} for i in range(40)])
    uids = dict(a.conn.execute("SELECT id, uid FROM accounts").fetchall())
    # Not in id order, with None and text that JSON must escape: the log keeps this order.
    edits = [(i, uids[i], {"city": None if i % 5 == 0 else f"{city}{i}" if isinstance(city, str) else city + i,
                           "employees": i * 3}) for i in (7, 3, *range(10, 40), 1)]
    update_known(a, "accounts", edits)
    sql, params = _edits_query(edits)
    assert writes.update_from_query(b, "accounts", ("city", "employees"), sql, params) == len(edits)
    state = "SELECT id, city, employees FROM accounts ORDER BY id"
    assert [tuple(r) for r in a.query(state)] == [tuple(r) for r in b.query(state)]
    logged = "SELECT row_id, row_uid, op, value FROM change_log WHERE op = 'update' ORDER BY seq"
    assert [tuple(r) for r in a.query(logged)] == [tuple(r) for r in b.query(logged)]
    hlcs = [r[0] for r in b.query("SELECT hlc FROM change_log ORDER BY seq")]
    assert hlcs == sorted(hlcs) and len(set(hlcs)) == len(hlcs), "one fresh clock reading per edit, in order"
    assert b.scalar("SELECT count(*) FROM sqlite_temp_master") == 0, "no scratch table left behind"
    a.close()
    b.close()


def test_update_from_query_refuses_the_same_row_twice_and_writes_nothing(empty_store):
    writes.insert_many(empty_store, "accounts", [{"name": "A"}])
    uid = empty_store.scalar("SELECT uid FROM accounts")
    sql, params = _edits_query([(1, uid, {"city": "X", "employees": 1}), (1, uid, {"city": "Y", "employees": 2})])
    with pytest.raises(ValueError, match="twice"):
        writes.update_from_query(empty_store, "accounts", ("city", "employees"), sql, params)
    assert empty_store.scalar("SELECT city FROM accounts") is None
    assert empty_store.scalar("SELECT count(*) FROM change_log WHERE op = 'update'") == 0


def test_a_run_of_uids_is_unique_and_in_order():
    run, other = writes.new_uid_run(5000), writes.new_uid_run(5000)
    assert run == sorted(run) and len(set(run + other)) == 10000
    assert all(len(u) == 32 and int(u, 16) >= 0 for u in run)


def test_update_from_query_takes_reals_the_caller_checked_the_sql_way(empty_store, monkeypatch):
    ids = writes.insert_many(empty_store, "accounts", [{"name": f"A{i}"} for i in range(30)])
    uids = dict(empty_store.conn.execute("SELECT id, uid FROM accounts").fetchall())
    lats = [round(30.25 + i / 1e6, 6) for i in range(30)]
    assert writes.json_exact_floats(lats)
    calls = []
    real = writes.update_columns
    monkeypatch.setattr(writes, "update_columns", lambda *a: calls.append(a) or real(*a))
    query = "SELECT column1, column2, column3, 'zip' FROM (VALUES " + ", ".join("(?, ?, ?)" for _ in ids) + ")"
    params = [x for i, lat in zip(ids, lats) for x in (i, uids[i], lat)]
    seq = empty_store.scalar("SELECT max(seq) FROM change_log")
    assert writes.update_from_query(empty_store, "accounts", ("lat", "geocode_precision"), query, params,
                                    checked=("lat",)) == 30
    assert calls == [], "checked REALs stay in SQLite"
    logged = [v for (v,) in empty_store.conn.execute("SELECT value FROM change_log WHERE seq > ? ORDER BY seq", (seq,))]
    assert logged == [writes._encode_object({"lat": lat, "geocode_precision": "zip"}) for lat in lats]
    assert [r[0] for r in empty_store.conn.execute("SELECT lat FROM accounts ORDER BY id")] == lats
    writes.update_from_query(empty_store, "accounts", ("lat",), query.replace("column3, 'zip'", "column3 + 1"), params)
    assert len(calls) == 1, "unchecked REALs go the Python way"
