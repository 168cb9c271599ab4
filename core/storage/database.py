"""Open a FieldAtlas SQLite file safely: checks first, pragmas, migrations with a backup before them."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import uuid
from pathlib import Path
from typing import Iterator

import sqlite_utils

from core.clock import HybridLogicalClock, Timestamp

log = logging.getLogger(__name__)

SQLITE_HEADER = b"SQLite format 3\x00"
DEFAULT_BUSY_TIMEOUT_MS = 5000
QUICK_CHECK_MAX_BYTES = 48 * 1024 * 1024


class DatabaseError(Exception):
    """A database that cannot be opened or written; the message is meant for the user."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class DatabaseMissing(DatabaseError):
    pass


class NotADatabase(DatabaseError):
    pass


class CorruptDatabase(DatabaseError):
    pass


class NewerSchema(DatabaseError):
    pass


class DatabaseLocked(DatabaseError):
    pass


class ReadOnlyLocation(DatabaseError):
    pass


class Store:
    """An open FieldAtlas database: the sqlite-utils handle plus this device's clock."""

    def __init__(self, path: Path, db: sqlite_utils.Database, node_id: str, clock: HybridLogicalClock):
        self.path = path
        self.db = db
        self.node_id = node_id
        self.clock = clock
        self.table_columns: dict[str, tuple[str, ...]] = {}  # filled by writes.columns()

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    @contextlib.contextmanager
    def atomic(self) -> Iterator["Store"]:
        """One transaction (a savepoint when nested); BEGIN IMMEDIATE so writers never deadlock."""
        if self.conn.in_transaction:
            with self.db.atomic():
                yield self
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise _translate(self.path, exc) from exc
        try:
            yield self
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        else:
            try:
                self.conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise _translate(self.path, exc) from exc

    def query(self, sql: str, params=()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def scalar(self, sql: str, params=()):
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _translate(path: Path, exc: sqlite3.Error) -> DatabaseError:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return DatabaseLocked(path, "the database is locked by another program; close it and try again")
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return ReadOnlyLocation(path, "the database or its folder is read-only; choose a writable folder")
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return CorruptDatabase(path, "the database file is damaged; restore a backup (it was not changed)")
    return DatabaseError(path, f"cannot use the database ({exc})")


def _check_file(path: Path, create: bool) -> bool:
    """Look at the file without opening it for writing; return True when it must be initialised."""
    if path.is_dir():
        raise NotADatabase(path, "this is a folder, not a FieldAtlas database file")
    if not path.exists():
        if not create:
            raise DatabaseMissing(path, "no database at this path (use `fieldatlas demo` or create one)")
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.exists():
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ReadOnlyLocation(path, f"cannot create the folder ({exc.strerror})") from exc
        if not os.access(folder, os.W_OK):
            raise ReadOnlyLocation(path, "the folder is read-only; choose a writable folder")
        return True
    if path.stat().st_size == 0:
        if create:
            return True
        raise NotADatabase(path, "the file is empty, not a FieldAtlas database")
    # Never open() the database file here: closing any descriptor of it drops every POSIX lock this
    # process holds on it, SQLite's own included (sqlite.org/howtocorrupt.html, 2.2). Another process
    # (a child solver, the CLI's sync beside the app) could then take the file for unused, checkpoint
    # and reset the WAL under this process's open connections: "file is not a database". SQLite
    # itself reads the header, and holds back closing its descriptors while locks are held.
    try:
        probe = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise _translate(path, exc) from exc
    try:
        probe.execute("PRAGMA schema_version").fetchone()
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc) or "encrypted" in str(exc):
            raise NotADatabase(path, "not a FieldAtlas database (the file is not SQLite)") from None
        raise _translate(path, exc) from exc
    finally:
        probe.close()
    return False


def _quick_check(conn: sqlite3.Connection, path: Path) -> None:
    check = conn.execute("PRAGMA quick_check").fetchone()
    if not check or check[0] != "ok":
        raise CorruptDatabase(path, "the database file is damaged; restore a backup (it was not changed)")


