"""Two laptops edit the same account offline and sync in either order: both end identical, the losing
value is in Conflicts on both and can be restored; pulled edits are not logged as local ones."""

from __future__ import annotations

import time

import pytest

from core import accounts
from core.storage import writes
from core.sync import conflicts, engine
from core.sync.transport import Server

from tests.server.conftest import ADMIN, admin_token, make_laptop

FIELDS = ("name", "phone", "city", "notes", "owner_id", "deleted_at")


def account_state(store, uid):
    row = store.conn.execute("SELECT a.name, a.phone, a.city, a.notes, r.uid AS owner, a.deleted_at FROM accounts a "
                             "LEFT JOIN reps r ON r.id = a.owner_id WHERE a.uid = ?", (uid,)).fetchone()
    return tuple(row)


def seed(laptop):
    rep = writes.insert(laptop.store, "reps", {"name": "Ann Rep", "email": "ann@example.com"})
    account_id, _ = accounts.create_account(laptop.store, {"name": "Acme Tools", "phone": "512-000", "owner_id": rep})
    return account_id


def edit_both_offline_and_sync(a, b, a_id, b_id, first, second, uid):
    """A edits phone and city, B phone and name (B's phone is the later edit); sync first, second, first
    again. Both end identical: both fields survive, the later phone wins, the other is in Conflicts."""
    accounts.update_account(a.store, a_id, {"phone": "512-AAA", "city": "Austin"})
    # Edits on two laptops in the same millisecond are concurrent: the clocks' counters and then the node ids
    # decide, so A's could win (13 of 200 back-to-back pairs shared a millisecond here). "Later" needs a tick.
    time.sleep(0.002)
    accounts.update_account(b.store, b_id, {"phone": "512-BBB", "name": "Acme Tools & Dies"})
    first.sync()
    second.sync()
    first.sync()
    state = account_state(a.store, uid)
    assert state == account_state(b.store, uid)
    assert state[:3] == ("Acme Tools & Dies", "512-BBB", "Austin"), "both fields survive, later phone wins"
    for laptop in (a, b):
        found = [c for c in conflicts.list_conflicts(laptop.store) if c.row_uid == uid]
        assert [(c.column, c.kept_value, c.lost_value) for c in found] == [("phone", "512-BBB", "512-AAA")]
        assert found[0].row_label == "Acme Tools & Dies"


@pytest.mark.parametrize("order", ["a_first", "b_first"])
def test_two_laptops_edit_the_same_account_offline_and_end_identical(server, tmp_path, order):
    a = make_laptop(tmp_path, "a", server, *ADMIN)
    a_id = seed(a)
    a.sync()
    b = make_laptop(tmp_path, "b", server, *ADMIN)
    b.sync()
    uid = a.store.scalar("SELECT uid FROM accounts WHERE id = ?", (a_id,))
    b_id = b.store.scalar("SELECT id FROM accounts WHERE uid = ?", (uid,))
    assert account_state(b.store, uid) == account_state(a.store, uid)
    assert engine.status(b.store).pending == 0, "pulled rows must not be queued as B's own edits"

    first, second = (a, b) if order == "a_first" else (b, a)
    edit_both_offline_and_sync(a, b, a_id, b_id, first, second, uid)
    for laptop in (a, b):
        assert engine.status(laptop.store).pending == 0

    # Restoring the lost value on A makes it a new edit that wins everywhere.
    conflict = conflicts.list_conflicts(a.store)[0]
    conflicts.restore(a.store, conflict.id)
    assert conflicts.list_conflicts(a.store) == []
    a.sync()
    b.sync()
    assert account_state(a.store, uid)[1] == account_state(b.store, uid)[1] == "512-AAA"
    # The restore is marked on the other laptop too, and on one that joins later.
    assert conflicts.list_conflicts(b.store) == [], "restored on A, so no longer open on B"
    assert [c.restored_at is not None for c in conflicts.list_conflicts(b.store, include_restored=True)
            if c.row_uid == uid] == [True]
    c = make_laptop(tmp_path, "c", server, *ADMIN)
    c.sync()
    assert conflicts.list_conflicts(c.store) == []
    assert len(conflicts.list_conflicts(c.store, include_restored=True)) == 1
    assert engine.get_state(a.store, "restored_unsent") == "[]", "the server was told once"


def test_deletes_travel_as_tombstones_and_a_restore_brings_the_row_back(server, tmp_path):
    a = make_laptop(tmp_path, "a", server, *ADMIN)
    a_id = seed(a)
    a.sync()
    b = make_laptop(tmp_path, "b", server, *ADMIN)
    b.sync()
    uid = a.store.scalar("SELECT uid FROM accounts WHERE id = ?", (a_id,))
    accounts.delete_account(a.store, a_id)
    a.sync()
    b.sync()
    assert b.store.scalar("SELECT deleted_at FROM accounts WHERE uid = ?", (uid,)) is not None
    b_id = b.store.scalar("SELECT id FROM accounts WHERE uid = ?", (uid,))
    accounts.restore_account(b.store, b_id)
    b.sync()
    a.sync()
    assert a.store.scalar("SELECT deleted_at FROM accounts WHERE id = ?", (a_id,)) is None


