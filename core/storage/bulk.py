"""Loading many rows at once: a table's plain indexes are rebuilt once at the end instead of row by row."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from core.storage.database import Store


def plain_indexes(store: Store, table: str) -> list[tuple[str, str]]:
    """(name, CREATE INDEX sql) of the table's indexes that enforce nothing (not UNIQUE, not automatic)."""
    # Automatic indexes have no sql; unique ones check every row as it goes in and answer lookups
    # during the load, so they stay.
    return [(r[0], r[1]) for r in store.conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL "
        "AND upper(sql) NOT LIKE 'CREATE UNIQUE%'", (table,))]


@contextmanager
def indexes_rebuilt_after(store: Store, table: str) -> Iterator[None]:
    """Inside a transaction: drop the table's plain indexes, and create them again when the block ends.

    SQLite builds an index over 100,000 rows in one sorted pass faster than it maintains it across
    100,000 inserts. Schema changes are transactional: a rollback puts the indexes back as they were.
    """
    if not store.conn.in_transaction:
        raise RuntimeError("indexes_rebuilt_after() must run inside store.atomic()")
    dropped = plain_indexes(store, table)
    for name, _ in dropped:
        store.conn.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        # Also on the way out of a failure: a caller that catches it and commits anyway must not
        # commit the table without its indexes.
        if store.conn.in_transaction:
            for _, sql in dropped:
                store.conn.execute(sql.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
