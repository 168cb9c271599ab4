"""The one way into a FieldAtlas database file: opening, schema history, backups and logged writes."""

import sys as _sys


def _import_sqlite_utils_without_dataframes() -> None:
    """Import sqlite-utils with pandas and numpy hidden.

    sqlite-utils imports both when installed (OR-Tools brings pandas) only to map their value types,
    which FieldAtlas never passes it; the import costs over a second of every cold start.
    """
    hidden = [name for name in ("pandas", "numpy") if name not in _sys.modules]
    for name in hidden:
        _sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` raise ImportError
    try:
        import sqlite_utils  # noqa: F401
    finally:
        for name in hidden:
            del _sys.modules[name]


if "sqlite_utils" not in _sys.modules:
    _import_sqlite_utils_without_dataframes()

from core.storage.database import (  # noqa: F401
    DatabaseError,
    DatabaseLocked,
    DatabaseMissing,
    CorruptDatabase,
    NewerSchema,
    NotADatabase,
    ReadOnlyLocation,
    Store,
    open_database,
)
