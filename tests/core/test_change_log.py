"""Every user-visible write lands in change_log in the same transaction, with a rising hybrid clock."""

from __future__ import annotations

import json

import pytest

from core.clock import HybridLogicalClock, Timestamp
from core.storage import change_log, writes
from core.storage.database import open_database


def log(store, table=None):
    sql = "SELECT * FROM change_log" + (" WHERE table_name = ?" if table else "") + " ORDER BY seq"
    return [dict(r) for r in store.query(sql, (table,) if table else ())]


def test_insert_update_delete_restore_are_logged(empty_store):
    s = empty_store
    rep = writes.insert(s, "reps", {"name": "Ana", "role": "rep"})
    entries = log(s, "reps")
    assert [e["op"] for e in entries] == ["insert"]
    payload = json.loads(entries[0]["value"])
    assert payload["name"] == "Ana" and payload["uid"] == entries[0]["row_uid"]

    old = writes.update(s, "reps", rep, {"name": "Ana B", "role": "rep"})
    assert old == {"name": "Ana"}  # unchanged columns are neither changed nor logged
    writes.delete(s, "reps", rep)
    writes.restore(s, "reps", rep)
    entries = log(s, "reps")
    # One row per edit, holding the columns it set as one JSON object.
    assert [(e["op"], e["column_name"]) for e in entries] == [
        ("insert", None), ("update", None), ("delete", None), ("update", None)]
    assert json.loads(entries[1]["value"]) == {"name": "Ana B"}
    read = list(change_log.edits(s, table="reps"))
    assert [(e.op, e.values) for e in read[1:]] == [
        ("update", {"name": "Ana B"}), ("delete", {"deleted_at": read[2].values["deleted_at"]}),
        ("update", {"deleted_at": None})]
    assert read[2].values["deleted_at"] and read[0].values["name"] == "Ana"
    hlcs = [e["hlc"] for e in entries]
    assert hlcs == sorted(hlcs) and len(set(hlcs)) == len(hlcs)
    assert {e["node_id"] for e in entries} == {s.node_id}
    row = s.query("SELECT deleted_at FROM reps WHERE id = ?", (rep,))[0]
    assert row["deleted_at"] is None


def test_delete_is_a_tombstone(empty_store):
    rep = writes.insert(empty_store, "reps", {"name": "Bo"})
    writes.delete(empty_store, "reps", rep)
    row = empty_store.query("SELECT name, deleted_at FROM reps WHERE id = ?", (rep,))[0]
    assert row["name"] == "Bo" and row["deleted_at"]


def test_a_failed_transaction_leaves_neither_row_nor_log(empty_store):
    s = empty_store
    with pytest.raises(RuntimeError):
        with s.atomic():
            writes.insert(s, "reps", {"name": "Temp"})
            raise RuntimeError("user cancelled")
    assert s.scalar("SELECT count(*) FROM reps") == 0
    assert s.scalar("SELECT count(*) FROM change_log") == 0


def test_constraint_violation_rolls_back_the_whole_batch(empty_store):
    s = empty_store
    with pytest.raises(Exception):
        writes.insert_many(s, "accounts", [{"name": "ok", "lat": 10.0}, {"name": "bad", "lat": 123.0}])
    assert s.scalar("SELECT count(*) FROM accounts") == 0
    assert s.scalar("SELECT count(*) FROM change_log") == 0


def test_unknown_columns_and_protected_columns_are_refused(empty_store):
    with pytest.raises(ValueError, match="no column"):
        writes.insert(empty_store, "reps", {"name": "X", "shoe_size": 9})
    rep = writes.insert(empty_store, "reps", {"name": "X"})
    with pytest.raises(ValueError, match="cannot be edited"):
        writes.update(empty_store, "reps", rep, {"uid": "mine"})


def test_every_table_of_the_demo_is_fully_logged(demo_store):
    """Each row the demo wrote through the services has its insert in the change log."""
    tables = [r[0] for r in demo_store.query(
        "SELECT DISTINCT table_name FROM change_log")]
    assert {"reps", "accounts", "territories", "visits", "trips", "expenses", "expense_reports", "leads",
            "assignments", "rate_tables", "goals", "lead_queues", "queue_members"} <= set(tables)
    for table in tables:
        rows = demo_store.scalar(f"SELECT count(*) FROM {table}")
        inserts = demo_store.scalar("SELECT count(*) FROM change_log WHERE table_name = ? AND op = 'insert'",
                                    (table,))
        assert rows == inserts, table