def check_integrity(path: Path | str) -> None:
    """Read every page through a read-only connection; raises CorruptDatabase when damaged."""
    path = Path(path)
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        _quick_check(conn, path)
    except sqlite3.DatabaseError as exc:
        raise _translate(path, exc) from exc
    finally:
        conn.close()


def _inspect_read_only(path: Path, known: list[str], busy_ms: int) -> tuple[bool, list[str]]:
    """Read the schema state through a read-only connection: (is_empty, applied migration names)."""
    from core.storage.migrations import MIGRATION_SET

    uri = f"{path.resolve().as_uri()}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=busy_ms / 1000)
    except sqlite3.Error as exc:
        raise _translate(path, exc) from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
        # quick_check reads every page: fine for a rep's database, seconds for a huge one, where
        # check_integrity() runs in the background instead and damage also surfaces on first read.
        if path.stat().st_size <= QUICK_CHECK_MAX_BYTES:
            _quick_check(conn, path)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            return True, []
        if "_sqlite_migrations" not in tables:
            raise NotADatabase(path, "this SQLite file is not a FieldAtlas database")
        applied = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY id", (MIGRATION_SET,)
            )
        ]
        if not applied:
            raise NotADatabase(path, "this SQLite file is not a FieldAtlas database")
        unknown = [name for name in applied if name not in known]
        if unknown:
            raise NewerSchema(
                path,
                f"the database was written by a newer FieldAtlas (schema step '{unknown[0]}'); "
                "update FieldAtlas to open it",
            )
        return False, applied
    except sqlite3.DatabaseError as exc:
        raise _translate(path, exc) from exc
    finally:
        conn.close()


def remove_database_files(path: Path | str) -> None:
    """Delete a database file with its -wal and -shm companions (for half-made files only)."""
    path = Path(path)
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)


NEW_DATABASE_PAGE_SIZE = 16384


