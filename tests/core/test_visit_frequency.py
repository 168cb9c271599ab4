"""'N per cycle' visit frequency: what people type, how it is stored, and the migration that lets the column hold it."""

from __future__ import annotations

import sqlite3

import pytest
import sqlite_utils

from core import accounts, visit_frequency
from core.account_value import read_account
from core.storage import writes
from core.storage.database import open_database
from core.storage.migrations import migrations


@pytest.mark.parametrize("typed, stored", [
    ("3 per cycle", "3/cycle"), ("3x per cycle", "3/cycle"), ("3/cycle", "3/cycle"), ("3 / cycle", "3/cycle"),
    ("3 X Per Cycle", "3/cycle"), ("3 times a cycle", "3/cycle"), ("3 visits per cycle", "3/cycle"),
    ("12 per rotation", "12/cycle"), ("3 per call cycle", "3/cycle"), ("1 per cycle", "1/cycle"),
    ("0 per cycle", "none"), ("Every 2 weeks", "biweekly"), ("Fortnightly", "biweekly"), ("monthly", "monthly"),
])
def test_typed_frequencies_are_read(typed, stored):
    assert accounts.parse_frequency(typed) == stored


@pytest.mark.parametrize("typed, reason", [
    ("100 per cycle", "visits per cycle must be 1 to 99"),
    ("three per cycle", "N per cycle (e.g. 3 per cycle)"),
    ("every 3 days", "must be weekly, every 2 weeks, monthly, quarterly, N per cycle"),
])
def test_unreadable_frequencies_say_why(typed, reason):
    with pytest.raises(ValueError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        accounts.parse_frequency(typed)


def test_figures_for_n_per_cycle():
    assert visit_frequency.label("3/cycle") == "3 per cycle" and visit_frequency.label("biweekly") == "Every 2 weeks"
    assert visit_frequency.visits_per_year("3/cycle") == 39          # 3 per 4-week cycle
    assert visit_frequency.interval_days("2/cycle") == 14
    assert visit_frequency.visits_in_cycle("6/cycle", 4) == 6 and visit_frequency.visits_in_cycle("weekly", 4) == 4
    assert accounts.validate({"visit_frequency": "3/cycle"}) == []
    bad = accounts.validate({"visit_frequency": "3 per cycle"})   # stored form only
    assert bad and "N/cycle" in bad[0].reason


def test_set_field_writes_n_per_cycle_and_logs_it(demo_store):
    changes, old = accounts.set_field(demo_store, 3, "visit_frequency", "4x per cycle")
    a = read_account(demo_store, 3)
    assert (a.visit_frequency, a.visits_per_cycle, a.visits_per_year) == ("4/cycle", 4, 52)
    logged = demo_store.conn.execute("SELECT row_id, op, value FROM change_log WHERE table_name = 'accounts' "
                                     "ORDER BY seq DESC LIMIT 1").fetchone()
    assert tuple(logged) == (3, "update", '{"visit_frequency":"4/cycle"}')


def test_m0009_rebuilds_accounts_keeping_rows_indexes_and_references(tmp_path):
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    db = sqlite_utils.Database(conn)
    migrations.apply(db, stop_before="m0009_account_visit_fields")
    now = "2026-11-01T00:00:00Z"
    conn.execute("INSERT INTO reps (uid, created_at, updated_at, name) VALUES ('r1', ?, ?, 'Dana')", (now, now))
    conn.execute("INSERT INTO accounts (uid, created_at, updated_at, name, owner_id, visit_frequency, fit_score) "
                 "VALUES ('a1', ?, ?, 'Feed Store', 1, 'weekly', 7)", (now, now))
    conn.execute("INSERT INTO visits (uid, created_at, updated_at, account_id, rep_id, status) "
                 "VALUES ('v1', ?, ?, 1, 1, 'planned')", (now, now))
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE accounts SET visit_frequency = '3/cycle'")
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'accounts'")}
    conn.close()

    store = open_database(path, backup_dir=tmp_path / "backups")
    try:
        assert "m0009_account_visit_fields" in [m.name for m in migrations.applied(store.db)]
        after = {r[0] for r in store.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'accounts'")}
        assert after == indexes and "accounts_live_by_name" in after
        assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        row = store.conn.execute("SELECT name, fit_score, visit_frequency FROM accounts WHERE id = 1").fetchone()
        assert tuple(row) == ("Feed Store", 7, "weekly")   # a column m0008 added survives the rebuild
        writes.update(store, "accounts", 1, {"visit_frequency": "3/cycle"})
        for bad in ("0/cycle", "100/cycle", "3 per cycle", "per_cycle"):
            with pytest.raises(sqlite3.IntegrityError):
                store.conn.execute("UPDATE accounts SET visit_frequency = ? WHERE id = 1", (bad,))
        with pytest.raises(sqlite3.IntegrityError):   # references into accounts are still enforced
            store.conn.execute("INSERT INTO visits (uid, created_at, updated_at, account_id, rep_id, status) "
                               "VALUES ('v2', ?, ?, 99, 1, 'planned')", (now, now))
    finally:
        store.close()
