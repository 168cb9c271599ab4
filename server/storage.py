"""The server's database, SQLite or PostgreSQL behind one small interface: transactions and '?' SQL.

Every server process is stateless; all it knows is in this database, so several processes can share
one PostgreSQL. Connections are kept per thread: pulls read on the thread pool's, and pushes go through
one writer thread that group-commits them (_Writer).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlparse

SCHEMA_VERSION = "1"

# {ID} is an auto-numbered primary key in each dialect, {BLOB} a column of bytes. Every statement is
# IF NOT EXISTS: a server started on a database from an older version adds what is new (files, moves).
# moves records each change of a row's owner, with a sequence number like objects and conflicts: a pull
# turns it into a "gone" marker for whoever could read the row before and cannot now.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id {ID},
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('rep', 'manager', 'finance', 'admin')),
    rep_uid TEXT,
    created_at TEXT NOT NULL,
    disabled_at TEXT
);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL,
    revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS login_failures (
    id {ID},
    email TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_email ON login_failures(email, at);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    table_name TEXT NOT NULL,
    row_uid TEXT NOT NULL,
    data TEXT NOT NULL,
    versions TEXT NOT NULL,
    owner TEXT,
    seq BIGINT NOT NULL,
    PRIMARY KEY (table_name, row_uid)
);
CREATE INDEX IF NOT EXISTS objects_seq ON objects(seq);
CREATE TABLE IF NOT EXISTS applied_ops (
    op_id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    result TEXT NOT NULL,
    applied_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS conflicts (
    id {ID},
    seq BIGINT NOT NULL,
    table_name TEXT NOT NULL,
    row_uid TEXT NOT NULL,
    column_name TEXT NOT NULL,
    kept_value TEXT, kept_hlc TEXT,
    lost_value TEXT, lost_hlc TEXT,
    owner TEXT,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS conflicts_seq ON conflicts(seq);
CREATE TABLE IF NOT EXISTS moves (
    id {ID},
    seq BIGINT NOT NULL,
    table_name TEXT NOT NULL,
    row_uid TEXT NOT NULL,
    from_owner TEXT,
    to_owner TEXT,
    moved_by BIGINT,
    moved_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS moves_seq ON moves(seq);
CREATE INDEX IF NOT EXISTS moves_row ON moves(table_name, row_uid);
CREATE TABLE IF NOT EXISTS files (
    sha256 TEXT PRIMARY KEY,
    mime TEXT NOT NULL,
    size BIGINT NOT NULL,
    content {BLOB} NOT NULL,
    uploaded_by BIGINT NOT NULL,
    created_at TEXT NOT NULL
)
"""


class _Writer:
    """The one thread that applies pushes, in group commits.

    A push costs a few milliseconds of work but its durable COMMIT costs an fsync (~10 ms here), so one
    transaction per push caps a server near 100 pushes a second. Instead every push queues here and
    this thread takes all that are waiting, runs each in its own savepoint of one transaction, commits
    once (one fsync), and only then resolves each push's future. A push that raises is rolled back to
    its savepoint alone and gets its own error; if the commit fails, every push of the batch gets that
    error and none was acknowledged.
    """

    MAX_BATCH = 64  # bounds how long the last push of a batch waits for the ones before it

    def __init__(self, store: "ServerStore") -> None:
        self.store = store
        self._queue: list[tuple[Future, Callable[[Tx], Any]]] = []
        self._ready = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="fieldatlas-writer", daemon=True)
        self._thread.start()

    def submit(self, work: Callable[[Tx], Any]) -> Future:
        future: Future = Future()
        with self._ready:
            if self._stopping:
                raise StorageError("the server is stopping")
            self._queue.append((future, work))
            self._ready.notify()
        return future

    def stop(self) -> None:
        with self._ready:
            self._stopping = True
            self._ready.notify()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._stopping:
                    self._ready.wait()
                if not self._queue:
                    return
                batch, self._queue = self._queue[:self.MAX_BATCH], self._queue[self.MAX_BATCH:]
            self._commit(batch)

    def _commit(self, batch: list[tuple[Future, Callable[[Tx], Any]]]) -> None:
        # A future whose request went away before its turn is skipped; once running it cannot be cancelled.
        batch = [(future, work) for future, work in batch if future.set_running_or_notify_cancel()]
        outcomes: list[tuple[bool, Any]] = []
        try:
            with self.store.transaction() as tx:
                for _, work in batch:
                    tx.execute("SAVEPOINT grouped")
                    try:
                        outcomes.append((True, work(tx)))
                    except Exception as exc:
                        tx.execute("ROLLBACK TO SAVEPOINT grouped")
                        outcomes.append((False, exc))
                    tx.execute("RELEASE SAVEPOINT grouped")
        except BaseException as exc:  # the commit itself failed: nobody's work was kept
            for future, _ in batch:
                future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (future, _), (ok, value) in zip(batch, outcomes):
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)


