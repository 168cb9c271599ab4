"""Opening databases safely: fresh and upgraded schemas, pragmas, and every kind of bad file left untouched."""

from __future__ import annotations

import hashlib
import os
import sqlite3

import pytest

from core.storage import (
    CorruptDatabase, DatabaseLocked, DatabaseMissing, NewerSchema, NotADatabase, ReadOnlyLocation, open_database,
)
from core.storage import migrations as mig
from core.storage.backup import list_backups


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_fresh_database_has_every_table_and_records_its_migrations(tmp_path):
    store = open_database(tmp_path / "new.sqlite", create=True)
    tables = {r[0] for r in store.query("SELECT name FROM sqlite_master WHERE type='table'")}
    for table in ("reps", "accounts", "territories", "assignments", "visits", "routes", "route_stops", "trips",
                  "rate_tables", "expenses", "expense_reports", "attachments", "leads", "lead_queues", "goals",
                  "scenarios", "change_log", "sync_state", "conflicts"):
        assert table in tables
    # In the order applied (rowid): the primary-key index would list them by name, and m0004 came late.
    applied = [r[0] for r in store.query(
        "SELECT name FROM _sqlite_migrations WHERE migration_set = 'fieldatlas' ORDER BY rowid")]
    assert applied == mig.known_migration_names()
    cols = {r[1] for r in store.query("PRAGMA table_info(accounts)")}
    assert {"id", "external_id", "name", "lat", "lon", "owner_id", "deleted_at"} <= cols
    store.close()


def test_pragmas_are_set(tmp_path):
    store = open_database(tmp_path / "p.sqlite", create=True, busy_timeout_ms=1234)
    assert store.scalar("PRAGMA journal_mode") == "wal"
    assert store.scalar("PRAGMA synchronous") == 2  # FULL
    assert store.scalar("PRAGMA foreign_keys") == 1
    assert store.scalar("PRAGMA busy_timeout") == 1234
    store.close()


def test_missing_database_is_not_created_unless_asked(tmp_path):
    with pytest.raises(DatabaseMissing):
        open_database(tmp_path / "nope.sqlite")
    assert not (tmp_path / "nope.sqlite").exists()


def test_upgrade_applies_new_migrations_after_a_backup(tmp_path, monkeypatch):
    path = tmp_path / "old.sqlite"
    store = open_database(path, create=True)
    store.close()

    def m9999_test_add_column(db):
        db.conn.execute("ALTER TABLE accounts ADD COLUMN test_flag INTEGER")

    monkeypatch.setattr(mig.migrations, "_migrations", list(mig.migrations._migrations))
    mig.migrations(name="m9999_test_add_column")(m9999_test_add_column)
    store = open_database(path)
    assert "test_flag" in {r[1] for r in store.query("PRAGMA table_info(accounts)")}
    store.close()
    backups = list_backups(path)
    assert len(backups) == 1 and "pre-migration" in backups[0].name
    old = sqlite3.connect(backups[0])
    assert "test_flag" not in {r[1] for r in old.execute("PRAGMA table_info(accounts)")}
    old.close()


def test_failed_migration_rolls_back_and_leaves_it_pending(tmp_path, monkeypatch):
    path = tmp_path / "old.sqlite"
    open_database(path, create=True).close()

    def m9998_broken(db):
        db.conn.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    monkeypatch.setattr(mig.migrations, "_migrations", list(mig.migrations._migrations))
    mig.migrations(name="m9998_broken")(m9998_broken)
    with pytest.raises(RuntimeError):
        open_database(path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM _sqlite_migrations WHERE name = 'm9998_broken'").fetchone()[0] == 0
    conn.close()


def test_newer_schema_is_refused_and_untouched(tmp_path):
    path = tmp_path / "newer.sqlite"
    store = open_database(path, create=True)
    store.conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                       "VALUES ('fieldatlas', 'm9999_from_the_future', 'x')")
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    before = digest(path)
    with pytest.raises(NewerSchema, match="newer FieldAtlas"):
        open_database(path)
    assert digest(path) == before


@pytest.mark.parametrize("content", [b"", b"hello, I am a spreadsheet", b"\x00\x01\x02" * 500])
def test_non_sqlite_files_are_refused_and_untouched(tmp_path, content):
    path = tmp_path / "thing.sqlite"
    path.write_bytes(content)
    with pytest.raises(NotADatabase):
        open_database(path)
    assert path.read_bytes() == content


def test_corrupt_database_is_refused_and_untouched(tmp_path, demo_db):
    data = bytearray(demo_db.read_bytes())
    # Keep the header, smash pages in the middle.
    for i in range(4096 * 3, min(len(data), 4096 * 40)):
        data[i] = (i * 7) % 251
    demo_db.write_bytes(bytes(data))
    before = digest(demo_db)
    with pytest.raises((CorruptDatabase, NotADatabase)):
        open_database(demo_db)
    assert digest(demo_db) == before


def test_foreign_sqlite_file_is_not_taken_over(tmp_path):
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (id INTEGER)")
    conn.commit()
    conn.close()
    before = digest(path)
    with pytest.raises(NotADatabase, match="not a FieldAtlas database"):
        open_database(path)
    assert digest(path) == before


def test_locked_database_gives_a_clear_error(tmp_path):
    path = tmp_path / "locked.sqlite"
    open_database(path, create=True).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=DELETE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseLocked, match="locked"):
            open_database(path, busy_timeout_ms=100)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_read_only_folder_gives_a_clear_error(tmp_path, monkeypatch):
    path = tmp_path / "ro.sqlite"
    open_database(path, create=True).close()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if mode == os.W_OK else real_access(p, mode))
    with pytest.raises(ReadOnlyLocation, match="read-only"):
        open_database(path)
    with pytest.raises(ReadOnlyLocation):
        open_database(tmp_path / "new.sqlite", create=True)
    assert not (tmp_path / "new.sqlite").exists()


def test_writes_to_a_locked_database_raise_database_locked(tmp_path):
    path = tmp_path / "busy.sqlite"
    store = open_database(path, create=True, busy_timeout_ms=100)
    other = open_database(path, busy_timeout_ms=100)
    with other.atomic():
        with pytest.raises(DatabaseLocked):
            with store.atomic():
                pass
    store.close()
    other.close()