def test_a_repeated_push_applies_once(server, tmp_path):
    a = make_laptop(tmp_path, "a", server, *ADMIN)
    seed(a)
    ops = []
    for edit in a.store.conn.execute("SELECT seq, table_name, row_uid, op, value, hlc FROM change_log"):
        import json

        values = {k: v for k, v in json.loads(edit["value"]).items() if k not in ("uid", "updated_at", "owner_id")}
        ops.append({"op_id": f"{a.store.node_id}-{edit['seq']}", "table": edit["table_name"],
                    "row_uid": edit["row_uid"], "op": edit["op"], "values": values, "hlc": edit["hlc"]})
    with Server(server, admin_token(server)) as s:
        first = s.push(a.store.node_id, ops)
        cursor = s.pull(0, 100)["next_cursor"]
        again = s.push(a.store.node_id, ops)
        assert [r["status"] for r in first] == ["applied"] * len(ops)
        assert [r["status"] for r in again] == ["duplicate"] * len(ops)
        assert s.pull(cursor, 100)["objects"] == [], "a replayed push must not change or re-send any row"


def test_the_clock_stays_past_pulled_edits_after_reopening(server, tmp_path):
    from core.storage import open_database

    a = make_laptop(tmp_path, "a", server, *ADMIN)
    seed(a)
    a.sync()
    b = make_laptop(tmp_path, "b", server, *ADMIN)
    b.sync()
    newest = b.store.scalar("SELECT value FROM sync_state WHERE key = 'hlc_seen'")
    b.store.close()
    reopened = open_database(b.path)
    assert str(reopened.clock.now()) > newest
    reopened.close()


def test_a_laptop_made_by_copying_another_ones_database_file_loses_no_edit(server, tmp_path):
    """IT copies one prepared database to every laptop: each copy must sync as its own device.

    With the original's node id, the copy's operation ids repeat the original's ("already applied"
    on the server) and edits of one node never count as concurrent, so the copy's edits vanished.
    """
    a = make_laptop(tmp_path, "a", server, *ADMIN)
    a_id = seed(a)
    a.sync()
    a.store.close()
    b = make_laptop(tmp_path, "b", server, *ADMIN, source=a.path)
    a = make_laptop(tmp_path, "a", server, *ADMIN)  # the original, reopened in place: keeps its id
    assert b.store.node_id != a.store.node_id
    uid = a.store.scalar("SELECT uid FROM accounts WHERE id = ?", (a_id,))
    assert engine.status(b.store).pending == 0

    edit_both_offline_and_sync(a, b, a_id, a_id, b, a, uid)  # the copy's name and later phone, A's city


def test_a_copy_with_edits_not_yet_pushed_sends_them_under_its_new_identity(tmp_path):
    from core.storage import open_database

    path = tmp_path / "prepared.sqlite"
    store = open_database(path, create=True)
    rep = writes.insert(store, "reps", {"name": "Ann Rep", "email": "ann@example.com"})
    original = store.node_id
    store.close()
    import shutil
    shutil.copy(path, tmp_path / "copy.sqlite")
    copy = open_database(tmp_path / "copy.sqlite")
    try:
        assert copy.node_id != original
        rows = copy.conn.execute("SELECT node_id, hlc FROM change_log WHERE row_id = ?", (rep,)).fetchall()
        assert rows and all(r["node_id"] == copy.node_id and r["hlc"].endswith("-" + copy.node_id) for r in rows)
    finally:
        copy.close()
    again = open_database(path)  # the original, opened where it was made, keeps its id and its log
    try:
        assert again.node_id == original
        assert again.scalar("SELECT count(*) FROM change_log WHERE node_id != ?", (original,)) == 0
    finally:
        again.close()
    reopened = open_database(tmp_path / "copy.sqlite")
    try:
        assert reopened.node_id == copy.node_id  # a copy is re-keyed once, not at every open
    finally:
        reopened.close()


def test_an_edit_made_with_the_date_days_ahead_can_be_restored_once_the_date_is_right(server, tmp_path):
    import time

    a = make_laptop(tmp_path, "a", server, *ADMIN)
    a_id = seed(a)
    a.sync()
    real = a.store.clock._wall
    a.store.clock._wall = lambda: int((time.time() + 3 * 86400) * 1000)  # the laptop's date is three days ahead
    accounts.update_account(a.store, a_id, {"phone": "512-FUTURE"})
    a.sync()
    refused = [c for c in conflicts.list_conflicts(a.store) if c.column == "phone"]
    assert refused and "days ahead" in refused[0].reason
    a.store.clock._wall = real  # the date set right
    conflicts.restore(a.store, refused[0].id)
    a.sync()
    uid = a.store.scalar("SELECT uid FROM accounts WHERE id = ?", (a_id,))
    b = make_laptop(tmp_path, "b", server, *ADMIN)
    b.sync()
    assert account_state(b.store, uid)[1] == "512-FUTURE", "the restored edit reached the server"
    assert not [c for c in conflicts.list_conflicts(a.store) if c.column == "phone"]