def open_database(
    path: Path | str,
    *,
    create: bool = False,
    migrate: bool = True,
    busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    backup_dir: Path | None = None,
) -> Store:
    """Open (or with create=True make) a database; raise a DatabaseError subclass, leaving the file untouched, when it cannot be used."""
    from core.storage import backup
    from core.storage.migrations import migrations, known_migration_names

    path = Path(path)
    fresh = _check_file(path, create)
    known = known_migration_names()
    applied: list[str] = []
    if not fresh:
        fresh, applied = _inspect_read_only(path, known, busy_timeout_ms)
        if not os.access(path.parent if str(path.parent) else ".", os.W_OK) or not os.access(path, os.W_OK):
            raise ReadOnlyLocation(path, "the database or its folder is read-only; copy it to a writable folder")
    pending = [name for name in known if name not in applied]
    if applied and pending and migrate:
        backup.backup_database(path, backup_dir, reason="pre-migration")
    try:
        conn = sqlite3.connect(str(path), timeout=busy_timeout_ms / 1000, isolation_level=None,
                               check_same_thread=False)
    except sqlite3.Error as exc:
        raise _translate(path, exc) from exc
    try:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        conn.execute("PRAGMA foreign_keys = ON")
        if fresh:
            # 16 KB pages (not 4 KB): an account row and its change-log entry are ~300-600 bytes, and
            # bulk imports and geocoding ran 10-13 % faster in interleaved runs. Set before the first
            # write; existing files keep the size they were made with.
            conn.execute(f"PRAGMA page_size = {NEW_DATABASE_PAGE_SIZE}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise DatabaseError(path, f"cannot switch the database to WAL mode (got {mode})")
        conn.execute("PRAGMA synchronous = FULL")
        # A 64 MB page cache keeps bulk writes (imports, demo) from thrashing the many indexes.
        conn.execute("PRAGMA cache_size = -65536")
        conn.execute("PRAGMA temp_store = MEMORY")
        db = sqlite_utils.Database(conn)
        if migrate and pending:
            migrations.apply(db)
        node_id, last = _node_identity(conn, writable=migrate, path=path)
    except DatabaseError:
        conn.close()
        raise
    except sqlite3.Error as exc:
        conn.close()
        raise _translate(path, exc) from exc
    return Store(path, db, node_id, HybridLogicalClock(node_id, last))


def _file_identity(path: Path) -> str:
    """Which file this is on which disk: a copy of the database (or the same file moved) gets a new one."""
    st = os.stat(path)
    return f"{st.st_dev}:{st.st_ino}"


def _node_identity(conn: sqlite3.Connection, writable: bool, path: Path | None = None) -> tuple[str, Timestamp | None]:
    """This device's node id (made once per database file) and the newest clock reading it wrote.

    A database file copied to a second laptop (or beside the first) would carry the same node id, and
    then sync would take the copy's edits for the original's: the server drops a push whose operation
    ids it has seen ("already applied") and never records a conflict between edits of one node. So
    the file's identity is kept beside the node id, and a file that is not the one the id was made
    in takes a new id for its own edits from now on; the edits it shares with the original were
    already logged under the old id, and the ones not pushed yet move to the new id with it.
    """
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "sync_state" not in tables:
        return uuid.uuid4().hex[:12], None
    row = conn.execute("SELECT value FROM sync_state WHERE key = 'node_id'").fetchone()
    if row:
        node_id = row[0]
    else:
        node_id = uuid.uuid4().hex[:12]
        if writable:
            conn.execute("INSERT INTO sync_state (key, value) VALUES ('node_id', ?)", (node_id,))
    if writable and path is not None:
        node_id = _rekey_a_copy(conn, node_id, _file_identity(path))
    last_text = conn.execute("SELECT max(hlc) FROM change_log").fetchone()[0]
    # Edits pulled from the server are not in this device's change log, yet the clock must stay past
    # them, or an edit made after reopening could lose to an older remote one: sync keeps the newest
    # reading it has seen in sync_state.
    seen = conn.execute("SELECT value FROM sync_state WHERE key = 'hlc_seen'").fetchone()
    if seen and seen[0] and (not last_text or seen[0] > last_text):
        last_text = seen[0]
    return node_id, Timestamp.parse(last_text) if last_text else None


def _rekey_a_copy(conn: sqlite3.Connection, node_id: str, file_id: str) -> str:
    """The node id for this file: the stored one, or a new one when the file is a copy (see _node_identity)."""
    made_in = conn.execute("SELECT value FROM sync_state WHERE key = 'node_file'").fetchone()
    if made_in is not None and made_in[0] == file_id:
        return node_id  # the usual open: no write, so no wait on a long import holding the write lock
    conn.execute("BEGIN IMMEDIATE")  # two processes opening a fresh copy at once agree on one new id
    try:
        stored = conn.execute("SELECT value FROM sync_state WHERE key = 'node_id'").fetchone()
        node_id = stored[0] if stored else node_id
        made_in = conn.execute("SELECT value FROM sync_state WHERE key = 'node_file'").fetchone()
        if made_in is not None and made_in[0] != file_id:
            old, node_id = node_id, uuid.uuid4().hex[:12]
            conn.execute("UPDATE sync_state SET value = ? WHERE key = 'node_id'", (node_id,))
            # An unpushed edit carries the node in its clock reading too ("millis-counter-node"), which
            # the server reads to tell one device's successive edits from two devices' concurrent ones.
            conn.execute("UPDATE change_log SET node_id = ?, hlc = substr(hlc, 1, length(hlc) - length(node_id)) || ? "
                         "WHERE pushed_at IS NULL AND node_id = ?", (node_id, node_id, old))
            log.info("database file %s is a copy (or was moved): node id %s -> %s", file_id, old, node_id)
        if made_in is None:
            conn.execute("INSERT INTO sync_state (key, value) VALUES ('node_file', ?)", (file_id,))
        elif made_in[0] != file_id:
            conn.execute("UPDATE sync_state SET value = ? WHERE key = 'node_file'", (file_id,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return node_id