def test_clock_survives_reopening(tmp_path):
    path = tmp_path / "c.sqlite"
    s = open_database(path, create=True)
    writes.insert(s, "reps", {"name": "A"})
    last = s.scalar("SELECT max(hlc) FROM change_log")
    node = s.node_id
    s.close()
    s = open_database(path)
    assert s.node_id == node
    assert str(s.clock.now()) > last
    s.close()


def test_hybrid_clock_orders_local_and_remote_events():
    wall = iter([1000, 1000, 999, 5000, 5000]).__next__
    clock = HybridLogicalClock("a", wall=wall)
    t1 = clock.now()
    t2 = clock.now()
    t3 = clock.now()  # wall clock went backwards: still later
    assert t1 < t2 < t3
    remote = Timestamp(9000, 4, "b")
    t4 = clock.receive(remote)
    assert t4 > remote and t4.node == "a"
    assert Timestamp.parse(str(t4)) == t4
    assert str(Timestamp(5, 1, "x")) < str(Timestamp(40, 0, "x"))


def test_an_edit_of_many_columns_is_one_log_row_with_one_clock_reading(empty_store):
    s = empty_store
    a = writes.insert(s, "accounts", {"name": "A"})
    writes.update(s, "accounts", a, {"lat": 30.5, "lon": -97.7, "city": "Austin"})
    updates = [e for e in change_log.edits(s, table="accounts", row_id=a) if e.op == "update"]
    assert len(updates) == 1 and updates[0].values == {"lat": 30.5, "lon": -97.7, "city": "Austin"}


def test_logs_written_one_column_per_row_read_back_alike(empty_store):
    """Databases from before one-row-per-edit hold a column name and a bare value; sync reads both."""
    s = empty_store
    a = writes.insert(s, "accounts", {"name": "A"})
    uid = s.scalar("SELECT uid FROM accounts WHERE id = ?", (a,))
    with s.atomic():
        s.conn.execute("INSERT INTO change_log (table_name, row_id, row_uid, op, column_name, value, hlc, node_id) "
                       "VALUES ('accounts', ?, ?, 'update', 'city', '\"Waco\"', ?, ?)",
                       (a, uid, str(s.clock.now()), s.node_id))
    last = list(change_log.edits(s, table="accounts"))[-1]
    assert (last.op, last.values) == ("update", {"city": "Waco"})
    assert change_log.changed_columns(s, "accounts", a, op="update") == ["city"]


def test_bulk_stamps_keep_text_order_past_the_counter_width():
    """A bulk write can take more readings in one millisecond than the counter's five digits hold."""
    clock = HybridLogicalClock("n", wall=lambda: 1_000)
    first = str(clock.now())
    many = clock.stamps(120_000)
    after = str(clock.now())
    texts = [first, *many, after]
    assert texts == sorted(texts) and len(set(texts)) == len(texts)
    assert [Timestamp.parse(t) for t in texts] == sorted(Timestamp.parse(t) for t in texts)
    assert all(len(t) == len(first) for t in texts)


def test_bulk_stamps_follow_the_wall_clock_like_single_readings():
    wall = iter([5_000, 9_000, 9_000]).__next__
    clock = HybridLogicalClock("n", wall=wall)
    assert str(clock.now()) == "000000000005000-00000-n"
    assert clock.stamps(2) == ["000000000009000-00000-n", "000000000009000-00001-n"]
    assert str(clock.now()) == "000000000009000-00002-n"


def test_a_clock_that_ran_days_ahead_comes_back_once_the_date_is_right():
    """The server refuses edits stamped more than a day ahead; a clock that kept such a reading after the
    date was fixed would have every later edit refused until real time caught up."""
    day = 24 * 3600 * 1000
    now = 1_800_000_000_000
    wall = [now + 3 * day]  # the date set three days ahead
    clock = HybridLogicalClock("n", wall=lambda: wall[0])
    wrong = clock.now()
    wall[0] = now  # the date set right
    fixed = clock.now()
    assert fixed.millis == now and fixed < wrong
    assert clock.now() > fixed and clock.stamps(2)[0] > str(fixed)
    # Drift short of a day is kept: the clock never goes back for it.
    clock = HybridLogicalClock("n", Timestamp(now + 3_600_000, 7, "n"), wall=lambda: now)
    assert clock.now() == Timestamp(now + 3_600_000, 8, "n")
    # A reading from another device's wrong date is not adopted.
    clock = HybridLogicalClock("n", wall=lambda: now)
    assert clock.receive(Timestamp(now + 5 * day, 0, "b")).millis == now
