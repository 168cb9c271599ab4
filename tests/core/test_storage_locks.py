"""Opening a second connection must not drop this process's SQLite locks (another process would then reset the WAL)."""

from __future__ import annotations

import subprocess
import sys

from core.storage import open_database, writes


def test_a_second_open_keeps_the_first_connections_locks_for_other_processes(tmp_path):
    path = tmp_path / "team.sqlite"
    first = open_database(path, create=True)
    try:
        writes.insert(first, "reps", {"name": "Ann Rep", "email": "ann@example.com"})
        assert path.with_name(path.name + "-wal").exists()
        open_database(path).close()  # what every worker does beside the app's connection
        # Another process opens and closes the file. Had this process lost its locks, that process
        # would think it the last user, checkpoint and delete the WAL under our connection.
        subprocess.run([sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                        "c.execute('SELECT count(*) FROM reps').fetchone(); c.close()", str(path)], check=True)
        assert path.with_name(path.name + "-wal").exists(), "the other process reset the WAL under our connection"
        writes.insert(first, "reps", {"name": "Bob Rep", "email": "bob@example.com"})
        assert first.scalar("SELECT count(*) FROM reps") == 2
    finally:
        first.close()
    again = open_database(path)
    try:
        assert again.scalar("SELECT count(*) FROM reps") == 2
    finally:
        again.close()