class StorageError(Exception):
    """The server database cannot be used; the message says why."""


class Tx:
    """One open transaction: execute '?'-style SQL, read rows as dicts."""

    def __init__(self, conn: Any, postgres: bool) -> None:
        self._conn = conn
        self._postgres = postgres

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self._postgres else sql

    def execute(self, sql: str, params: tuple | list = ()) -> Any:
        return self._conn.execute(self._sql(sql), params)

    def executemany(self, sql: str, rows: list) -> None:
        if self._postgres:
            with self._conn.cursor() as cur:
                cur.executemany(self._sql(sql), rows)
        else:
            self._conn.executemany(sql, rows)

    def one(self, sql: str, params: tuple | list = ()) -> dict | None:
        row = self.execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def all(self, sql: str, params: tuple | list = ()) -> list[dict]:
        return [dict(r) for r in self.execute(sql, params).fetchall()]

    def next_seq(self, n: int = 1) -> int:
        """Reserve n consecutive sequence numbers; returns the last. The counter row stays locked until
        commit, so sequence numbers become visible in the order they were handed out (a pull by cursor
        can never skip a row that commits late)."""
        row = self.one("UPDATE counters SET value = value + ? WHERE name = 'seq' RETURNING value", (n,))
        return int(row["value"])


class ServerStore:
    """The server's database from a URL: sqlite:///path/file.sqlite or postgresql://user@host/db."""

    def __init__(self, url: str) -> None:
        self.url = url
        parsed = urlparse(url)
        if parsed.scheme == "sqlite":
            self.kind = "sqlite"
            path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else ""
            if not path:
                raise StorageError(f"{url}: a SQLite URL looks like sqlite:///path/to/server.sqlite")
            self.path = Path(path)
        elif parsed.scheme in ("postgresql", "postgres"):
            self.kind = "postgresql"
            self.path = None
        else:
            raise StorageError(f"{url}: the database URL must start with sqlite:/// or postgresql://")
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()
        # SQLite lets one writer in at a time and makes the others poll with growing sleeps (up to
        # 100 ms each), which under load cost more than the writes. Writers of this process queue
        # on a lock instead; other processes still meet SQLite's own lock and busy timeout.
        self._write_lock = threading.Lock()
        self._writer: _Writer | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._writer_lock = threading.Lock()

    # -- connections ---------------------------------------------------------------------------
    def _connect(self) -> Any:
        if self.kind == "sqlite":
            if not self.path.parent.exists():
                raise StorageError(f"{self.url}: the folder {self.path.parent} does not exist")
            conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=30)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode = WAL")
            # An acknowledged push must survive a power cut: FULL syncs the WAL at every commit.
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA busy_timeout = 30000")
            return conn
        import psycopg
        from psycopg.rows import dict_row

        try:
            return psycopg.connect(self.url, row_factory=dict_row, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise StorageError(f"cannot reach PostgreSQL: {str(exc).strip().splitlines()[0]}") from exc

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None or (self.kind == "postgresql" and conn.closed):
            conn = self._connect()
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextlib.contextmanager
    def transaction(self, write: bool = True) -> Iterator[Tx]:
        """One transaction; writers take the write lock at once so they never deadlock."""
        conn = self._conn()
        postgres = self.kind == "postgresql"
        if postgres:
            with conn.transaction():
                yield Tx(conn, True)
            return
        if not write:
            conn.execute("BEGIN")
            try:
                yield Tx(conn, False)
            finally:
                conn.execute("ROLLBACK")  # nothing to keep; ends the read snapshot
            return
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(conn, False)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")

    def submit_write(self, work: Callable[[Tx], Any]) -> "Future[Any]":
        """Queue work(tx) for the writer; the future is resolved only after its transaction is durable."""
        with self._writer_lock:
            if self._writer is None:
                self._writer = _Writer(self)
            return self._writer.submit(work)

    def submit_read(self, work: Callable[[Tx], Any]) -> "Future[Any]":
        """Run work(tx) in a read transaction on one of the reader threads, each with its own connection.

        On SQLite a pull is Python work under the GIL, so two threads (one reading while the other waits on
        the disk) did best in benchmarks/sync_load.py: one made pulls queue, four and the 40 of the thread
        pool made them fight over the GIL. A PostgreSQL read waits on the network, so more help there."""
        with self._writer_lock:
            if self._readers is None:
                self._readers = ThreadPoolExecutor(2 if self.kind == "sqlite" else 8,
                                                   thread_name_prefix="fieldatlas-reader")
            return self._readers.submit(self._read, work)

    def _read(self, work: Callable[[Tx], Any]) -> Any:
        with self.transaction(write=False) as tx:
            return work(tx)

    def write_grouped(self, work: Callable[[Tx], Any]) -> Any:
        """Run work(tx) through the group-committing writer and wait for it (for callers on a thread)."""
        return self.submit_write(work).result()

    def close(self) -> None:
        with self._writer_lock:
            writer, self._writer = self._writer, None
            readers, self._readers = self._readers, None
        if writer is not None:
            writer.stop()
        if readers is not None:
            readers.shutdown(wait=True)
        with self._lock:
            for conn in self._all:
                with contextlib.suppress(Exception):
                    conn.close()
            self._all.clear()
        self._local = threading.local()

    # -- schema --------------------------------------------------------------------------------
    def create_schema(self) -> None:
        ident = "INTEGER PRIMARY KEY" if self.kind == "sqlite" else "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
        with self.transaction() as tx:
            blob = "BLOB" if self.kind == "sqlite" else "BYTEA"
            for statement in _SCHEMA.replace("{ID}", ident).replace("{BLOB}", blob).split(";\n"):
                if statement.strip():
                    tx.execute(statement)
            # Columns newer than a server database made by an older version (portable ALTER TABLE).
            have = {d[0] for d in tx.execute("SELECT * FROM conflicts WHERE 1 = 0").description}
            if "restored_at" not in have:
                tx.execute("ALTER TABLE conflicts ADD COLUMN restored_at TEXT")
            if tx.one("SELECT value FROM counters WHERE name = 'seq'") is None:
                tx.execute("INSERT INTO counters (name, value) VALUES ('seq', 0)")
            if tx.one("SELECT value FROM meta WHERE key = 'schema_version'") is None:
                tx.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,))

    def check_ready(self) -> None:
        """Raise StorageError unless `server init` has set this database up."""
        if self.kind == "sqlite" and not self.path.exists():
            raise StorageError(f"{self.url}: no server database there; run `fieldatlas server init` first")
        try:
            with self.transaction(write=False) as tx:
                row = tx.one("SELECT value FROM meta WHERE key = 'schema_version'")
        except StorageError:
            raise
        except Exception as exc:  # sqlite3 or psycopg: no such table, cannot open
            raise StorageError(f"{self.url} is not a FieldAtlas server database; run "
                               f"`fieldatlas server init --database-url {self.url} ...` first") from exc
        if row is None or row["value"] != SCHEMA_VERSION:
            raise StorageError(f"{self.url}: unknown server schema version {row and row['value']}")
