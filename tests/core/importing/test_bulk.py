"""Bulk logged updates (writes.update_known) write the same change_log rows as writes.update, only faster."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.storage import writes
from core.storage.writes import update_known


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.none(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.text(), st.booleans()))
def test_fast_encoding_matches_the_change_log_format(value):
    # The fast path for scalars must give what the plain JSON encoder gives.
    assert writes._encode(value) == writes._ENCODER.encode(value)


def test_update_known_logs_like_writes_update(empty_store):
    a = writes.insert(empty_store, "accounts", {"name": "A"})
    b = writes.insert(empty_store, "accounts", {"name": "B"})
    uid_b = empty_store.scalar("SELECT uid FROM accounts WHERE id = ?", (b,))
    writes.update(empty_store, "accounts", a, {"lat": 30.5, "city": "Austin"})
    update_known(empty_store, "accounts", [(b, uid_b, {"lat": 30.5, "city": "Austin"})])
    logged = {}
    for row in empty_store.query("SELECT row_id, column_name, value, op FROM change_log WHERE op = 'update'"):
        logged.setdefault(row["row_id"], set()).add((row["column_name"], row["value"], row["op"]))
    assert logged[a] == logged[b] == {("lat", "30.5", "update"), ("city", '"Austin"', "update")}
    assert empty_store.scalar("SELECT city FROM accounts WHERE id = ?", (b,)) == "Austin"
