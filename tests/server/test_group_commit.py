"""The server's group commit: pushes queued together share one transaction, yet each is applied,
refused or failed on its own, and none is answered before its commit."""

from __future__ import annotations

import threading

import pytest

from server import auth, merge
from server.storage import ServerStore

from tests.server.conftest import ADMIN, CLOCK_BASE

NODE = "gcnode"


def _op(n: int, uid: str, values: dict) -> dict:
    return {"op_id": f"{NODE}-{n}", "table": "accounts", "row_uid": uid, "op": "insert", "values": values,
            "hlc": f"{CLOCK_BASE + n:015d}-00000-{NODE}"}


def _admin(store: ServerStore) -> auth.Principal:
    with store.transaction(write=False) as tx:
        admin = tx.one("SELECT id, email, role, rep_uid FROM users WHERE email = ?", (ADMIN[0],))
    return auth.Principal(int(admin["id"]), admin["email"], admin["role"], admin["rep_uid"])


def _count(store: ServerStore, sql: str) -> int:
    with store.transaction(write=False) as tx:
        return int(next(iter(tx.one(sql).values())))


def test_one_failing_push_in_a_batch_leaves_the_others_applied(database_url):
    store = ServerStore(database_url)
    try:
        who = _admin(store)
        gate, entered = threading.Event(), threading.Event()

        def hold(tx):  # keeps the writer busy so the next pushes queue into one batch
            entered.set()
            gate.wait(10)
            return "held"

        def broken(tx):  # writes, then fails: its write must be rolled back alone
            merge.push_in(tx, who, [_op(2, "broken", {"name": "half written"})])
            raise RuntimeError("this push fails after writing")

        first = store.submit_write(hold)
        assert entered.wait(10)
        good_a = store.submit_write(lambda tx: merge.push_in(tx, who, [_op(1, "a", {"name": "Acme"})]))
        bad = store.submit_write(broken)
        good_b = store.submit_write(lambda tx: merge.push_in(tx, who, [_op(3, "b", {"name": "Bolt"})]))
        refused = store.submit_write(lambda tx: merge.push_in(tx, auth.authenticate_in(tx, "no such token"), []))
        # Nothing queued behind the held work is answered before the batch it is in has committed.
        assert not any(f.done() for f in (good_a, bad, good_b, refused))
        gate.set()
        assert first.result(10) == "held"
        assert good_a.result(10)[0]["status"] == "applied"
        assert good_b.result(10)[0]["status"] == "applied"
        with pytest.raises(RuntimeError, match="fails after writing"):
            bad.result(10)
        with pytest.raises(auth.AuthError, match="unknown token"):
            refused.result(10)
        with store.transaction(write=False) as tx:
            uids = {r["row_uid"] for r in tx.all("SELECT row_uid FROM objects WHERE table_name = 'accounts'")}
            ops = {r["op_id"] for r in tx.all("SELECT op_id FROM applied_ops")}
        assert uids == {"a", "b"}
        assert ops == {f"{NODE}-1", f"{NODE}-3"}
        # The failed push can be sent again and then applies once.
        again = merge.push(store, who, [_op(2, "broken", {"name": "now whole"})])
        assert again[0]["status"] == "applied"
        assert merge.push(store, who, [_op(2, "broken", {"name": "now whole"})])[0]["status"] == "duplicate"
        assert _count(store, "SELECT count(*) AS n FROM applied_ops") == 3
    finally:
        store.close()


def test_a_push_repeating_an_op_id_in_itself_applies_it_once(sqlite_url):
    store = ServerStore(sqlite_url)
    try:
        who = _admin(store)
        one = _op(1, "a", {"name": "Acme"})
        results = merge.push(store, who, [one, one, _op(2, "a", {"phone": "512"})])
        assert [r["status"] for r in results] == ["applied", "duplicate", "applied"]
        row = merge.get_object(store, who, "accounts", "a")
        assert row["values"] == {"name": "Acme", "phone": "512"}
    finally:
        store.close()


def test_an_op_id_reused_by_another_edit_is_applied_not_taken_for_a_retry(sqlite_url):
    """A database restored from a backup over itself keeps its node id and counts its edits again: the
    same op id then names a different edit (another clock reading), which must not be answered
    'duplicate' and dropped."""
    store = ServerStore(sqlite_url)
    try:
        who = _admin(store)
        first = _op(7, "a", {"name": "Acme"})
        assert merge.push(store, who, [first])[0]["status"] == "applied"
        later = {**first, "values": {"name": "Acme Tools"}, "hlc": f"{CLOCK_BASE + 500_000:015d}-00000-{NODE}",
                 "op": "update"}
        answer = merge.push(store, who, [later])[0]
        assert answer["status"] == "applied" and answer["op_id"] == first["op_id"] and "hlc" not in answer
        assert merge.get_object(store, who, "accounts", "a")["values"]["name"] == "Acme Tools"
        # Retries of either edit are still recognised as retries and change nothing.
        assert [r["status"] for r in merge.push(store, who, [first, later])] == ["duplicate", "duplicate"]
        assert merge.get_object(store, who, "accounts", "a")["values"]["name"] == "Acme Tools"
        assert _count(store, "SELECT count(*) AS n FROM applied_ops") == 2
    finally:
        store.close()
