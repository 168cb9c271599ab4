"""'N per cycle' travels through sync like any account field: one column, so per-field merging keeps it whole."""

from __future__ import annotations

import time

import pytest

from core import accounts
from core.account_value import read_account
from core.storage import writes

from tests.server.conftest import ADMIN, make_laptop


def _frequency(store, uid):
    return store.scalar("SELECT visit_frequency FROM accounts WHERE uid = ?", (uid,))


@pytest.mark.parametrize("order", ["a_first", "b_first"])
def test_n_per_cycle_syncs_and_a_concurrent_edit_merges_to_one_whole_value(server, tmp_path, order):
    a = make_laptop(tmp_path, "a", server, *ADMIN)
    rep = writes.insert(a.store, "reps", {"name": "Ann Rep", "email": "ann@example.com"})
    a_id, _ = accounts.create_account(a.store, {"name": "Bakery", "owner_id": rep})
    a.sync()
    b = make_laptop(tmp_path, "b", server, *ADMIN)
    b.sync()
    uid = a.store.scalar("SELECT uid FROM accounts WHERE id = ?", (a_id,))
    b_id = b.store.scalar("SELECT id FROM accounts WHERE uid = ?", (uid,))

    accounts.set_field(a.store, a_id, "visit_frequency", "3 per cycle")
    a.sync()
    b.sync()
    assert read_account(b.store, b_id).visits_per_cycle == 3

    # Offline on both: A says 5 per cycle, then B (later) says weekly. Both end with B's whole value.
    accounts.set_field(a.store, a_id, "visit_frequency", "5x per cycle")
    time.sleep(0.002)  # in the same millisecond the two edits would be concurrent (see test_two_laptops)
    accounts.set_field(b.store, b_id, "visit_frequency", "weekly")
    first, second = (a, b) if order == "a_first" else (b, a)
    first.sync()
    second.sync()
    first.sync()
    assert _frequency(a.store, uid) == _frequency(b.store, uid) == "weekly"
